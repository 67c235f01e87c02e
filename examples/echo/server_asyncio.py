"""Echo server on asyncio: every message comes back to its sender.

    python examples/echo/server_asyncio.py [--port 9000]
"""

import argparse
import asyncio

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol
from wsproto_cb.compress import accept_deflate_offer


class EchoServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"client connecting: {request.peer}")

    def onOpen(self):
        print("connection open")

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"connection closed: wasClean={wasClean} code={code} reason={reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()

    factory = WebSocketServerFactory(f"ws://{args.host}:{args.port}")
    factory.protocol = EchoServerProtocol
    factory.setProtocolOptions(perMessageCompressionAccept=accept_deflate_offer)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    print(f"echo server listening on ws://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


if __name__ == "__main__":
    main()
