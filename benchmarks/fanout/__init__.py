"""Broadcast fan-out: messages delivered per second to many connections, and across Redis.

Usage, from the repository root::

    python -m benchmarks.fanout                # 1,000 connections, 5 repetitions (~3-4 min)
    python -m benchmarks.fanout --quick        # 200 connections, 1 repetition (seconds)
    python -m benchmarks.fanout --clients 1000 --messages 200 --repeat 5 --json out.json

One measurement: a server process sends ``--messages`` text messages of
150 bytes, one per event-loop turn, to every client connection; the figure
is *deliveries/s* = messages x recipients / time from the first send
command to the moment the last client has the last message.  Implementations:

- ``ours-asyncio``/``ours-twisted`` ``broadcast``: ``factory.broadcast(payload)``
  (the frame built once, the same bytes written to every connection);
- ``ours-asyncio``/``ours-twisted`` ``sendMessage loop``: ``for p in members:
  p.sendMessage(payload)``, what an application writes without broadcast;
- ``websockets.broadcast``: ``websockets.broadcast(connections, text)`` on
  its asyncio server;
- ``autobahn-twisted prepared``: Autobahn|Python's Twisted server, broadcasting
  as its documentation advises (``factory.prepareMessage`` once, then
  ``sendPreparedMessage`` to every member): the peer for our Twisted side;
- two nodes through Redis: two of our server processes with a
  ``RedisBackplane`` on one real redis-server, half the clients on each; node 1
  calls ``factory.broadcast``, node 2 gets each message from Redis and
  broadcasts it to its own half.  Once with two asyncio nodes, once with an
  asyncio publisher and a Twisted receiver.

Modules: ``messages`` (the messages of a run, the line protocol's reply),
``servers`` and ``clients`` (the helper processes, each run as
``python -m benchmarks.fanout.servers|clients``), ``processes`` (starting,
talking to and stopping them), ``driver`` (cases, pacing, one measurement),
``report`` (medians, ratios, tables) and ``__main__`` (the command line).
"""
