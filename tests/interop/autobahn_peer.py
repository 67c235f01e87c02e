"""An Autobahn|Python peer in its own process, driven over stdin/stdout.

Run as ``python autobahn_peer.py asyncio|twisted``.  Autobahn chooses its
framework process-wide (txaio), so each flavour gets a process of its own.

On start it serves two echo servers on 127.0.0.1 and prints
``{"event": "listening", "port": N, "strict_port": M}``.  Both echo every
message, except a text message ``close:CODE:REASON``, which they answer by
closing with that code and reason.  Both accept any permessage-deflate
offer; the second demands no context takeover and 9-bit windows.

Each stdin line is a command (JSON)::

    {"cmd": "connect", "tag": "t1", "port": 9000, "compress": true,
     "messages": [spec, ...], "close": [4001, "bye"] or null}

The client connects to ``ws://127.0.0.1:PORT/TAG``, offers compression
with ``PerMessageDeflateOffer(**command["offer"])`` if ``compress``, sends
each message and waits for its echo, then closes with ``close`` if given.
A message ``spec`` is ``{"text": str}``, ``{"gen": "text", "size": N}``,
``{"gen": "random", "size": N, "seed": S}``, ``{"gen": "random2", ...}``
(that random block twice) or ``{"gen": "bytes256"}``; ``"echo": false``
sends it without waiting for an echo.
Every event goes to stdout as one JSON line with ``role``, ``tag`` and
``event`` (``open``, ``echo``, ``close``).  EOF on stdin ends the process.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from typing import Any

from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponseAccept,
)

FRAMEWORK = sys.argv[1] if len(sys.argv) > 1 else "asyncio"

if FRAMEWORK == "twisted":
    from autobahn.twisted.websocket import (
        WebSocketClientFactory,
        WebSocketClientProtocol,
        WebSocketServerFactory,
        WebSocketServerProtocol,
    )
else:
    from autobahn.asyncio.websocket import (  # type: ignore[assignment]
        WebSocketClientFactory,
        WebSocketClientProtocol,
        WebSocketServerFactory,
        WebSocketServerProtocol,
    )

TEXT_UNIT = "The quick brown fox jumps over the lazy dog. "


def generate(spec: dict[str, Any]) -> tuple[bytes, bool]:
    """A message from its spec (the tests generate the same bytes)."""
    if "text" in spec:
        return spec["text"].encode("utf-8"), False
    size = int(spec["size"])
    if spec["gen"] == "bytes256":
        return bytes(range(256)), True
    if spec["gen"] == "random2":  # a random block twice: a match ``size`` bytes back
        return random.Random(spec["seed"]).randbytes(spec["size"]) * 2, True
    if spec["gen"] == "text":
        return (TEXT_UNIT * (size // len(TEXT_UNIT) + 1))[:size].encode(), False
    return random.Random(spec["seed"]).randbytes(size), True


def emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def extensions(proto: Any) -> list[Any]:
    return [
        getattr(e, "__json__", lambda e=e: repr(e))() for e in proto.websocket_extensions_in_use
    ]


def accept_offers(offers: list[Any]) -> Any:
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def accept_strictly(offers: list[Any]) -> Any:
    """Demand the least memory of the client that the offer allows."""
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(
                offer,
                request_no_context_takeover=offer.accept_no_context_takeover,
                request_max_window_bits=9 if offer.accept_max_window_bits else 0,
                no_context_takeover=True,
                window_bits=9,
            )
    return None


class EchoServer(WebSocketServerProtocol):
    tag = ""

    def onConnect(self, request: Any) -> None:
        self.tag = request.path.lstrip("/")

    def onOpen(self) -> None:
        emit(
            role="server",
            tag=self.tag,
            event="open",
            extensions=extensions(self),
            protocol=self.websocket_protocol_in_use,
        )

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary and payload.startswith(b"close:"):
            _, code, reason = payload.decode().split(":", 2)
            self.sendClose(int(code), reason)
            return
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        emit(
            role="server",
            tag=self.tag,
            event="close",
            wasClean=wasClean,
            code=code,
            reason=reason,
            notClean=self.wasNotCleanReason,
        )


class ScriptedClient(WebSocketClientProtocol):
    def onOpen(self) -> None:
        command = self.factory.command
        self.tag = command["tag"]
        self.pending = list(command["messages"])
        self.index = 0
        emit(
            role="client",
            tag=self.tag,
            event="open",
            extensions=extensions(self),
            protocol=self.websocket_protocol_in_use,
        )
        self.send_next()

    def send_next(self) -> None:
        while self.pending:
            spec = self.pending[0]
            payload, binary = generate(spec)
            self.expected = (payload, binary)
            self.sendMessage(payload, binary)
            if spec.get("echo", True):
                return
            self.pending.pop(0)
            self.index += 1
        close = self.factory.command.get("close")
        if close:
            self.sendClose(close[0], close[1])

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        emit(
            role="client",
            tag=self.tag,
            event="echo",
            index=self.index,
            ok=(payload, isBinary) == self.expected,
            size=len(payload),
            binary=isBinary,
        )
        self.pending.pop(0)
        self.index += 1
        self.send_next()

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        emit(
            role="client",
            tag=getattr(self, "tag", self.factory.command["tag"]),
            event="close",
            wasClean=wasClean,
            code=code,
            reason=reason,
            notClean=self.wasNotCleanReason,
        )


def client_factory(command: dict[str, Any], **kwargs: Any) -> Any:
    url = f"ws://127.0.0.1:{command['port']}/{command['tag']}"
    factory = WebSocketClientFactory(url, protocols=command.get("protocols") or None, **kwargs)
    factory.protocol = ScriptedClient
    factory.command = command
    if command.get("compress"):
        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer(**command.get("offer", {}))],
            perMessageCompressionAccept=lambda response: PerMessageDeflateResponseAccept(response),
        )
    return factory


def server_factory(accept: Any = accept_offers, **kwargs: Any) -> Any:
    factory = WebSocketServerFactory("ws://127.0.0.1", **kwargs)
    factory.protocol = EchoServer
    factory.setProtocolOptions(perMessageCompressionAccept=accept)
    return factory


def read_commands(call: Any, stop: Any) -> None:
    for line in sys.stdin:
        if line.strip():
            call(json.loads(line))
    stop()


def main_asyncio() -> None:
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(server_factory(loop=loop), "127.0.0.1", 0))
    strict = loop.run_until_complete(
        loop.create_server(server_factory(accept_strictly, loop=loop), "127.0.0.1", 0)
    )
    emit(
        event="listening",
        port=server.sockets[0].getsockname()[1],
        strict_port=strict.sockets[0].getsockname()[1],
    )

    tasks: set[Any] = set()

    def connect(command: dict[str, Any]) -> None:
        factory = client_factory(command, loop=loop)
        task = loop.create_task(loop.create_connection(factory, "127.0.0.1", command["port"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def call(command: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(connect, command)

    threading.Thread(
        target=read_commands, args=(call, lambda: loop.call_soon_threadsafe(loop.stop)), daemon=True
    ).start()
    loop.run_forever()


def main_twisted() -> None:
    from twisted.internet import reactor

    port = reactor.listenTCP(0, server_factory(), interface="127.0.0.1")
    strict = reactor.listenTCP(0, server_factory(accept_strictly), interface="127.0.0.1")
    emit(event="listening", port=port.getHost().port, strict_port=strict.getHost().port)

    def connect(command: dict[str, Any]) -> None:
        reactor.connectTCP("127.0.0.1", command["port"], client_factory(command))

    def call(command: dict[str, Any]) -> None:
        reactor.callFromThread(connect, command)

    threading.Thread(
        target=read_commands, args=(call, lambda: reactor.callFromThread(reactor.stop)), daemon=True
    ).start()
    reactor.run()


if __name__ == "__main__":
    main_twisted() if FRAMEWORK == "twisted" else main_asyncio()
