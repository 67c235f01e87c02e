"""Autobahn|Python echo server on Twisted's epoll reactor."""

from __future__ import annotations

import argparse
from typing import Any

from twisted.internet import epollreactor

epollreactor.install()

import _common  # noqa: E402
from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.compress import (  # noqa: E402
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
)
from twisted.internet import reactor  # noqa: E402


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


def accept(offers: list[Any]) -> Any:
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def listen(args: argparse.Namespace) -> int:
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(
        autoPingInterval=0,
        maxMessagePayloadSize=_common.MAX_MESSAGE,
        maxFramePayloadSize=_common.MAX_MESSAGE,
        perMessageCompressionAccept=accept if args.compress else (lambda offers: None),
    )
    port = reactor.listenTCP(args.port, factory, backlog=128, interface=_common.HOST)  # type: ignore[attr-defined]
    return int(port.getHost().port)


if __name__ == "__main__":
    _common.run_twisted(listen, _common.parse_args(__doc__, loops=False))
