"""Echo server for wstest's fuzzingclient, written against the Autobahn API only.

It doubles as proof that an Autobahn|Python program runs on wsproto_cb with
changed imports: nothing below is specific to either implementation.

    python -m tests.conformance.echo_server --impl autobahn --runtime twisted --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from tests.conformance.impl import (
    IMPLS,
    LARGEST_MESSAGE,
    RUNTIMES,
    compress_module,
    websocket_module,
)


def make_factory(impl: str, runtime: str, url: str) -> Any:
    """A server factory that echoes every message and accepts permessage-deflate."""
    ws = websocket_module(impl, runtime)
    compress = compress_module(impl)

    class EchoServerProtocol(ws.WebSocketServerProtocol):  # type: ignore[name-defined,misc]
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.sendMessage(payload, isBinary)

    def accept(offers: list[Any]) -> Any:
        # Like Autobahn's testee server: take the first permessage-deflate offer.
        for offer in offers:
            if isinstance(offer, compress.PerMessageDeflateOffer):
                return compress.PerMessageDeflateOfferAccept(offer)
        return None

    factory = ws.WebSocketServerFactory(url)
    factory.protocol = EchoServerProtocol
    factory.setProtocolOptions(
        failByDrop=False,
        perMessageCompressionAccept=accept,
        maxMessagePayloadSize=LARGEST_MESSAGE,
        maxFramePayloadSize=LARGEST_MESSAGE,
    )
    return factory


def serve_asyncio(impl: str, port: int, max_seconds: float) -> None:
    """Serve on 127.0.0.1 until SIGTERM/SIGINT or ``max_seconds``."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    factory = make_factory(impl, "asyncio", f"ws://127.0.0.1:{port}")
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    loop.call_later(max_seconds, loop.stop)
    print(f"echo server listening on 127.0.0.1:{port}", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


def serve_twisted(impl: str, port: int, max_seconds: float) -> None:
    """Serve on 127.0.0.1 with listenWS until SIGTERM/SIGINT or ``max_seconds``."""
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    ws = websocket_module(impl, "twisted")
    factory = make_factory(impl, "twisted", f"ws://127.0.0.1:{port}")
    ws.listenWS(factory, interface="127.0.0.1")
    reactor.callLater(max_seconds, reactor.stop)
    print(f"echo server listening on 127.0.0.1:{port}", flush=True)
    reactor.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=IMPLS, default="wsproto_cb")
    parser.add_argument("--runtime", choices=RUNTIMES, default="asyncio")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this")
    args = parser.parse_args(argv)
    serve = serve_asyncio if args.runtime == "asyncio" else serve_twisted
    serve(args.impl, args.port, args.max_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
