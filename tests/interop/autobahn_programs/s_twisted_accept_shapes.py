"""Server whose onConnect answers in each shape Autobahn documents, by path."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import reactor


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: {request.path} offered {request.protocols}")
        if request.path == "/none":
            return None
        if request.path == "/str":
            return request.protocols[-1]
        if request.path == "/one-tuple":
            return (request.protocols[0],)
        if request.path == "/pair":
            return (None, {"X-Extra": "extra-value"})
        if request.path == "/deny":
            raise ConnectionDeny(ConnectionDeny.NOT_FOUND, "no such room")
        if request.path == "/deny-unavailable":
            raise ConnectionDeny(503, "try again later")

    def onOpen(self):
        print(f"OUT: open with {self.websocket_protocol_in_use}")


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}", protocols=["v1", "v2"])
    factory.protocol = MyServerProtocol
    reactor.listenTCP(port, factory, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
