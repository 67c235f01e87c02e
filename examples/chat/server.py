"""Chat server: every message a client sends is broadcast to all connected clients.

    python examples/chat/server.py [--port 9000]

Then connect two clients (``python examples/chat/client.py``) and type.
The broadcast frames each message once (``prepareMessage``) and writes the
same bytes to every connection.
"""

import argparse
import asyncio

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol


class ChatServerProtocol(WebSocketServerProtocol):
    def onOpen(self):
        self.factory.register(self)

    def onMessage(self, payload, isBinary):
        if isBinary:
            self.sendClose(1003, "text messages only")
            return
        text = payload.decode("utf8")
        self.factory.broadcast(f"[{self.peer}] {text}")

    def onClose(self, wasClean, code, reason):
        self.factory.unregister(self)


class ChatServerFactory(WebSocketServerFactory):
    protocol = ChatServerProtocol

    def __init__(self, url):
        super().__init__(url)
        self.clients = set()

    def register(self, client):
        self.clients.add(client)
        self.broadcast(f"* {client.peer} joined ({len(self.clients)} online)")

    def unregister(self, client):
        if client in self.clients:
            self.clients.discard(client)
            self.broadcast(f"* {client.peer} left ({len(self.clients)} online)")

    def broadcast(self, text):
        message = self.prepareMessage(text.encode("utf8"))
        for client in list(self.clients):
            if client.state == client.STATE_OPEN:
                client.sendPreparedMessage(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()

    factory = ChatServerFactory(f"ws://{args.host}:{args.port}")
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    print(f"chat server listening on ws://{args.host}:{args.port}", flush=True)
    print(f"connect with: python examples/chat/client.py ws://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
