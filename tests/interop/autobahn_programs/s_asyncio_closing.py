"""Server closing in the ways programs do: with no code, with its own code and reason."""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol


class MyServerProtocol(WebSocketServerProtocol):
    def onOpen(self):
        print(f"OUT: open {self.http_request_path}")

    def onMessage(self, payload, isBinary):
        command = payload.decode("utf8")
        print(f"OUT: command {command}")
        if command == "close":
            self.sendClose()
        elif command == "close-custom":
            self.sendClose(code=3001, reason="custom reason")
        elif command == "close-normal":
            self.sendClose(code=WebSocketServerProtocol.CLOSE_STATUS_CODE_NORMAL, reason="done")
        else:
            self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print("OUT: WebSocket connection closed: {0} {1} {2}".format(wasClean, code, reason))


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    port = int(sys.argv[1])
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{port}", server="MyServer/1.0")
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
