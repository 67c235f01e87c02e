"""One echo session on a loop the test process cannot run: ``uvloop`` or ``twisted``.

Run as ``python -W error -m tests.runtime.loop_scenario uvloop|twisted``
(see test_loops.py); prints ``scenario ok on <loop>`` or fails loudly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

MiB = 1024 * 1024


def behaviours(
    sleep: Callable[[float], Any], done: Callable[[str, Any], None]
) -> tuple[type, type]:
    """Server and client mixins; ``done(name, value)`` reports results."""

    class Server:
        async def onConnect(self, request: Any) -> str | None:
            await sleep(0.001)
            return "chat" if "chat" in request.protocols else None

        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            await sleep(0.001)
            self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            done("server closed", (wasClean, code, reason))

    class Client:
        received: list[tuple[bytes, bool]]

        def onOpen(self) -> None:
            self.received = []
            self.sendMessage("text ✓".encode())  # type: ignore[attr-defined]
            self.sendMessage(b"\x00" * (2 * MiB), True)  # type: ignore[attr-defined]
            self.sendMessage(b"", False)  # type: ignore[attr-defined]

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.received.append((payload, isBinary))
            if len(self.received) == 3:
                self.sendPing(b"ping")  # type: ignore[attr-defined]

        def onPong(self, payload: bytes) -> None:
            done("pong", payload)
            self.sendClose(4000, "done")  # type: ignore[attr-defined]

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            done("client closed", (wasClean, code, reason, self.received))

    return Server, Client


def check(results: dict[str, Any], protocol: str | None) -> None:
    expected = [("text ✓".encode(), False), (b"\x00" * (2 * MiB), True), (b"", False)]
    if results["pong"] != b"ping":
        raise AssertionError(results)
    if results["client closed"] != (True, 1000, None, expected):
        raise AssertionError(results["client closed"][:3])
    if results["server closed"] != (True, 4000, "done"):
        raise AssertionError(results["server closed"])
    if protocol != "chat":
        raise AssertionError(protocol)


def run_uvloop() -> None:
    import asyncio

    import uvloop

    from wsproto_cb.asyncio import (
        WebSocketClientFactory,
        WebSocketClientProtocol,
        WebSocketServerFactory,
        WebSocketServerProtocol,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if type(loop).__module__.split(".")[0] != "uvloop":
            raise AssertionError(f"not on uvloop: {loop!r}")
        results: dict[str, Any] = {}
        finished = loop.create_future()

        def done(name: str, value: Any) -> None:
            results[name] = value
            if {"client closed", "server closed"} <= results.keys() and not finished.done():
                finished.set_result(None)

        Server, Client = behaviours(asyncio.sleep, done)
        server_factory = WebSocketServerFactory(protocols=["chat"])
        server_factory.protocol = type("S", (Server, WebSocketServerProtocol), {})
        server = await loop.create_server(server_factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client_factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/", protocols=["chat"])
        client_factory.protocol = type("C", (Client, WebSocketClientProtocol), {})
        _transport, proto = await loop.create_connection(client_factory, "127.0.0.1", port)
        await asyncio.wait_for(finished, 10)
        await asyncio.wait_for(proto.is_closed, 10)
        server.close()
        await server.wait_closed()
        check(results, proto.websocket_protocol_in_use)
        await burst_past_a_full_socket()

    async def burst_past_a_full_socket() -> None:
        """Many writes in one turn, most queued behind a full socket, arrive in order;
        uvloop's plain transports take the direct send (wsproto_cb.asyncio._direct)."""
        import socket
        import struct

        from wsproto_cb.core import speedups

        count, direct, buffered_reads = 3000, [], []

        class Burst(WebSocketServerProtocol):
            def buffer_updated(self, nbytes: int) -> None:
                buffered_reads.append(nbytes)  # (uvloop reads plain: never called)
                super().buffer_updated(nbytes)

            def onMessage(self, payload: bytes, isBinary: bool) -> None:
                direct.append(self._rt.sends_directly)
                sock = self.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
                for i in range(count):
                    self.sendMessage(struct.pack("!I", i) + b"x" * ((i * 37) % 3000), True)
                if not self.transport.get_write_buffer_size():
                    raise AssertionError("the burst never filled the socket")

        class Reader(WebSocketClientProtocol):
            def onOpen(self) -> None:
                self.numbers: list[int] = []
                self.sendMessage(b"go")

            def onMessage(self, payload: bytes, isBinary: bool) -> None:
                self.numbers.append(struct.unpack("!I", payload[:4])[0])
                if len(self.numbers) == count:
                    self.sendClose(1000)

        loop = asyncio.get_running_loop()
        server_factory = WebSocketServerFactory()
        server_factory.protocol = Burst
        server = await loop.create_server(server_factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client_factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/")
        client_factory.protocol = Reader
        _transport, proto = await loop.create_connection(client_factory, "127.0.0.1", port)
        await asyncio.wait_for(proto.is_closed, 20)
        server.close()
        await server.wait_closed()
        if proto.numbers != list(range(count)):
            raise AssertionError(f"{len(proto.numbers)} messages, out of order or missing")
        if buffered_reads:
            raise AssertionError("uvloop read through buffer_updated, not data_received")
        try:
            import wsproto_cb._sendnow  # noqa: F401
        except ImportError:
            return
        if direct != [not speedups.DISABLED]:
            raise AssertionError(f"direct send on uvloop: {direct}")

    runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    with runner:
        runner.run(main())


def run_twisted() -> None:
    from twisted.internet import defer, task
    from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint

    async def main(reactor: Any) -> None:
        if "asyncio" in type(reactor).__module__:
            raise AssertionError("expected Twisted's default reactor")
        from wsproto_cb.twisted import (
            WebSocketClientFactory,
            WebSocketClientProtocol,
            WebSocketServerFactory,
            WebSocketServerProtocol,
        )

        results: dict[str, Any] = {}
        finished: defer.Deferred[None] = defer.Deferred()

        def done(name: str, value: Any) -> None:
            results[name] = value
            if {"client closed", "server closed"} <= results.keys() and not finished.called:
                finished.callback(None)

        def sleep(delay: float) -> defer.Deferred[None]:
            return task.deferLater(reactor, delay, lambda: None)

        Server, Client = behaviours(sleep, done)
        server_factory = WebSocketServerFactory(protocols=["chat"])
        server_factory.protocol = type("S", (Server, WebSocketServerProtocol), {})
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(server_factory)
        number = port.getHost().port
        client_factory = WebSocketClientFactory(f"ws://127.0.0.1:{number}/", protocols=["chat"])
        client_factory.protocol = type("C", (Client, WebSocketClientProtocol), {})
        proto = await TCP4ClientEndpoint(reactor, "127.0.0.1", number).connect(client_factory)
        await finished.addTimeout(10, reactor)
        await proto.is_closed
        await port.stopListening()
        check(results, proto.websocket_protocol_in_use)

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))


if __name__ == "__main__":
    which = sys.argv[1]
    if which == "uvloop":
        run_uvloop()
    elif which == "twisted":
        try:
            run_twisted()
        except SystemExit as exc:
            if exc.code:
                raise
    else:
        raise SystemExit(f"unknown loop {which!r}")
    print(f"scenario ok on {which}")
