"""Client on Twisted with connectWS: send text and binary, print the echoes, close."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet import reactor


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print(f"OUT: connected, protocol {response.protocol}")

    def onOpen(self):
        print("OUT: open")
        self.sendMessage(b"Hello, world!")
        self.sendMessage(b"\x00\x01\x03\x04", isBinary=True)
        self.received = 0

    def onMessage(self, payload, isBinary):
        if isBinary:
            print(f"OUT: binary message received: {len(payload)} bytes")
        else:
            print("OUT: text message received: {0}".format(payload.decode("utf8")))
        self.received += 1
        if self.received == 2:
            self.sendClose(1000, "done")

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        reactor.stop()


if __name__ == "__main__":
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{int(sys.argv[1])}")
    factory.protocol = MyClientProtocol
    connectWS(factory)
    reactor.run()
