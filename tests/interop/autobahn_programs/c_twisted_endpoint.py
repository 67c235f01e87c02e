"""Client on Twisted through an endpoint string."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import reactor
from twisted.internet.endpoints import clientFromString


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.sendMessage(b"via an endpoint")

    def onMessage(self, payload, isBinary):
        print("OUT: echo {0}".format(payload.decode("utf8")))
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyClientProtocol
    endpoint = clientFromString(reactor, f"tcp:127.0.0.1:{port}")
    endpoint.connect(factory)
    reactor.run()
