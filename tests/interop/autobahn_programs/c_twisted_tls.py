"""Client on Twisted over TLS: connectWS with optionsForClientTLS trusting a private CA."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet import reactor
from twisted.internet.ssl import Certificate, optionsForClientTLS


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        print(f"OUT: open, protocol {self.websocket_protocol_in_use}")
        self.sendMessage(b"over tls", isBinary=True)

    def onMessage(self, payload, isBinary):
        print(f"OUT: echo {payload!r} binary {isBinary}")
        self.sendClose(1000, "thanks")

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        reactor.stop()


if __name__ == "__main__":
    port, ca_file = int(sys.argv[1]), sys.argv[2]
    with open(ca_file) as f:
        trust_root = Certificate.loadPEM(f.read())
    factory = WebSocketClientFactory(f"wss://localhost:{port}/secure", protocols=["chat.v1"])
    factory.protocol = MyClientProtocol
    connectWS(factory, optionsForClientTLS("localhost", trustRoot=trust_root))
    reactor.run()
