"""The Redis backplane's receive path: CPU per received message, against redis-py's asyncio client.

Usage, from the repository root::

    python -m benchmarks.backplane           # 200,000 messages, 50k and 100k msg/s, 1 and 4 subs
    python -m benchmarks.backplane --quick   # 20,000 messages at 100k msg/s, 1 repetition
    python -m benchmarks.backplane --rate 0 --subscribers 4 --json out.json
    python -m benchmarks.backplane.layers    # in one process, no sockets: layer by layer

One measurement: a publisher process PUBLISHes ``--messages`` envelopes of
ours (group ``bench``, sequence 1..N, a 150-byte text payload) to one
channel on a real redis-server, pipelined raw RESP in batches, at
``--rate`` msgs/s (0: as fast as Redis takes them), while 1 or 4
subscriber processes of one kind receive them at once:

- ``ours-asyncio``: a real ``wsproto_cb.asyncio.WebSocketServerFactory``
  with a ``RedisBackplane`` (hiredis' reader), subscribed to the group;
- ``ours-asyncio-purepy``: the same with ``WSPROTO_CB_NO_HIREDIS=1``;
- ``ours-twisted``: the Twisted factory, epoll reactor, hiredis;
- ``redis-py``: redis-py's asyncio PubSub, each message decoded with our
  ``decode_envelope`` and order-checked with our ``SequenceTracker``.

The figure is the subscriber process's CPU time (user + system, from
/proc) per message received, and whether it kept up: every message, in
order, exactly once, the last one shortly after the last PUBLISH; Redis
cutting a subscriber off for its output buffer is reported as such (and
cross-checked against redis-server's log), anything else missing fails
the run.

Modules: ``messages`` (what is published and checked), ``publisher`` and
``subscribers`` (the processes, run as ``python -m
benchmarks.backplane.publisher|subscribers``), ``driver`` (one
measurement, the repetitions), ``report`` (medians, ratios, tables),
``layers`` (the in-process breakdown) and ``__main__`` (the command line).
"""
