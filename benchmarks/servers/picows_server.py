"""picows echo server on uvloop (frame-level echo; picows has no permessage-deflate).

picows hands over frames, not messages, and does not check that text is
UTF-8: the echo sends each data frame back as it came.
"""

from __future__ import annotations

import argparse

import _common
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

_DATA = (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION)


class Echo(WSListener):  # type: ignore[misc]
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type in _DATA:
            transport.send(frame.msg_type, frame.get_payload_as_memoryview(), frame.fin)
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()


async def start(args: argparse.Namespace) -> int:
    server = await ws_create_server(
        lambda request: Echo(), _common.HOST, args.port, max_frame_size=_common.MAX_MESSAGE
    )
    return int(server.sockets[0].getsockname()[1])


if __name__ == "__main__":
    ns = _common.parse_args(__doc__)
    ns.loop = "uvloop"
    _common.run_asyncio(start, ns)
