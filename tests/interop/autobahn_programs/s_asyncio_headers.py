"""Server reading the client's headers and answering with its own."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        print("OUT: client header {0}".format(request.headers.get("x-client")))
        print(f"OUT: params {sorted(request.params.items())}")
        return (None, {"X-Server": "server-value"})

    def onOpen(self):
        self.sendMessage(self.http_headers.get("x-client", "none").encode("utf8"))


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    # a list value is one field each (several Set-Cookie); a number is formatted
    factory = WebSocketServerFactory(
        f"ws://127.0.0.1:{port}", headers={"Set-Cookie": ["a=1", "b=2"], "X-Count": 5}
    )
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
