"""Chat server: a web page and WebSocket on one port, with Twisted Web.

    python examples/chat/server.py [--host 127.0.0.1] [--port 9000]
        [--backplane redis://127.0.0.1:6379/0] [--workers N] [--node NAME]

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
online, the negotiated extensions (permessage-deflate) and which server
it reached (``node``: ``--node``, by default the host name and port, plus
the worker).

Broadcast: a client that joins enters the group ``chat``
(``self.joinGroup``), and every join, message and leave goes out with
``factory.broadcast(payload, group="chat")``, which frames the message
once and writes the same bytes to every member.  The server accepts
permessage-deflate with no context takeover on its side, so a broadcast
message is compressed once per compressor setting (browsers all negotiate
the same one) and that compressed frame goes to every member, instead of
one compression per recipient as context takeover would need
(docs/compression.md, "Broadcast and compression").  The welcome goes to
one client and is compressed for it alone.

Scaling out
    ``--backplane redis://HOST:PORT/DB`` (or ``--redis``): every chat server
    on the same Redis is a node of one chat.  ``factory.broadcast`` reaches
    this node's members at once and the backplane carries the message to the
    members on every other node, so two servers on two machines (or two
    ports) are one chat room.

    ``--workers N``: N worker processes listen on the same port (SO_REUSEPORT)
    and the kernel spreads the connections over them; this process only
    starts, restarts and stops them (SIGTERM or Ctrl-C: each worker closes
    its connections with 1001, going away, then exits).  Workers are nodes
    too: without ``--backplane`` a message reaches only the clients of the
    worker that received it, and the first worker says so at start-up.

    Per node only: the welcome's ``online`` list and the check that a name
    is not taken cover the clients of this node (process).  Two nodes may
    each have an alice, and a newcomer is not told who is already on other
    nodes (their messages, joins and leaves do reach it).  A node that is
    stopped (SIGTERM, Ctrl-C) still sends its clients' ``leave`` messages
    before its link to Redis closes; one that dies, or loses Redis, does
    not, and the others are not told (the backplane promises at most once,
    nothing queued).  Sharing presence would take state in Redis, beyond
    this example.
"""

import argparse
import json
import os
import signal
import socket
import sys
import unicodedata
from pathlib import Path

from twisted.internet import endpoints, reactor
from twisted.logger import globalLogBeginner, textFileLogObserver
from twisted.web import pages
from twisted.web.resource import Resource
from twisted.web.server import Site

from wsproto_cb.backplane import backplane_from_url
from wsproto_cb.backplane.secrets import URL_ENV, backplane_url
from wsproto_cb.compress import PerMessageDeflateOfferAccept, accept_deflate_offer
from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol
from wsproto_cb.twisted.resource import WebSocketResource
from wsproto_cb.twisted.reuseport import reuse_port_endpoint
from wsproto_cb.workers import (
    argv_without,
    current_worker,
    die_with_parent,
    own_command,
    run_workers,
    warn_without_backplane,
)

HERE = Path(__file__).resolve().parent
MAX_NAME = 32
MAX_TEXT = 2000
GROUP = "chat"


def say(text, file=sys.stdout):
    """One line of the server log, in one write: workers share the parent's output,
    and a worker's lines start with its name and PID."""
    worker = current_worker()
    if worker is not None:
        text = f"worker {worker[0]}/{worker[1]} (pid {os.getpid()}): {text}"
    file.write(text + "\n")
    file.flush()


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


def accept_deflate_for_broadcast(offers):
    """``accept_deflate_offer``'s choice, with no context takeover on the server side.

    Then every message the server compresses depends on its bytes and the
    compressor settings only, so a broadcast compresses it once for all.
    """
    accept = accept_deflate_offer(offers)
    if accept is None:
        return None
    return PerMessageDeflateOfferAccept(
        accept.offer,
        request_max_window_bits=accept.request_max_window_bits,
        no_context_takeover=True,
        window_bits=accept.window_bits,
        mem_level=accept.mem_level,
    )


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
            self.factory.broadcast_json({"type": "message", "name": self.name, "text": text})

    def onClose(self, wasClean, code, reason):
        self.factory.leave(self)

    def send_json(self, obj):
        self.sendMessage(json.dumps(obj).encode())


class ChatServerFactory(WebSocketServerFactory):
    protocol = ChatServerProtocol

    def __init__(self, url, node):
        super().__init__(url)
        self.node = node
        self.members = {}  # protocol -> name: the clients of this node only

    def join(self, client):
        self.members[client] = client.name
        client.joinGroup(GROUP)
        client.send_json(
            {
                "type": "welcome",
                "name": client.name,
                "online": sorted(self.members.values()),
                "extensions": [ext.__json__() for ext in client.websocket_extensions_in_use],
                "node": self.node,
            }
        )
        self.broadcast_json({"type": "join", "name": client.name})
        say(f"{client.name} joined from {client.peer}")

    def leave(self, client):
        name = self.members.pop(client, None)
        if name is not None:  # (a closed connection has left the group by itself)
            self.broadcast_json({"type": "leave", "name": name})
            say(f"{name} left")

    def broadcast_json(self, obj):
        """To every member of the chat: here at once, on other nodes through the backplane."""
        self.broadcast(json.dumps(obj).encode(), group=GROUP)


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


def node_name(name, port):
    """How the welcome names this server (default: host name and port), and the worker."""
    name = name or f"{socket.gethostname()}:{port}"
    worker = current_worker()
    return name if worker is None else f"{name} worker {worker[0]}/{worker[1]}"


def parse_args():
    # (no abbreviations: the workers' arguments leave out --backplane by its full name)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--origin", action="append", default=[], help="another allowed Origin")
    parser.add_argument(
        "--backplane",
        "--redis",
        metavar="URL",
        help=(
            "share the chat with every server on this Redis (redis://HOST:PORT/DB); "
            f"default: ${URL_ENV}, the place for a URL with a password (ps shows arguments)"
        ),
    )
    parser.add_argument(
        "--node",
        metavar="NAME",
        help="how the welcome names this server to clients (default: HOSTNAME:PORT)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N worker processes on the same port (SO_REUSEPORT); needs --backplane",
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1 and args.port == 0:
        parser.error("--workers needs a fixed --port (not 0)")
    args.backplane = backplane_url(args.backplane, None)  # (the flag, else $URL_ENV)
    if args.backplane is not None:
        try:
            backplane_from_url(args.backplane)  # (checked before any worker starts)
        except ValueError as exc:
            parser.error(f"--backplane: {exc}")
    return args


def main():
    args = parse_args()
    worker = current_worker()
    if args.workers > 1:
        if worker is None:  # the parent: this same script, N times
            # (the URL may hold a password: to the workers in their environment,
            # where other users cannot read it, never in their arguments)
            argv = argv_without(own_command(), "--backplane", "--redis")
            env = {URL_ENV: args.backplane} if args.backplane is not None else None
            sys.exit(run_workers(args.workers, argv, prefix="chat server", env=env))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # (the parent sends SIGTERM)
        die_with_parent()

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    factory = ChatServerFactory(f"ws://{args.host}:{args.port}/ws", node_name(args.node, args.port))
    factory.setProtocolOptions(
        perMessageCompressionAccept=accept_deflate_for_broadcast,
        maxMessagePayloadSize=16 * 1024,
        # Browsers send the page's origin: accept only our own page, so that
        # no other web site can open a chat connection in a visitor's name.
        allowedOrigins=[f"http://{h}:{args.port}" for h in {args.host, "localhost", "127.0.0.1"}]
        + args.origin,
        # "Origin: null" is what a sandboxed iframe, a file:// page or a
        # cross-site redirect sends: a page we cannot tell apart from any other.
        allowNullOrigin=False,
    )
    if args.backplane is not None:
        factory.setBackplane(backplane_from_url(args.backplane))
        where = getattr(factory.backplane, "address", args.backplane.partition("://")[0])
        say(f"chat server: broadcasting to the other nodes through {where}")
    warn_without_backplane(factory, lambda text: say(f"warning: {text}", sys.stderr))

    endpoint = endpoints.serverFromString(
        reactor, f"tcp:{args.port}:interface={endpoints.quoteStringArgument(args.host)}"
    )
    if worker is not None:
        endpoint = reuse_port_endpoint(reactor, endpoint)  # every worker on the same port
    status = []

    def listening(port):
        say(f"chat server running: open http://{args.host}:{args.port}/ in your browser")
        say(
            "or join from a terminal: python examples/chat/client.py "
            f"ws://{args.host}:{args.port}/ws --name YOURNAME"
        )

    def failed(failure):
        say(f"cannot listen on {args.host}:{args.port}: {failure.value}", sys.stderr)
        status.append(1)
        reactor.stop()

    reactor.callWhenRunning(
        lambda: endpoint.listen(make_site(factory)).addCallbacks(listening, failed)
    )
    reactor.run()  # SIGTERM, Ctrl-C: every connection is closed with 1001 first
    sys.exit(status[0] if status else 0)


if __name__ == "__main__":
    main()
