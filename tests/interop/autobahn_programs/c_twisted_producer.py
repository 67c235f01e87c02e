"""A Twisted push producer streaming one message into fixed-size frames."""
import hashlib
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import reactor
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

FRAME = 65536
TOTAL = 768 * 1024  # (under the 1 MiB default message limit)


@implementer(IPushProducer)
class Streamer:
    def __init__(self, proto):
        self.proto = proto
        self.paused = False
        self.sent = 0
        self.chunk = b"x" * 10000

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        while not self.paused and self.sent < TOTAL:
            data = self.chunk[: TOTAL - self.sent]
            left = self.proto.sendMessageFrameData(data)
            self.sent += len(data) if left >= 0 else len(data) + left
            if left <= 0 and self.sent < TOTAL:
                self.proto.beginMessageFrame(min(FRAME, TOTAL - self.sent))
        if self.sent >= TOTAL:
            self.proto.endMessage()
            self.proto.unregisterProducer()

    def stopProducing(self):
        pass


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        producer = Streamer(self)
        self.registerProducer(producer, True)
        self.beginMessage(isBinary=True)
        self.beginMessageFrame(FRAME)
        producer.resumeProducing()

    def onMessage(self, payload, isBinary):
        print(f"OUT: echo of {len(payload)} bytes, sha256 {hashlib.sha256(payload).hexdigest()[:16]}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


if __name__ == "__main__":
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyClientProtocol
    reactor.connectTCP("127.0.0.1", port, factory)
    reactor.run()
