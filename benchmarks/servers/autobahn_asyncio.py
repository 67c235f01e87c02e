"""Autobahn|Python echo server on asyncio (``--loop uvloop`` for uvloop)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import _common
from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


def accept(offers: list[Any]) -> Any:
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


async def start(args: argparse.Namespace) -> int:
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(
        autoPingInterval=0,
        maxMessagePayloadSize=_common.MAX_MESSAGE,
        maxFramePayloadSize=_common.MAX_MESSAGE,
        perMessageCompressionAccept=accept if args.compress else (lambda offers: None),
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, _common.HOST, args.port)
    return int(server.sockets[0].getsockname()[1])


if __name__ == "__main__":
    _common.run_asyncio(start, _common.parse_args(__doc__))
