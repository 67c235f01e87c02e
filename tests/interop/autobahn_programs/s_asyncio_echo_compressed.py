"""The echo server with permessage-deflate (examples/asyncio/websocket/echo_compressed)."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print("OUT: Client connecting: {0}".format(request.peer))

    def onOpen(self):
        print("OUT: WebSocket connection open, extensions in use: {0}".format(
            [ext.EXTENSION_NAME for ext in self.websocket_extensions_in_use]))

    def onMessage(self, payload, isBinary):
        if isBinary:
            print("OUT: Binary message received: {0} bytes".format(len(payload)))
        else:
            print("OUT: Text message received: {0}".format(payload.decode("utf8")))
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print("OUT: WebSocket connection closed: {0} {1} {2}".format(wasClean, code, reason))


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}")
    factory.protocol = MyServerProtocol

    def accept(offers):
        for offer in offers:
            if isinstance(offer, PerMessageDeflateOffer):
                return PerMessageDeflateOfferAccept(offer)

    factory.setProtocolOptions(perMessageCompressionAccept=accept)

    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    print("OUT: listening", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
