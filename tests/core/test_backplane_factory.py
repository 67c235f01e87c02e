"""A server factory and its RedisBackplane, with no sockets.

The runtime-neutral server factory and protocol run on a fake
:class:`~wsproto_cb.runtime.Runtime` (it records what each connection
writes) and the backplane on the fake BackplaneIO of test_backplane_link.
Connections open with a real client handshake fed as bytes.  What is
checked: the factory subscribes a group's channel on its first local member
and unsubscribes on its last, ``broadcast`` sends locally first and then
publishes, and another node's message reaches every local member as one
frame built once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_backplane_link import (
    Connect,
    FakeIO,
    FakeStream,
    FakeTimer,
    answer_setup,
    answer_topology,
)

from tests.callbacks.bed import FakeRuntime as BedRuntime
from wsproto_cb.backplane import LocalBackplane, RedisBackplane
from wsproto_cb.backplane.envelope import decode_envelope, encode_envelope
from wsproto_cb.backplane.resp import encode_command
from wsproto_cb.core.frames import build_frame
from wsproto_cb.core.handshake_client import ClientHandshake
from wsproto_cb.factories import WebSocketServerFactory
from wsproto_cb.server import WebSocketServerProtocol

OTHER = b"\x0b" * 8


class _IOClock:
    """The fake BackplaneIO's clock, in the shape of the callback bed's Clock."""

    def __init__(self, io: FakeIO) -> None:
        self._io = io

    def seconds(self) -> float:
        return self._io.now

    def callLater(self, delay: float, func: Callable[..., object], *args: Any) -> FakeTimer:
        return self._io.call_later(delay, lambda: func(*args))


class FakeRuntime(BedRuntime):
    """The callback bed's runtime on the backplane IO's clock, recording writes in
    a shared log; any error or warning fails the test."""

    def __init__(self, io: FakeIO, log: list[tuple[str, bytes]], name: str) -> None:
        super().__init__(_IOClock(io), name, log)  # type: ignore[arg-type]

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        raise AssertionError(f"unexpected error: {message}: {exc!r}")

    def log_warning(self, message: str) -> None:
        raise AssertionError(f"unexpected warning: {message}")


class Factory(WebSocketServerFactory):
    """The runtime-neutral factory with the fake IO as its runtime's."""

    fake_io: FakeIO

    def _backplane_io(self) -> FakeIO:
        return self.fake_io


class Node:
    """One server process: a factory, its backplane and its connections."""

    def __init__(self) -> None:
        #: every write, to a connection ("c0", "c1", ...) or to Redis, in order
        self.wire: list[tuple[str, bytes]] = []
        self.io = FakeIO(wire_log=self.wire)
        self.factory = Factory()
        self.factory.fake_io = self.io
        self.runtimes: list[FakeRuntime] = []
        self.links: dict[str, tuple[Connect, FakeStream]] = {}
        self._opened = 0

    def connect(self) -> WebSocketServerProtocol:
        """A client connects and completes the opening handshake."""
        rt = FakeRuntime(self.io, self.wire, f"c{len(self.runtimes)}")
        self.runtimes.append(rt)
        proto = WebSocketServerProtocol()
        proto.factory = self.factory
        proto._connection_made(rt)
        proto._data_received(ClientHandshake("localhost", 80, "/").data_to_send())
        assert rt.writes[0].startswith(b"HTTP/1.1 101 "), rt.writes
        assert proto.state == proto.STATE_OPEN
        rt.writes.clear()
        return proto

    def redis_ready(self) -> None:
        """The backplane's links connect and finish their set-up."""
        while self._opened < len(self.io.connects):
            connect = self.io.connects[self._opened]
            self._opened += 1
            stream = self.io.open(connect)
            name = next(c[2] for c in stream.commands() if c[:2] == [b"CLIENT", b"SETNAME"])
            role = name.decode().rsplit("-", 1)[1]
            if role == "topology":  # (asks CLUSTER SLOTS first: no cluster here)
                answer_topology(connect, stream)
                continue
            self.links[role] = (connect, stream)
            answer_setup(connect, stream)

    def subscriptions(self) -> list[list[bytes]]:
        return self.links["sub"][1].take()

    def published(self) -> list[Any]:
        return [decode_envelope(c[2]) for c in self.links["pub"][1].take() if c[0] == b"PUBLISH"]

    def message(self, group: str | None, sequence: int, payload: bytes, binary: bool) -> None:
        backplane = self.factory.backplane
        assert isinstance(backplane, RedisBackplane)
        channel = backplane.channel(group)
        envelope = encode_envelope(OTHER, sequence, group, payload, binary)
        self.links["sub"][0].handler.data_received(encode_command("message", channel, envelope))


@pytest.fixture
def node() -> Node:
    node = Node()
    node.factory.setBackplane(RedisBackplane(probeInterval=1000.0))
    node.redis_ready()
    return node


def test_factory_has_a_local_backplane_by_default() -> None:
    factory = WebSocketServerFactory()
    assert type(factory.backplane) is LocalBackplane
    assert factory.backplane.listener is factory
    with pytest.raises(TypeError, match="expected a Backplane"):
        factory.setBackplane("redis://h")


def test_everyone_channel_follows_the_first_and_last_open_connection(node: Node) -> None:
    assert node.subscriptions() == []
    first = node.connect()
    assert node.subscriptions() == [[b"SUBSCRIBE", b"wsproto_cb:all"]]
    second = node.connect()
    first._connection_lost("gone")
    assert node.subscriptions() == []
    second._connection_lost("gone")
    assert node.subscriptions() == [[b"UNSUBSCRIBE", b"wsproto_cb:all"]]


def test_group_channel_follows_the_first_and_last_member(node: Node) -> None:
    a, b, c = node.connect(), node.connect(), node.connect()
    node.subscriptions()
    a.joinGroup("room")
    b.joinGroup("room")
    a.joinGroup("room")
    assert node.subscriptions() == [[b"SUBSCRIBE", b"wsproto_cb:g:room"]]
    a.leaveGroup("room")
    c.leaveGroup("room")  # (never a member)
    assert node.subscriptions() == []
    b._connection_lost("gone")  # (a closed connection leaves its groups)
    assert node.subscriptions() == [[b"UNSUBSCRIBE", b"wsproto_cb:g:room"]]


def test_set_backplane_subscribes_what_is_already_there() -> None:
    node = Node()
    proto = node.connect()
    proto.joinGroup("room")
    old = node.factory.backplane
    node.factory.setBackplane(RedisBackplane(probeInterval=1000.0))
    assert old.listener is None
    node.redis_ready()
    (command,) = node.subscriptions()
    assert command[0] == b"SUBSCRIBE"
    assert sorted(command[1:]) == [b"wsproto_cb:all", b"wsproto_cb:g:room"]


def test_replacing_a_redis_backplane_closes_its_links(node: Node) -> None:
    streams = [stream for _, stream in node.links.values()]
    node.factory.setBackplane(LocalBackplane())
    assert [(stream.closes, stream.aborts) for stream in streams] == [(1, 0), (1, 0)]
    assert node.io.pending() == []


def test_broadcast_sends_locally_then_publishes(node: Node) -> None:
    members = [node.connect() for _ in range(3)]
    outsider = node.connect()
    for proto in members:
        proto.joinGroup("room")
    node.wire.clear()
    assert node.factory.broadcast(b"hi", group="room") == 3
    assert node.factory.broadcast(b"\x00\x01", isBinary=True) == 4
    # local connections first, then Redis, for each broadcast
    assert [who if who == "redis" else "ws" for who, _ in node.wire] == (
        ["ws"] * 3 + ["redis"] + ["ws"] * 4 + ["redis"]
    )
    assert sorted(node.wire[:3]) == [(f"c{i}", b"\x81\x02hi") for i in range(3)]
    assert [(e.group, e.sequence, e.payload, e.is_binary) for e in node.published()] == [
        ("room", 1, b"hi", False),
        (None, 1, b"\x00\x01", True),
    ]
    assert outsider.state == outsider.STATE_OPEN


def test_another_nodes_message_is_one_frame_for_every_member(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[bytes] = []

    def counting_build(*args: Any, **kwargs: Any) -> bytes:
        frame = build_frame(*args, **kwargs)
        built.append(frame)
        return frame

    monkeypatch.setattr("wsproto_cb.prepared.build_frame", counting_build)
    members = [node.connect() for _ in range(5)]
    node.connect()  # not in the group
    for proto in members:
        proto.joinGroup("room")
    node.message("room", 1, b"from afar", False)
    node.message(None, 1, b"\xffall", True)
    assert built == [b"\x81\x09from afar", b"\x82\x04\xffall"]
    for rt in node.runtimes[:5]:
        assert rt.writes == built
        assert rt.writes[0] is built[0]  # the same bytes object, not a copy
    assert node.runtimes[5].writes == [built[1]]
    assert node.published() == []  # (delivered here only: never published again)


def test_backplane_callbacks_default_to_logging(node: Node) -> None:
    node.connect().joinGroup("room")
    node.message("room", 1, b"a", False)
    node.message("room", 4, b"b", False)
    node.links["pub"][0].handler.connection_lost("connection reset")
    node.io.advance(10)
    node.redis_ready()
    levels_and_texts = [(level, text.split(" (")[0]) for level, text in node.io.logs]
    assert levels_and_texts == [
        ("warning", f"backplane: 2 message(s) from node {OTHER.hex()} to group 'room' were lost"),
        ("warning", "backplane lost"),
        ("info", "backplane restored"),
    ]
