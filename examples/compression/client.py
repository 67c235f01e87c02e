"""permessage-deflate, client side: payload bytes versus bytes on the wire.

    python examples/compression/client.py [ws://127.0.0.1:9000] [--no-compression]

Offers permessage-deflate (unless ``--no-compression``), sends ten JSON
documents to the echo server and counts, for the echoes, the payload
bytes delivered to ``onMessage`` and the bytes that actually arrived on
the socket (frame headers included).  Typical output::

    negotiated: permessage-deflate (server window 12 bits, client window 12 bits)
    10 messages: 189419 payload bytes, 19726 bytes on the wire (10.4%)

and with ``--no-compression`` a little over 100% (the frame headers).
"""

import argparse
import asyncio
import json
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol
from wsproto_cb.compress import PerMessageDeflateOffer

MESSAGES = 10


def document(i):
    """Something typical: repetitive JSON that compresses well."""
    rows = [
        {"id": n, "name": f"sensor-{n}", "status": "ok", "value": n * i % 97} for n in range(300)
    ]
    return json.dumps({"batch": i, "rows": rows}).encode()


class CountingClientProtocol(WebSocketClientProtocol):
    wire_bytes = 0
    payload_bytes = 0

    def data_received(self, data):
        # Every byte the socket delivers, before the WebSocket layer sees it.
        if self.state == self.STATE_OPEN:
            self.wire_bytes += len(data)
        super().data_received(data)

    def onOpen(self):
        if self.websocket_extensions_in_use:
            ext = self.websocket_extensions_in_use[0]
            print(
                f"negotiated: {ext.EXTENSION_NAME} (server window {ext.server_max_window_bits}"
                f" bits, client window {ext.client_max_window_bits} bits)"
            )
        else:
            print("negotiated: no compression")
        self.received = 0
        for i in range(MESSAGES):
            self.sendMessage(document(i))

    def onMessage(self, payload, isBinary):
        if payload != document(self.received):
            raise ValueError("the echo differs from what was sent")
        self.received += 1
        self.payload_bytes += len(payload)
        if self.received == MESSAGES:
            share = 100 * self.wire_bytes / self.payload_bytes
            print(
                f"{MESSAGES} messages: {self.payload_bytes} payload bytes, "
                f"{self.wire_bytes} bytes on the wire ({share:.1f}%)"
            )
            self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        self.factory.done.set_result(wasClean)


async def main(url, compress):
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = CountingClientProtocol
    if compress:
        factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()])
    factory.done = loop.create_future()
    await loop.create_connection(factory, factory.host, factory.port)
    return 0 if await asyncio.wait_for(factory.done, 10) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9000")
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, not args.no_compression)))
