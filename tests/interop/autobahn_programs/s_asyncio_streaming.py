"""Server receiving a fragmented message with the streaming callbacks."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onMessageBegin(self, isBinary):
        WebSocketServerProtocol.onMessageBegin(self, isBinary)
        self.frames = 0
        self.size = 0

    def onMessageFrameBegin(self, length):
        WebSocketServerProtocol.onMessageFrameBegin(self, length)
        self.frames += 1

    def onMessageFrameData(self, payload):
        self.size += len(payload)

    def onMessageFrameEnd(self):
        pass

    def onMessageEnd(self):
        print(f"OUT: message of {self.frames} frames, {self.size} bytes")
        self.sendMessage(f"{self.frames} {self.size}".encode())


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    print("OUT: listening", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
