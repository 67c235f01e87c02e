"""Client offering two subprotocols; the server picks one."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print(f"OUT: server chose {response.protocol}")

    def onOpen(self):
        print(f"OUT: speaking {self.websocket_protocol_in_use}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(
        f"ws://127.0.0.1:{port}", protocols=["chat.v2", "chat.v1"]
    )
    factory.protocol = MyClientProtocol
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", port))
    loop.run_forever()
    loop.close()
