"""Two WebSocket resources and a page on one Twisted Web site."""
import sys

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import Data


def make_protocol(name):
    class Prefixing(WebSocketServerProtocol):
        def onConnect(self, request):
            print(f"OUT: {name} got a connection to {request.path}")

        def onMessage(self, payload, isBinary):
            self.sendMessage("{0}: {1}".format(name, payload.decode("utf8")).encode("utf8"))

    return Prefixing


if __name__ == "__main__":
    port = int(sys.argv[1])
    root = Resource()
    root.putChild(b"", Data(b"<h1>hello</h1>", "text/html"))
    for name in ("alpha", "beta"):
        factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
        factory.protocol = make_protocol(name)
        root.putChild(name.encode("ascii"), WebSocketResource(factory))
    reactor.listenTCP(port, Site(root), interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
