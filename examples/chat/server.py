"""Chat server: a web page and WebSocket on one port, with Twisted Web.

    python examples/chat/server.py [--host 127.0.0.1] [--port 9000]

Open http://127.0.0.1:9000/ in two browser tabs, or join from a terminal
with ``python examples/chat/client.py ws://127.0.0.1:9000/ws --name bob``.
Browsers send the page's origin with the WebSocket request and the server
accepts only its own (``http://127.0.0.1:9000``, ``http://localhost:9000``):
serving on another address, add the origin browsers will use with
``--origin http://HOST:PORT``.

One Twisted Web ``Site`` serves the page (``/``, ``chat.js``, ``chat.css``) and, through
:class:`~wsproto_cb.twisted.resource.WebSocketResource`, the chat at ``/ws``.
Messages are JSON text.  A client sends ``{"type": "join", "name": ...}``
first, then ``{"type": "message", "text": ...}``; the server broadcasts
``join``, ``message`` and ``leave`` objects (with ``name``, ``text``) to
everyone, and greets each newcomer with a ``welcome`` that lists who is
online and the negotiated extensions (permessage-deflate).

Broadcasts are framed once (``prepareMessage``) and the same bytes go to
every client.  They are sent uncompressed: chat lines are too short for
deflate to win anything, and a compressed frame would have to be built per
connection (each has its own deflate context).
"""

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from twisted.internet import reactor
from twisted.logger import globalLogBeginner, textFileLogObserver
from twisted.web import pages
from twisted.web.resource import Resource
from twisted.web.server import Site

from wsproto_cb.compress import accept_deflate_offer
from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol
from wsproto_cb.twisted.resource import WebSocketResource

HERE = Path(__file__).resolve().parent
MAX_NAME = 32
MAX_TEXT = 2000


def clean(value, limit, drop="C"):
    """One line of at most ``limit`` characters, or None.

    Drops control characters (Unicode category ``Cc``) and, by default, all
    other invisible ones (``C*``: format characters such as right-to-left
    overrides, which could make a name look like another).
    """
    if not isinstance(value, str):
        return None
    value = "".join(c for c in value if not unicodedata.category(c).startswith(drop)).strip()
    return value[:limit] or None


class ChatServerProtocol(WebSocketServerProtocol):
    name = None

    def onMessage(self, payload, isBinary):
        if isBinary:
            self.sendClose(1003, "JSON text messages only")
            return
        try:
            msg = json.loads(payload)
        except ValueError:
            self.sendClose(1008, "messages must be JSON")
            return
        if not isinstance(msg, dict):
            self.sendClose(1008, "messages must be JSON objects")
        elif msg.get("type") == "join":
            self.on_join(msg)
        elif msg.get("type") == "message":
            self.on_chat(msg)
        else:
            self.send_json({"type": "error", "text": "unknown message type"})

    def on_join(self, msg):
        name = clean(msg.get("name"), MAX_NAME)
        if self.name is not None:
            self.send_json({"type": "error", "text": f"already joined as {self.name!r}"})
        elif name is None:
            self.send_json({"type": "error", "text": "a name is required"})
        elif name in self.factory.members.values():
            self.send_json({"type": "error", "text": f"the name {name!r} is taken"})
        else:
            self.name = name
            self.factory.join(self)

    def on_chat(self, msg):
        text = clean(msg.get("text"), MAX_TEXT, drop="Cc")  # (keeps emoji joiners)
        if self.name is None:
            self.send_json({"type": "error", "text": "join first, then send messages"})
        elif text is not None:
            self.factory.broadcast({"type": "message", "name": self.name, "text": text})

    def onClose(self, wasClean, code, reason):
        self.factory.leave(self)

    def send_json(self, obj):
        self.sendMessage(json.dumps(obj).encode())


class ChatServerFactory(WebSocketServerFactory):
    protocol = ChatServerProtocol

    def __init__(self, url):
        super().__init__(url)
        self.members = {}  # protocol -> name

    def join(self, client):
        self.members[client] = client.name
        client.send_json(
            {
                "type": "welcome",
                "name": client.name,
                "online": sorted(self.members.values()),
                "extensions": [ext.__json__() for ext in client.websocket_extensions_in_use],
            }
        )
        self.broadcast({"type": "join", "name": client.name})
        print(f"{client.name} joined from {client.peer}", flush=True)

    def leave(self, client):
        name = self.members.pop(client, None)
        if name is not None:
            self.broadcast({"type": "leave", "name": name})
            print(f"{name} left", flush=True)

    def broadcast(self, obj):
        message = self.prepareMessage(json.dumps(obj).encode(), doNotCompress=True)
        for client in list(self.members):
            if client.state == client.STATE_OPEN:
                client.sendPreparedMessage(message)


class StaticFile(Resource):
    """One file, read at start-up; nothing from the request reaches the file system."""

    isLeaf = True

    def __init__(self, path, content_type):
        super().__init__()
        self.body = path.read_bytes()
        self.content_type = content_type

    def render_GET(self, request):
        request.setHeader("Content-Type", self.content_type)
        request.setHeader("X-Content-Type-Options", "nosniff")
        request.setHeader("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
        return self.body


class Root(Resource):
    def getChild(self, path, request):
        return pages.notFound()


PAGES = {
    b"": ("index.html", "text/html; charset=utf-8"),
    b"chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    b"chat.css": ("chat.css", "text/css; charset=utf-8"),
}


def make_site(factory):
    root = Root()
    for path, (filename, content_type) in PAGES.items():
        root.putChild(path, StaticFile(HERE / filename, content_type))
    root.putChild(b"ws", WebSocketResource(factory))
    return Site(root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--origin", action="append", default=[], help="another allowed Origin")
    args = parser.parse_args()

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    factory = ChatServerFactory(f"ws://{args.host}:{args.port}/ws")
    factory.setProtocolOptions(
        perMessageCompressionAccept=accept_deflate_offer,
        maxMessagePayloadSize=16 * 1024,
        # Browsers send the page's origin: accept only our own page, so that
        # no other web site can open a chat connection in a visitor's name.
        allowedOrigins=[f"http://{h}:{args.port}" for h in {args.host, "localhost", "127.0.0.1"}]
        + args.origin,
    )
    reactor.listenTCP(args.port, make_site(factory), interface=args.host)
    print(f"chat server running: open http://{args.host}:{args.port}/ in your browser", flush=True)
    print(
        "or join from a terminal: python examples/chat/client.py "
        f"ws://{args.host}:{args.port}/ws --name YOURNAME",
        flush=True,
    )
    reactor.run()


if __name__ == "__main__":
    main()
