"""Server on Twisted listening through an endpoint string, with auto-ping."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString


class MyServerProtocol(WebSocketServerProtocol):
    def onOpen(self):
        print(f"OUT: open, is_open {self.state == self.STATE_OPEN}")

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    factory.setProtocolOptions(autoPingInterval=0.1, autoPingTimeout=1)
    endpoint = serverFromString(reactor, f"tcp:{port}:interface=127.0.0.1")
    endpoint.listen(factory).addCallback(lambda _: print("OUT: listening", flush=True))
    reactor.run()
