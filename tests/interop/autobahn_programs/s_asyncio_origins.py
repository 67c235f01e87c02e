"""Server on asyncio that allows browsers from one origin only."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print(f"OUT: accepted origin {request.origin}")


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol
    factory.setProtocolOptions(allowedOrigins=["https://good.example:443", "https://*.other.example:*"])
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    print("OUT: listening", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
