"""Client on asyncio: connect, send text and binary, print the echoes, close."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


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
