"""Server on Twisted that allows some origins by wildcard, and pages with no origin (null)."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet import reactor


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: accepted origin {request.origin}")


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    factory.setProtocolOptions(
        allowedOrigins=["https://good.example*", "http://127.0.0.1:8080"], allowNullOrigin=True
    )
    reactor.listenTCP(port, factory, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
