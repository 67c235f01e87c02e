"""Server on Twisted whose callbacks return Deferreds."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet import reactor, task
from twisted.internet.defer import inlineCallbacks


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: connecting to {request.path}")

    @inlineCallbacks
    def onMessage(self, payload, isBinary):
        yield task.deferLater(reactor, 0.02, lambda: None)
        print("OUT: message {0}".format(payload.decode("utf8")))
        self.sendMessage(payload.upper(), isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    reactor.listenTCP(port, factory, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
