"""websockets echo server (its asyncio implementation, ``websockets.asyncio.server``)."""

from __future__ import annotations

import argparse

import _common
from websockets.asyncio.server import ServerConnection, serve


async def echo(ws: ServerConnection) -> None:
    async for message in ws:  # the idiomatic echo: text arrives as str
        await ws.send(message)


async def start(args: argparse.Namespace) -> int:
    server = await serve(
        echo,
        _common.HOST,
        args.port,
        compression="deflate" if args.compress else None,  # its defaults: 12-bit windows
        ping_interval=None,
        max_size=_common.MAX_MESSAGE,
    )
    return int(next(iter(server.sockets)).getsockname()[1])


if __name__ == "__main__":
    _common.run_asyncio(start, _common.parse_args(__doc__))
