"""Client sending its own headers and reading the server's."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print("OUT: server header: {0}".format(response.headers.get("x-server")))

    def onMessage(self, payload, isBinary):
        print("OUT: server saw: {0}".format(payload.decode("utf8")))
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketClientFactory(
        f"ws://127.0.0.1:{port}/headers",
        headers={"X-Client": "client-value"},
        origin="https://client.example",
        useragent="ProgramUnderTest/1.0",
    )
    factory.protocol = MyClientProtocol
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", port))
    loop.run_forever()
    loop.close()
