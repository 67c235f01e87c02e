"""Server on Twisted over TLS (listenWS with an SSL context factory)."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol, listenWS
from twisted.internet import reactor, ssl


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: secure connection to {request.path}")

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


if __name__ == "__main__":
    port, key, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    factory = WebSocketServerFactory(f"wss://localhost:{port}")
    factory.protocol = MyServerProtocol
    context = ssl.DefaultOpenSSLContextFactory(key, cert)
    listenWS(factory, context, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
