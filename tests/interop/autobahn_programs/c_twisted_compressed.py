"""Client on Twisted offering permessage-deflate."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from twisted.internet import reactor


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        print(f"OUT: extensions {[ext.EXTENSION_NAME for ext in self.websocket_extensions_in_use]}")
        self.sendMessage(b"compress me " * 100)

    def onMessage(self, payload, isBinary):
        print(f"OUT: echo of {len(payload)} bytes")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


if __name__ == "__main__":
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{int(sys.argv[1])}")
    factory.protocol = MyClientProtocol

    def accept(response):
        if isinstance(response, PerMessageDeflateResponse):
            return PerMessageDeflateResponseAccept(response)

    factory.setProtocolOptions(
        perMessageCompressionOffers=[PerMessageDeflateOffer(accept_max_window_bits=True)],
        perMessageCompressionAccept=accept,
    )
    connectWS(factory)
    reactor.run()
