"""Echo server on the Twisted reactor: every message comes back to its sender.

    python examples/echo/server_twisted.py [--port 9000]
"""

import argparse
import sys

from twisted.internet import reactor
from twisted.python import log

from wsproto_cb.compress import accept_deflate_offer
from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol


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

    log.startLogging(sys.stdout)
    factory = WebSocketServerFactory(f"ws://{args.host}:{args.port}")
    factory.protocol = EchoServerProtocol
    factory.setProtocolOptions(perMessageCompressionAccept=accept_deflate_offer)
    reactor.listenTCP(args.port, factory, interface=args.host)
    print(f"echo server listening on ws://{args.host}:{args.port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
