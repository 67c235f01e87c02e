"""Client whose coroutine onOpen loops for the life of the connection."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


class MyClientProtocol(WebSocketClientProtocol):
    async def onOpen(self):
        print("OUT: open")
        self.echoes = 0
        n = 0
        while True:
            n += 1
            self.sendMessage(f"tick {n}".encode())
            await asyncio.sleep(0.05)

    def onMessage(self, payload, isBinary):
        self.echoes += 1
        print("OUT: echo {0}".format(payload.decode("utf8")))
        if self.echoes == 5:
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
