"""Server on asyncio over TLS."""
import asyncio
import ssl
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: secure connection to {request.path}")

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port, key, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    factory = WebSocketServerFactory(f"wss://localhost:{port}")
    factory.protocol = MyServerProtocol
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port, ssl=context))
    print("OUT: listening", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
