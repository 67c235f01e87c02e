"""Server refusing some clients with ConnectionDeny and choosing a subprotocol."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        if request.path == "/private":
            print(f"OUT: denying {request.path}")
            raise ConnectionDeny(403, "nope")
        for proto in request.protocols:
            if proto in ("v2", "v1"):
                print(f"OUT: chose {proto}")
                return proto
        print("OUT: no subprotocol")
        return None


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}", protocols=["v1"])
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
