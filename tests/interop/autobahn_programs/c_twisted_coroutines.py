"""Client on Twisted: an async def onConnect awaiting a Deferred, an onMessage returning one."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet import reactor, task


class MyClientProtocol(WebSocketClientProtocol):
    async def onConnect(self, response):
        await task.deferLater(reactor, 0.05, lambda: None)
        print(f"OUT: connected to {response.peer} after a pause")

    def onOpen(self):
        print("OUT: open")
        self.sendMessage(b"first")
        self.sendMessage(b"second")
        self.replies = 0

    def onMessage(self, payload, isBinary):
        return task.deferLater(reactor, 0.02, self.handle, payload)

    def handle(self, payload):
        print("OUT: echo {0}".format(payload.decode("utf8")))
        self.replies += 1
        if self.replies == 2:
            self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        reactor.stop()


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyClientProtocol
    connectWS(factory)
    reactor.run()
