"""Autobahn's reconnecting client: Twisted's ReconnectingClientFactory mixed in.

Nothing listens at first; the test starts the server a moment later.
"""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import reactor
from twisted.internet.protocol import ReconnectingClientFactory


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        print("OUT: open")
        self.factory.resetDelay()
        self.sendMessage(b"after reconnecting")

    def onMessage(self, payload, isBinary):
        print("OUT: echo {0}".format(payload.decode("utf8")))
        self.factory.stopTrying()
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


class MyClientFactory(WebSocketClientFactory, ReconnectingClientFactory):
    protocol = MyClientProtocol
    maxDelay = 0.2
    initialDelay = 0.05

    def clientConnectionFailed(self, connector, reason):
        self.retry(connector)

    def clientConnectionLost(self, connector, reason):
        self.retry(connector)


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = MyClientFactory(f"ws://127.0.0.1:{port}")
    reactor.connectTCP("127.0.0.1", port, factory)
    reactor.run()
