"""Client on Twisted that the server refuses (HTTP 403): what onClose says."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet import reactor


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print("OUT: unexpectedly connected")

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        reactor.stop()


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/forbidden")
    factory.protocol = MyClientProtocol
    connectWS(factory)
    reactor.run()
