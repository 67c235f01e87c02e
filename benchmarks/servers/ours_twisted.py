"""wsproto_cb echo server on Twisted (epoll reactor; or --reactor asyncio, uvloop)."""

from __future__ import annotations

import argparse

import _common

from wsproto_cb.twisted.choosereactor import install_reactor

ARGS = _common.parse_args(__doc__, loops=False, reactors=True)
install_reactor(ARGS.reactor)

from twisted.internet import reactor  # noqa: E402

from wsproto_cb.compress import accept_deflate_offer  # noqa: E402
from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol  # noqa: E402


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


def listen(args: argparse.Namespace) -> int:
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(
        autoPingInterval=0,
        maxMessagePayloadSize=_common.MAX_MESSAGE,
        maxFramePayloadSize=_common.MAX_MESSAGE,
        perMessageCompressionAccept=accept_deflate_offer if args.compress else None,
    )
    port = reactor.listenTCP(args.port, factory, backlog=128, interface=_common.HOST)  # type: ignore[attr-defined]
    return int(port.getHost().port)


if __name__ == "__main__":
    _common.run_twisted(listen, ARGS)
