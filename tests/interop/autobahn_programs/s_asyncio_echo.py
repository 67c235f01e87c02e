"""Autobahn's asyncio echo server example (examples/asyncio/websocket/echo)."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print("OUT: Client connecting: {0}".format(request.peer))

    def onOpen(self):
        print("OUT: WebSocket connection open.")

    def onMessage(self, payload, isBinary):
        if isBinary:
            print("OUT: Binary message received: {0} bytes".format(len(payload)))
        else:
            print("OUT: Text message received: {0}".format(payload.decode("utf8")))

        # echo back message verbatim
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print("OUT: WebSocket connection closed: {0}".format(reason))


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol

    coro = loop.create_server(factory, "127.0.0.1", port)
    server = loop.run_until_complete(coro)
    print("OUT: listening", flush=True)

    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
