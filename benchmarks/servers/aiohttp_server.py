"""aiohttp echo server (``web.WebSocketResponse`` on an ``AppRunner``, no access log)."""

from __future__ import annotations

import argparse

import _common
from aiohttp import WSMsgType, web


async def start(args: argparse.Namespace) -> int:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=args.compress, max_msg_size=_common.MAX_MESSAGE)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, _common.HOST, args.port, backlog=128)
    await site.start()
    return int(runner.addresses[0][1])


if __name__ == "__main__":
    _common.run_asyncio(start, _common.parse_args(__doc__))
