"""permessage-deflate, server side: an echo server that accepts compression.

    python examples/compression/server.py [--port 9000]

``perMessageCompressionAccept`` decides what to do with a client's offers:
``accept_deflate_offer`` accepts the first one with lean settings for
servers with many connections (a 4 KiB compression window, memLevel 5).
A client that offers nothing gets uncompressed messages.
"""

import argparse
import asyncio

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol
from wsproto_cb.compress import accept_deflate_offer


class EchoServerProtocol(WebSocketServerProtocol):
    def onOpen(self):
        names = [ext.EXTENSION_NAME for ext in self.websocket_extensions_in_use]
        print(f"{self.peer} connected, extensions: {names or 'none'}", flush=True)

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()

    factory = WebSocketServerFactory(f"ws://{args.host}:{args.port}")
    factory.protocol = EchoServerProtocol
    factory.setProtocolOptions(perMessageCompressionAccept=accept_deflate_offer)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    print(f"compressing echo server on ws://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
