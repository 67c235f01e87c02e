"""The server processes: ours on asyncio or Twisted (optionally on a Redis backplane), the peers.

    python -m benchmarks.fanout.servers {ours-asyncio,ours-twisted,websockets,autobahn-twisted}
        [--redis URL --prefix PREFIX]

Each binds 127.0.0.1 on a free port, prints ``READY <port>`` and then takes
commands on stdin, one a line:

- ``send MODE START COUNT``: send messages START..START+COUNT-1 to every
  connection, one per event-loop turn, with the sender MODE (``broadcast``
  or, for ours, ``loop``: ``sendMessage`` on every member);
- ``status``: answer ``status conns=N ...`` with the connection count and
  what was dropped or missed (broadcast queue, backplane gaps);
- ``quit``, or stdin closed: exit at once.

The driver reads their CPU time from /proc.  No pings and no compression,
so that the clients' byte counts hold exactly the messages of a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from benchmarks.e2e.procstat import raise_nofile

from .messages import HOST, StdinLines, TwistedStdin, payload, reply

Sender = Callable[[bytes], object]
Schedule = Callable[[Callable[[], None]], object]  # loop.call_soon, reactor.callLater(0, ...)


class Node:
    """A server's control side: commands on stdin, one message per event-loop turn.

    ``send MODE START COUNT`` queues messages START..START+COUNT-1 for the
    sender MODE; a queue (not one chain per command) keeps the order when
    the driver sends the next burst before this one is out.
    """

    def __init__(
        self,
        senders: dict[str, Sender],
        schedule: Schedule,
        status: Callable[[], dict[str, object]],
    ) -> None:
        self.senders = senders
        self.schedule = schedule
        self.status = status
        self.pending: deque[tuple[Sender, int]] = deque()
        self._stdin = StdinLines()

    def stdin_readable(self) -> None:
        for line in self._stdin.read():
            self.command(line.decode().split())

    def command(self, words: list[str]) -> None:
        if words[0] == "send":
            send, start, count = self.senders[words[1]], int(words[2]), int(words[3])
            idle = not self.pending
            self.pending.extend((send, k) for k in range(start, start + count))
            if idle:
                self.schedule(self.step)
        elif words[0] == "status":
            reply("status " + " ".join(f"{k}={v}" for k, v in self.status().items()))
        elif words[0] == "quit":
            os._exit(0)
        else:
            reply(f"error unknown command {words!r}")

    def step(self) -> None:
        send, k = self.pending.popleft()
        send(payload(k))
        if self.pending:
            self.schedule(self.step)


def member_protocol(protocol_cls: Any) -> tuple[Any, set[Any]]:
    """A subclass of ``protocol_cls`` that keeps its open connections in the returned set."""
    members: set[Any] = set()

    class Member(protocol_cls):  # type: ignore[misc]
        def onOpen(self) -> None:
            members.add(self)

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            members.discard(self)

    return Member, members


def our_node(
    factory_cls: Any, protocol_cls: Any, redis: str | None, prefix: str
) -> tuple[Any, Callable[[Schedule], Node]]:
    """Our factory on either runtime, and how to make the Node that drives it."""
    factory = factory_cls()
    factory.protocol, members = member_protocol(protocol_cls)
    factory.setProtocolOptions(autoPingInterval=0)  # no pings in the counted byte stream
    if redis is not None:
        from wsproto_cb.backplane import RedisBackplane

        factory.setBackplane(RedisBackplane(redis, channelPrefix=prefix))

    def loop(data: bytes) -> None:
        for proto in members:
            proto.sendMessage(data)

    def status() -> dict[str, object]:
        backplane = factory.backplane
        stats = getattr(backplane, "stats", None)
        return {
            "conns": len(members),
            "dropped": sum(p.broadcastDropped for p in members),
            "backplane": int(getattr(backplane, "connected", True)),
            "received": stats.received if stats else 0,
            "gaps": stats.gaps if stats else 0,
            "publish_dropped": stats.publish_dropped if stats else 0,
        }

    def make(schedule: Schedule) -> Node:
        return Node({"broadcast": factory.broadcast, "loop": loop}, schedule, status)

    return factory, make


def serve_asyncio(kind: str, redis: str | None, prefix: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "websockets":
            import websockets
            from websockets.asyncio.server import ServerConnection, serve

            members: set[ServerConnection] = set()

            async def handler(ws: ServerConnection) -> None:
                members.add(ws)
                try:
                    await ws.wait_closed()
                finally:
                    members.discard(ws)

            server = await serve(handler, HOST, 0, compression=None, ping_interval=None)
            port = next(iter(server.sockets)).getsockname()[1]

            def broadcast(data: bytes) -> None:
                websockets.broadcast(members, data.decode())  # str: a text frame

            node = Node({"broadcast": broadcast}, loop.call_soon, lambda: {"conns": len(members)})
        else:
            from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol

            factory, make = our_node(WebSocketServerFactory, WebSocketServerProtocol, redis, prefix)
            ours = await loop.create_server(factory, HOST, 0)
            port = ours.sockets[0].getsockname()[1]
            node = make(loop.call_soon)
        loop.add_reader(0, node.stdin_readable)
        reply(f"READY {port}")
        await loop.create_future()  # until "quit" (os._exit)

    asyncio.run(main())


def autobahn_node() -> tuple[Any, Callable[[Schedule], Node]]:
    """Autobahn|Python on Twisted, broadcasting as its docs advise: prepareMessage once,
    sendPreparedMessage to every member (the peer for our Twisted side)."""
    from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

    factory = WebSocketServerFactory()  # type: ignore[no-untyped-call]
    factory.protocol, members = member_protocol(WebSocketServerProtocol)

    def broadcast(data: bytes) -> None:
        prepared = factory.prepareMessage(data)
        for proto in members:
            proto.sendPreparedMessage(prepared)

    def make(schedule: Schedule) -> Node:
        return Node({"broadcast": broadcast}, schedule, lambda: {"conns": len(members)})

    return factory, make


def serve_twisted(kind: str, redis: str | None, prefix: str) -> None:
    from twisted.internet import epollreactor

    epollreactor.install()  # type: ignore[no-untyped-call]
    from twisted.internet import reactor as installed

    reactor: Any = installed
    if kind == "autobahn-twisted":
        factory, make = autobahn_node()
    else:
        from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol

        factory, make = our_node(WebSocketServerFactory, WebSocketServerProtocol, redis, prefix)
    port = reactor.listenTCP(0, factory, interface=HOST)
    node = make(lambda fn: reactor.callLater(0, fn))
    reactor.addReader(TwistedStdin(node))
    reactor.callWhenRunning(reply, f"READY {port.getHost().port}")
    reactor.run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout.servers")
    p.add_argument(
        "kind", choices=["ours-asyncio", "ours-twisted", "websockets", "autobahn-twisted"]
    )
    p.add_argument("--redis")
    p.add_argument("--prefix", default="wsproto_cb:")
    a = p.parse_args(argv)
    raise_nofile(20000)
    if a.kind in ("ours-twisted", "autobahn-twisted"):
        serve_twisted(a.kind, a.redis, a.prefix)
    else:
        serve_asyncio(a.kind, a.redis, a.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
