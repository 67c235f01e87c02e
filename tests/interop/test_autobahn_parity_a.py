"""Differential check: one small Autobahn program, run on Autobahn and on wsproto_cb.

The program (below) uses the names issue 15 items 1, 2, 7, 8 and 10 are
about: the factory's reactor/loop from a callback, a protocol class
attribute overriding a factory option, ``trafficStats``, ``is_open``,
``getConnectionCount``, an ``on("message")`` observer, ``onCloseFrame``,
the close details (``closedByMe``, ``localCloseCode`` ...), a close reason
too long for a frame, control sends after the close, and the constants.
It runs a server and a client in one process and prints what it sees;
each implementation runs in a subprocess of its own (txaio chooses one
framework per process), with only the import line changed, and the printed
lines must be the same.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("autobahn")

IMPORTS = {
    ("autobahn", "asyncio"): "from autobahn.asyncio.websocket import "
    "WebSocketServerProtocol, WebSocketServerFactory, "
    "WebSocketClientProtocol, WebSocketClientFactory",
    ("autobahn", "twisted"): "from autobahn.twisted.websocket import "
    "WebSocketServerProtocol, WebSocketServerFactory, "
    "WebSocketClientProtocol, WebSocketClientFactory",
    ("wsproto_cb", "asyncio"): "from wsproto_cb.asyncio import "
    "WebSocketServerProtocol, WebSocketServerFactory, "
    "WebSocketClientProtocol, WebSocketClientFactory",
    ("wsproto_cb", "twisted"): "from wsproto_cb.twisted import "
    "WebSocketServerProtocol, WebSocketServerFactory, "
    "WebSocketClientProtocol, WebSocketClientFactory",
}

PROGRAM = """
RUNTIME = {runtime!r}
{imports}


def done(future):
    return bool(getattr(future, "called", False) or (hasattr(future, "done") and future.done()))


def close_details(who, proto):
    print(who, "closedByMe", proto.closedByMe)
    print(who, "local", proto.localCloseCode, proto.localCloseReason)
    print(who, "remote", proto.remoteCloseCode, proto.remoteCloseReason)
    try:
        proto.sendPing(b"late")
        proto.sendPong(b"late")
        proto.beginMessage()
        proto.endMessage()
        print(who, "control sends after close: ignored")
    except Exception as exc:
        print(who, "control sends after close raise", type(exc).__name__)


class Server(WebSocketServerProtocol):
    maxMessagePayloadSize = 1000

    def onOpen(self):
        print("server option from class", self.maxMessagePayloadSize)
        print("server option from factory", self.autoFragmentSize, self.utf8validateIncoming)
        print("server connections", self.factory.getConnectionCount())
        print("constants", self.CLOSE_STATUS_CODE_NORMAL, self.CLOSE_STATUS_CODE_GOING_AWAY,
              self.CLOSE_STATUS_CODE_PROTOCOL_ERROR, self.CLOSE_STATUS_CODE_MESSAGE_TOO_BIG,
              self.MESSAGE_TYPE_TEXT, self.MESSAGE_TYPE_BINARY)
        self.on("message", self.observed)

    def observed(self, payload, is_binary=False):
        print("observer", len(payload), is_binary)

    def onMessage(self, payload, isBinary):
        print("server is_open resolved", done(self.is_open))
        self.sendMessage(payload, isBinary)

    def onCloseFrame(self, code, reasonRaw):
        print("server close frame", code, len(reasonRaw or b""))
        return super().onCloseFrame(code, reasonRaw)

    def onClose(self, wasClean, code, reason):
        print("server closed", wasClean, code, reason)
        close_details("server", self)


class Client(WebSocketClientProtocol):
    echoes = 0

    def onOpen(self):
        if RUNTIME == "twisted":
            self.factory.reactor.callLater(0.01, self.hello)
        else:
            self.factory.loop.call_later(0.01, self.hello)

    def hello(self):
        self.sendMessage(b"a" * 200, True)
        self.sendMessage(b"b" * 10)

    def onMessage(self, payload, isBinary):
        self.echoes += 1
        if self.echoes == 2:
            stats = self.trafficStats
            for name in ("outgoingWebSocketMessages", "outgoingWebSocketFrames",
                         "outgoingOctetsAppLevel", "outgoingOctetsWebSocketLevel",
                         "outgoingOctetsWireLevel", "incomingWebSocketMessages",
                         "incomingWebSocketFrames", "incomingOctetsAppLevel",
                         "incomingOctetsWebSocketLevel", "incomingOctetsWireLevel"):
                print("client", name, getattr(stats, name))
            self.sendClose(4000, "\\u00e9" * 100)

    def onClose(self, wasClean, code, reason):
        print("client closed", wasClean, code, reason)
        close_details("client", self)
        stop()


if RUNTIME == "asyncio":
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server_factory = WebSocketServerFactory("ws://127.0.0.1")
    server_factory.protocol = Server
    server = loop.run_until_complete(loop.create_server(server_factory, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    client_factory = WebSocketClientFactory("ws://127.0.0.1:%d" % port)
    client_factory.protocol = Client

    def stop():
        loop.call_later(0.2, loop.stop)

    loop.run_until_complete(loop.create_connection(client_factory, "127.0.0.1", port))
    loop.call_later(10, loop.stop)
    loop.run_forever()
else:
    from twisted.internet import reactor

    server_factory = WebSocketServerFactory("ws://127.0.0.1")
    server_factory.protocol = Server
    port = reactor.listenTCP(0, server_factory, interface="127.0.0.1").getHost().port
    client_factory = WebSocketClientFactory("ws://127.0.0.1:%d" % port)
    client_factory.protocol = Client
    reactor.connectTCP("127.0.0.1", port, client_factory)

    def stop():
        reactor.callLater(0.2, reactor.stop)

    reactor.callLater(10, reactor.stop)
    reactor.run()
"""


def run(impl: str, runtime: str) -> list[str]:
    source = PROGRAM.format(runtime=runtime, imports=IMPORTS[impl, runtime])
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_the_same_program_prints_the_same_on_autobahn_and_wsproto_cb(runtime: str) -> None:
    theirs = run("autobahn", runtime)
    ours = run("wsproto_cb", runtime)
    assert "client closed True 1000 None" in theirs  # the program ran to its end
    assert sorted(ours) == sorted(theirs)  # (server and client lines may interleave)


def test_install_reactor_installs_the_same_reactor() -> None:
    program = (
        "from {module} import install_reactor, current_reactor_klass\n"
        "print(current_reactor_klass())\n"
        "reactor = install_reactor({args})\n"
        "print(type(reactor).__name__, current_reactor_klass())\n"
    )
    for args in ("", "'asyncio'", "explicit_reactor='select', verbose=True"):
        outputs = []
        for module in ("autobahn.twisted.choosereactor", "wsproto_cb.twisted.choosereactor"):
            result = subprocess.run(
                [sys.executable, "-c", program.format(module=module, args=args)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
        assert outputs[0] == outputs[1]
        assert outputs[1].startswith("None\n")
