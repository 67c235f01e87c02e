"""Client whose @inlineCallbacks onOpen loops for the life of the connection."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import reactor, task
from twisted.internet.defer import inlineCallbacks


class MyClientProtocol(WebSocketClientProtocol):
    @inlineCallbacks
    def onOpen(self):
        print("OUT: open")
        self.echoes = 0
        n = 0
        while True:
            n += 1
            self.sendMessage(f"tick {n}".encode())
            yield task.deferLater(reactor, 0.05, lambda: None)

    def onMessage(self, payload, isBinary):
        self.echoes += 1
        print("OUT: echo {0}".format(payload.decode("utf8")))
        if self.echoes == 5:
            self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


if __name__ == "__main__":
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{int(sys.argv[1])}")
    factory.protocol = MyClientProtocol
    reactor.connectTCP("127.0.0.1", int(sys.argv[1]), factory)
    reactor.run()
