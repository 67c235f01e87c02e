"""Autobahn's Twisted echo server example (examples/twisted/websocket/echo), logging to stdout."""
import sys

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print("OUT: Client connecting: {0}".format(request.peer))

    def onOpen(self):
        print("OUT: WebSocket connection open.")

    def onMessage(self, payload, isBinary):
        if isBinary:
            print("OUT: Binary message received: {0} bytes".format(len(payload)))
        else:
            print("OUT: Text message received: {0}".format(payload.decode("utf8")))
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print("OUT: WebSocket connection closed: {0}".format(reason))


if __name__ == "__main__":
    from twisted.internet import reactor
    from twisted.python import log

    log.startLogging(sys.stdout)

    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    factory.setProtocolOptions(maxConnections=2)

    reactor.listenTCP(port, factory, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("OUT: listening", flush=True))
    reactor.run()
