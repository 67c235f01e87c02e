"""Client printing the whole response; the server closes with its own code and reason."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print("OUT: Server connected: {0}".format(response))

    def onOpen(self):
        self.sendMessage(b"close me")

    def onMessage(self, payload, isBinary):
        print("OUT: unexpected message {0}".format(payload))

    def onClose(self, wasClean, code, reason):
        print("OUT: WebSocket connection closed: {0} {1} {2}".format(wasClean, code, reason))
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/closing", protocols=["chat.v1"])
    factory.protocol = MyClientProtocol
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", port))
    loop.run_forever()
    loop.close()
