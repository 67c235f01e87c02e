"""Server on asyncio with coroutine callbacks."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    async def onConnect(self, request):
        await asyncio.sleep(0.01)
        print(f"OUT: connecting to {request.path}")

    async def onMessage(self, payload, isBinary):
        await asyncio.sleep(0.02)
        print("OUT: message {0}".format(payload.decode("utf8")))
        self.sendMessage(payload.upper(), isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")


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
