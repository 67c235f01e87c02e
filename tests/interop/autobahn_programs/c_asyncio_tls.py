"""Client on asyncio over TLS, trusting a private CA through its own SSL context."""
import asyncio
import ssl
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print("OUT: Server connected: {0}".format(response.peer))

    def onOpen(self):
        self.sendMessage("over tls".encode("utf8"))

    def onMessage(self, payload, isBinary):
        print("OUT: echo {0}".format(payload.decode("utf8")))
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code} {reason}")
        asyncio.get_event_loop().stop()


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port, ca_file = int(sys.argv[1]), sys.argv[2]
    context = ssl.create_default_context(cafile=ca_file)
    factory = WebSocketClientFactory(f"wss://localhost:{port}/secure")
    factory.protocol = MyClientProtocol
    coro = loop.create_connection(factory, "127.0.0.1", port, ssl=context, server_hostname="localhost")
    loop.run_until_complete(coro)
    loop.run_forever()
    loop.close()
