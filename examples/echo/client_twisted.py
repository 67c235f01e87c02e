"""Echo client on the Twisted reactor: sends a few messages, prints the echoes, closes.

    python examples/echo/client_twisted.py [ws://127.0.0.1:9000]
"""

import sys

from twisted.internet import reactor

from wsproto_cb.compress import PerMessageDeflateOffer
from wsproto_cb.twisted import WebSocketClientFactory, WebSocketClientProtocol, connectWS


class EchoClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.expected = 3
        self.sendMessage(b"Hello, world!")
        self.sendMessage(b"\x00\x01\x03\x04", isBinary=True)
        self.sendMessage(("x" * 100_000).encode("utf8"))

    def onMessage(self, payload, isBinary):
        shown = payload[:40] if isBinary else payload[:40].decode("utf8")
        print(f"echo ({len(payload)} bytes, binary={isBinary}): {shown!r}")
        self.expected -= 1
        if self.expected == 0:
            self.sendClose(1000, "done")

    def onClose(self, wasClean, code, reason):
        print(f"closed: wasClean={wasClean} code={code} reason={reason}")
        self.factory.exit_code = 0 if wasClean else 1
        reactor.stop()


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000"
    factory = WebSocketClientFactory(url)
    factory.protocol = EchoClientProtocol
    factory.exit_code = 1
    factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()])
    connectWS(factory)
    reactor.callLater(10, reactor.stop)
    reactor.run()
    return factory.exit_code


if __name__ == "__main__":
    sys.exit(main())
