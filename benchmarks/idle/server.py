"""The server process: a wsproto_cb echo server on asyncio or Twisted that reports its memory.

    python -m benchmarks.idle.server {asyncio,twisted} [--compress] [--autoping SECONDS]

Binds 127.0.0.1 on a free port (listen backlog 4096), prints ``READY
<port>``, then answers commands on stdin, one a line: ``status`` (``status
rss=BYTES conns=N open=N``: resident memory from /proc, connections held and
open) and ``quit`` (or stdin closed: exit at once, without closing the
connections one by one).  Options as in the e2e servers: no pings unless
``--autoping``, permessage-deflate accepted with the library's defaults
when ``--compress``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Any

from benchmarks.e2e.procstat import raise_nofile, rss_bytes
from benchmarks.fanout.messages import HOST, StdinLines, TwistedStdin, reply

BACKLOG = 4096


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from wsproto_cb.compress import accept_deflate_offer

    return {
        "autoPingInterval": args.autoping,
        "perMessageCompressionAccept": accept_deflate_offer if args.compress else None,
    }


class Control:
    """The driver's commands on stdin, for either runtime."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.lines = StdinLines()

    def stdin_readable(self) -> None:
        for line in self.lines.read():
            command = line.decode().strip()
            if command == "status":
                gc.collect()  # (what the collector would free anyway is not a connection's)
                factory = self.factory
                reply(
                    f"status rss={rss_bytes(os.getpid())} conns={factory.countConnections}"
                    f" open={len(factory._open_connections)}"
                )
            elif command == "quit":
                os._exit(0)
            elif command:
                reply(f"error unknown command {command!r}")


def run_asyncio(args: argparse.Namespace) -> None:
    import asyncio

    from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol

    class Echo(WebSocketServerProtocol):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.sendMessage(payload, isBinary)

    async def main() -> None:
        factory = WebSocketServerFactory()
        factory.protocol = Echo
        factory.setProtocolOptions(**_options(args))
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, HOST, 0, backlog=BACKLOG)
        control = Control(factory)
        loop.add_reader(0, control.stdin_readable)
        reply(f"READY {server.sockets[0].getsockname()[1]}")
        await asyncio.Event().wait()  # until quit (os._exit)

    asyncio.run(main())


def run_twisted(args: argparse.Namespace) -> None:
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor

    from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol

    class Echo(WebSocketServerProtocol):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.sendMessage(payload, isBinary)

    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(**_options(args))
    port = reactor.listenTCP(0, factory, backlog=BACKLOG, interface=HOST)  # type: ignore[attr-defined]
    reactor.addReader(TwistedStdin(Control(factory)))  # type: ignore[attr-defined]
    reactor.callWhenRunning(reply, f"READY {port.getHost().port}")  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtime", choices=["asyncio", "twisted"])
    parser.add_argument("--compress", action="store_true")
    parser.add_argument("--autoping", type=float, default=0.0)
    args = parser.parse_args()
    raise_nofile(1 << 20)
    if args.runtime == "asyncio":
        run_asyncio(args)
    else:
        run_twisted(args)
    sys.exit(0)


if __name__ == "__main__":
    main()
