"""wsproto_cb echo server on asyncio (``--loop uvloop`` for uvloop)."""

from __future__ import annotations

import argparse
import asyncio
import time

import _common

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol
from wsproto_cb.compress import PerMessageDeflateOfferAccept, accept_deflate_offer


def accept_like_autobahn(offers: list[object]) -> PerMessageDeflateOfferAccept:
    """What Autobahn's examples write: accept the first offer, no arguments."""
    return PerMessageDeflateOfferAccept(offers[0])


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


async def start(args: argparse.Namespace) -> int:
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(
        autoPingInterval=0,
        maxMessagePayloadSize=_common.MAX_MESSAGE,
        maxFramePayloadSize=_common.MAX_MESSAGE,
        perMessageCompressionAccept=(
            None
            if not args.compress
            else accept_like_autobahn
            if args.autobahn_accept
            else accept_deflate_offer
        ),
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, _common.HOST, args.port)
    if args.metrics:
        _scrape_every_second(factory)
    return int(server.sockets[0].getsockname()[1])


def _scrape_every_second(factory: WebSocketServerFactory) -> None:
    """Serve metrics and scrape them once a second, as a busy Prometheus would.

    Both happen in this process, so what they cost shows in the server's
    CPU time per message.
    """
    import threading
    import urllib.request

    from wsproto_cb.prometheus import serve_metrics

    _server, port = serve_metrics(factory, _common.HOST, 0)

    def scrape() -> None:
        while True:
            with urllib.request.urlopen(f"http://{_common.HOST}:{port}/metrics") as reply:
                reply.read()
            time.sleep(1.0)

    threading.Thread(target=scrape, daemon=True).start()


if __name__ == "__main__":
    _common.run_asyncio(start, _common.parse_args(__doc__, autobahn_accept=True, metrics=True))
