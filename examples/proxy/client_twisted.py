"""Echo client on Twisted through an HTTP proxy: ``connectWS`` tunnels with CONNECT.

    python examples/proxy/client_twisted.py ws://127.0.0.1:9000 http://127.0.0.1:8888
"""

import sys

from twisted.internet import reactor

from wsproto_cb.twisted import WebSocketClientFactory, WebSocketClientProtocol, connectWS


class EchoOnce(WebSocketClientProtocol):
    def onOpen(self):
        self.sendMessage(b"Hello through the proxy")

    def onMessage(self, payload, isBinary):
        print(f"echo: {payload.decode()}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"closed: wasClean={wasClean} code={code}")
        self.factory.status = 0 if wasClean else 1
        reactor.stop()


class Factory(WebSocketClientFactory):
    protocol = EchoOnce
    status = 1

    def clientConnectionFailed(self, connector, reason):
        print(f"error: {reason.getErrorMessage()}")  # names the proxy and its status line
        reactor.stop()


if __name__ == "__main__":
    factory = Factory(sys.argv[1], proxy=sys.argv[2])  # {"host": ..., "port": ...} works too
    connectWS(factory)
    reactor.run()
    sys.exit(factory.status)
