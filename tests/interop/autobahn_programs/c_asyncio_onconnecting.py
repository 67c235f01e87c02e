"""Client choosing its handshake per connection in onConnecting (a ConnectingRequest)."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.types import ConnectingRequest


class MyClientProtocol(WebSocketClientProtocol):
    def onConnecting(self, transport_details):
        print(f"OUT: connecting, secure {transport_details.is_secure}")
        return ConnectingRequest(
            host="127.0.0.1",
            port=self.factory.port,
            resource="/headers",
            headers={"X-Client": "from-onConnecting"},
            origin="https://app.example",
            useragent="Connecting/2.0",
            protocols=["chat.v1"],
        )

    def onConnect(self, response):
        print(f"OUT: protocol {response.protocol}")

    def onMessage(self, payload, isBinary):
        print("OUT: server saw {0}".format(payload.decode("utf8")))
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/", protocols=["chat.v1"])
    factory.protocol = MyClientProtocol
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", port))
    loop.run_forever()
    loop.close()
