"""Streaming send: one message frame by frame, the echo received frame by frame."""
import asyncio
import hashlib
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

CHUNK = bytes(range(256)) * 64  # 16 KiB


class MyClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.beginMessage(isBinary=True)
        for _ in range(8):
            self.beginMessageFrame(len(CHUNK))
            left = self.sendMessageFrameData(CHUNK[:1000])
            left2 = self.sendMessageFrameData(CHUNK[1000:])
            print(f"OUT: frame data returned {left} then {left2}")
        self.endMessage()

    def onMessageBegin(self, isBinary):
        WebSocketClientProtocol.onMessageBegin(self, isBinary)
        self.digest = hashlib.sha256()
        self.length = 0

    def onMessageFrameData(self, payload):
        self.digest.update(payload)
        self.length += len(payload)

    def onMessageEnd(self):
        print(f"OUT: echo of {self.length} bytes, sha256 {self.digest.hexdigest()[:16]}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyClientProtocol
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", port))
    loop.run_forever()
    loop.close()
