"""Plain TCP echo on asyncio (``--loop uvloop`` for uvloop): the floor, no WebSocket at all."""

from __future__ import annotations

import argparse
import asyncio

import _common


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def start(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, _common.HOST, args.port)
    return int(server.sockets[0].getsockname()[1])


if __name__ == "__main__":
    _common.run_asyncio(start, _common.parse_args(__doc__))
