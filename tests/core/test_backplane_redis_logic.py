"""RedisBackplane's logic without Redis: both links driven through a fake BackplaneIO.

The listener is a stand-in for a server factory (the calls a backplane makes
on it); what Redis would see is read back from the fake streams as RESP
commands, and what Redis would send is fed in as RESP bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from test_backplane_link import Connect, FakeIO, FakeStream, answer_setup, answer_topology

from wsproto_cb.backplane import (
    Backplane,
    LocalBackplane,
    RedisBackplane,
    backplane_from_url,
)
from wsproto_cb.backplane.address import RedisAddress, RedisTLS
from wsproto_cb.backplane.envelope import decode_envelope, encode_envelope
from wsproto_cb.backplane.resp import encode_command

OTHER = b"\x0b" * 8
THIRD = b"\x0c" * 8


@dataclass
class Listener:
    """What a server factory offers its backplane, recording every call."""

    io: FakeIO | None
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    #: kinds of call ("deliver", "gap", ...) that raise, as a buggy application's would
    failing: set[str] = field(default_factory=set)

    def _backplane_io(self) -> FakeIO | None:
        return self.io

    def _record(self, *call: Any) -> None:
        self.calls.append(call)
        if call[0] in self.failing:
            raise RuntimeError(f"application bug in {call[0]}")

    def _backplane_deliver(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        self._record("deliver", group, payload, isBinary)

    def onBackplaneLost(self, reason: str) -> None:
        self._record("lost", reason)

    def onBackplaneRestored(self) -> None:
        self._record("restored")

    def onBackplaneGap(self, group: str | None, node: str, missed: int) -> None:
        self._record("gap", group, node, missed)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == kind]


@dataclass
class Rig:
    io: FakeIO
    listener: Listener
    bp: RedisBackplane
    #: role ("pub"/"sub") -> the latest connection of that link
    links: dict[str, tuple[Connect, FakeStream]] = field(default_factory=dict)
    opened: int = 0

    def connect_pending(self) -> None:
        """Every connection asked for is made; each link writes its set-up.  The
        first one asks ``CLUSTER SLOTS`` and is told this Redis is no cluster."""
        while self.opened < len(self.io.connects):
            connect = self.io.connects[self.opened]
            self.opened += 1
            stream = self.io.open(connect)
            if stream.aborts:
                continue  # (an attempt the link gave up on: it refuses the connection)
            name = next(c[2] for c in stream.commands() if c[:2] == [b"CLIENT", b"SETNAME"])
            role = name.decode().rsplit("-", 1)[1]
            assert name == f"wsproto_cb-{self.bp.nodeId.hex()}-{role}".encode()
            if role == "topology":
                answer_topology(connect, stream)
                assert stream.closes == 1  # (it has done its job)
                continue
            self.links[role] = (connect, stream)

    def ready(self, *roles: str) -> None:
        self.connect_pending()
        for role in roles or ("pub", "sub"):
            answer_setup(*self.links[role])
        if not roles:
            assert self.bp.connected

    def stream(self, role: str) -> FakeStream:
        return self.links[role][1]

    def feed(self, role: str, data: bytes) -> None:
        self.links[role][0].handler.data_received(data)

    def lose(self, role: str, reason: str = "connection reset") -> None:
        self.links[role][0].handler.connection_lost(reason)

    def message(self, envelope: bytes, group: str | None = "room") -> None:
        """Redis hands the subscriber a message on ``group``'s channel."""
        self.feed("sub", encode_command("message", self.bp.channel(group), envelope))

    def published(self) -> list[tuple[bytes, Any]]:
        """(channel, decoded envelope) of every PUBLISH written since the last call."""
        out = []
        for command in self.stream("pub").take():
            assert command[0] == b"PUBLISH" and len(command) == 3
            out.append((command[1], decode_envelope(command[2])))
        return out


def make_rig(url: str = "redis://127.0.0.1:6379/0", **options: Any) -> Rig:
    """Attached and connecting; no probes unless asked for (the clock jumps whole seconds)."""
    io = FakeIO()
    listener = Listener(io)
    options.setdefault("probeInterval", 1000.0)
    bp = RedisBackplane(url, **options)
    bp.attach(listener)
    return Rig(io, listener, bp)


def ready_rig(*groups: str | None, **options: Any) -> Rig:
    rig = make_rig(**options)
    for group in groups:
        rig.bp.subscribe(group)
    rig.ready()
    rig.stream("sub").take()
    return rig


# ------------------------------------------------------------ start, channels


def test_attach_asks_whether_it_is_a_cluster_then_starts_two_links() -> None:
    rig = make_rig("redis://:pw@10.0.0.5:7000/3")
    assert [(c.host, c.port) for c in rig.io.connects] == [("10.0.0.5", 7000)]
    assert rig.bp.state == "connecting" and rig.bp.cluster is None
    rig.connect_pending()  # (it is not: plain pub/sub)
    assert [(c.host, c.port) for c in rig.io.connects] == [("10.0.0.5", 7000)] * 3
    assert rig.bp.cluster is False
    for role in ("pub", "sub"):
        assert rig.stream(role).commands()[:2] == [[b"AUTH", b"pw"], [b"SELECT", b"3"]]
    assert not rig.bp.connected
    rig.ready()
    assert rig.listener.calls == []  # (first connection: nothing was lost)


def test_no_io_yet_starts_on_first_use() -> None:
    listener = Listener(None)
    bp = RedisBackplane()
    bp.attach(listener)
    bp.subscribe("room")
    assert bp.stats.published == 0
    io = listener.io = FakeIO()
    bp.publish("room", b"x", False)  # starts now; dropped: nothing is up yet
    assert len(io.connects) == 1  # (the question: a cluster?)
    assert bp.stats.publish_dropped == 1


def test_channel_names() -> None:
    bp = RedisBackplane()
    assert bp.channel(None) == "wsproto_cb:all"
    assert bp.channel("room") == "wsproto_cb:g:room"
    assert bp.channel("") == "wsproto_cb:g:"
    assert bp.channel("all") == "wsproto_cb:g:all"  # (never the same as everyone's)
    custom = RedisBackplane(channelPrefix="app1/")
    assert custom.channel(None) == "app1/all"
    assert custom.channel("café") == "app1/g:café"


def test_subscribe_before_ready_subscribes_once_ready() -> None:
    rig = make_rig()
    rig.bp.subscribe(None)
    rig.bp.subscribe("room")
    rig.bp.subscribe("café ✓")
    rig.bp.unsubscribe("café ✓")
    rig.ready("pub")
    rig.ready("sub")
    (command,) = rig.stream("sub").take()
    assert command[0] == b"SUBSCRIBE"
    assert sorted(command[1:]) == [b"wsproto_cb:all", b"wsproto_cb:g:room"]
    assert rig.stream("pub").take() == []  # (the publisher never subscribes)


def test_nothing_wanted_nothing_subscribed() -> None:
    rig = ready_rig()
    assert rig.stream("sub").take() == []


def test_subscribe_and_unsubscribe_while_ready() -> None:
    rig = ready_rig()
    sub = rig.stream("sub")
    rig.bp.subscribe("room")
    rig.bp.subscribe("room")  # (already wanted: nothing sent)
    rig.bp.subscribe(None)
    rig.bp.subscribe("部屋")
    assert sub.take() == [
        [b"SUBSCRIBE", b"wsproto_cb:g:room"],
        [b"SUBSCRIBE", b"wsproto_cb:all"],
        [b"SUBSCRIBE", "wsproto_cb:g:部屋".encode()],
    ]
    rig.bp.unsubscribe("room")
    rig.bp.unsubscribe("room")
    rig.bp.unsubscribe("never")
    rig.bp.unsubscribe(None)
    assert sub.take() == [
        [b"UNSUBSCRIBE", b"wsproto_cb:g:room"],
        [b"UNSUBSCRIBE", b"wsproto_cb:all"],
    ]


def test_resubscribes_what_is_wanted_after_the_subscriber_reconnects() -> None:
    rig = ready_rig("a", "b")
    rig.lose("sub")
    rig.bp.unsubscribe("a")  # (while down: nothing to send, just not wanted any more)
    rig.bp.subscribe("c")
    rig.io.advance(10)
    rig.ready("sub")
    (command,) = rig.stream("sub").take()
    assert command[0] == b"SUBSCRIBE"
    assert sorted(command[1:]) == [b"wsproto_cb:g:b", b"wsproto_cb:g:c"]


# ----------------------------------------------------------------- publish


def test_publish_while_ready_writes_a_valid_envelope() -> None:
    rig = ready_rig()
    rig.bp.publish("room", b"\x00\xffdata", True)
    rig.bp.publish(None, "héllo".encode(), False)
    rig.bp.publish("room", b"", False)
    assert rig.published() == [
        (b"wsproto_cb:g:room", (rig.bp.nodeId, 1, "room", b"\x00\xffdata", True, 1)),
        (b"wsproto_cb:all", (rig.bp.nodeId, 1, None, "héllo".encode(), False, 2)),
        (b"wsproto_cb:g:room", (rig.bp.nodeId, 2, "room", b"", False, 1)),
    ]
    assert rig.bp.stats.published == 3
    assert rig.bp.stats.publish_dropped == 0


def test_publish_while_down_is_dropped_but_uses_a_sequence_number() -> None:
    rig = make_rig()
    rig.bp.publish("room", b"lost", False)
    rig.ready()
    rig.bp.publish("room", b"sent", False)
    assert rig.published() == [
        (b"wsproto_cb:g:room", (rig.bp.nodeId, 2, "room", b"sent", False, 1))
    ]
    rig.lose("pub")
    rig.bp.publish("room", b"lost too", False)
    rig.io.advance(10)
    rig.ready("pub")
    rig.bp.publish("room", b"after", False)
    ((_, envelope),) = rig.published()
    assert envelope.sequence == 4  # (receivers see 1 and 3 as gaps)
    assert rig.bp.stats.published == 4
    assert rig.bp.stats.publish_dropped == 2


def test_publish_needs_only_the_publisher() -> None:
    rig = make_rig()
    rig.ready("pub")
    rig.bp.publish(None, b"x", False)
    assert len(rig.published()) == 1


def test_publish_queue_limit() -> None:
    rig = ready_rig(publishQueueLimit=1000)
    rig.stream("pub").queued = 1000
    rig.bp.publish("g", b"at the limit", False)
    rig.stream("pub").queued = 1001
    rig.bp.publish("g", b"over the limit", False)
    rig.bp.publish("g", b"over the limit again", False)
    rig.stream("pub").queued = 0
    rig.bp.publish("g", b"drained", False)
    assert [(e.sequence, e.payload) for _, e in rig.published()] == [
        (1, b"at the limit"),
        (4, b"drained"),
    ]
    assert rig.bp.stats.publish_dropped == 2


# ----------------------------------------------------------------- receive


def test_message_from_another_node_is_delivered_once() -> None:
    rig = ready_rig("room", None)
    rig.message(encode_envelope(OTHER, 1, "room", b"\x00bin\xff", True))
    rig.message(encode_envelope(OTHER, 1, None, "tëxt".encode(), False), group=None)
    assert rig.listener.calls == [
        ("deliver", "room", b"\x00bin\xff", True),
        ("deliver", None, "tëxt".encode(), False),
    ]
    assert rig.bp.stats.received == 2


def test_message_split_across_reads_is_delivered_once() -> None:
    rig = ready_rig("room")
    wire = encode_command(
        "message", "wsproto_cb:g:room", encode_envelope(OTHER, 1, "room", b"hi", False)
    )
    for i in range(len(wire)):
        rig.feed("sub", wire[i : i + 1])
    assert rig.listener.calls == [("deliver", "room", b"hi", False)]


def test_own_echo_is_dropped_and_counted() -> None:
    rig = ready_rig("room")
    rig.bp.publish("room", b"mine", False)
    ((_, envelope),) = rig.published()
    rig.message(encode_envelope(rig.bp.nodeId, envelope.sequence, "room", b"mine", False))
    assert rig.listener.calls == []
    assert rig.bp.stats.own_echo == 1
    assert rig.bp.stats.received == 0


def test_gap_is_reported_counted_and_the_message_still_delivered() -> None:
    rig = ready_rig("room")
    for sequence in (1, 2, 5, 6, 9):
        rig.message(encode_envelope(OTHER, sequence, "room", b"%d" % sequence, False))
    assert rig.listener.calls == [
        ("deliver", "room", b"1", False),
        ("deliver", "room", b"2", False),
        ("gap", "room", OTHER.hex(), 2),
        ("deliver", "room", b"5", False),
        ("deliver", "room", b"6", False),
        ("gap", "room", OTHER.hex(), 2),
        ("deliver", "room", b"9", False),
    ]
    assert (rig.bp.stats.gaps, rig.bp.stats.missed, rig.bp.stats.received) == (2, 4, 5)


def test_a_repeat_is_dropped() -> None:
    # (older ones: tests/core/test_backplane_trust.py, signed and unsigned)
    rig = ready_rig("room")
    for sequence in (10, 10, 11):
        rig.message(encode_envelope(OTHER, sequence, "room", b"%d" % sequence, False))
    assert rig.listener.of("deliver") == [
        ("deliver", "room", b"10", False),
        ("deliver", "room", b"11", False),
    ]
    assert rig.bp.stats.stale == 1


def test_publishers_and_groups_are_counted_apart() -> None:
    rig = ready_rig("a", "b")
    rig.message(encode_envelope(OTHER, 1, "a", b"", False), group="a")
    rig.message(encode_envelope(THIRD, 7, "a", b"", False), group="a")
    rig.message(encode_envelope(OTHER, 3, "b", b"", False), group="b")
    rig.message(encode_envelope(OTHER, 2, "a", b"", False), group="a")
    rig.message(encode_envelope(THIRD, 8, "a", b"", False), group="a")
    assert rig.listener.of("gap") == []
    assert rig.bp.stats.received == 5


def test_malformed_is_counted_and_logged_once() -> None:
    rig = ready_rig("room")
    good = encode_envelope(OTHER, 1, "room", b"ok", False)
    for junk in (b"hello", b"", b"XXXX" + good[4:], good[:10]):
        rig.message(junk)
    rig.message(good)
    assert rig.listener.calls == [("deliver", "room", b"ok", False)]
    assert rig.bp.stats.malformed == 4
    (log,) = rig.io.logs
    assert log[0] == "warning" and "not ours" in log[1]


def test_message_for_a_group_not_wanted_is_dropped() -> None:
    rig = ready_rig("room")
    rig.message(encode_envelope(OTHER, 1, "elsewhere", b"x", False))
    rig.message(encode_envelope(OTHER, 1, None, b"x", False))
    rig.bp.unsubscribe("room")
    rig.message(encode_envelope(OTHER, 1, "room", b"in flight", False))
    assert rig.listener.calls == []
    assert rig.bp.stats.received == 0


def test_unsubscribe_forgets_the_baselines() -> None:
    rig = ready_rig("room")
    rig.message(encode_envelope(OTHER, 1, "room", b"", False))
    rig.bp.unsubscribe("room")
    rig.bp.subscribe("room")
    rig.message(encode_envelope(OTHER, 50, "room", b"", False))  # (not a gap: we left)
    rig.message(encode_envelope(OTHER, 50, "room", b"", False))  # (a repeat: stale again)
    assert rig.listener.of("gap") == []
    assert rig.bp.stats.stale == 1


def test_what_is_missed_during_an_outage_is_a_gap() -> None:
    rig = ready_rig("room")
    rig.message(encode_envelope(OTHER, 1, "room", b"", False))
    rig.lose("sub")
    rig.io.advance(10)
    rig.ready("sub")
    rig.message(encode_envelope(OTHER, 5, "room", b"", False))
    assert rig.listener.of("gap") == [("gap", "room", OTHER.hex(), 3)]


def test_subscription_replies_and_other_arrays_are_ignored() -> None:
    rig = ready_rig("room")
    rig.feed("sub", encode_command("subscribe", "wsproto_cb:g:room", 1))
    rig.feed("sub", encode_command("unsubscribe", "wsproto_cb:g:x", 0))
    rig.feed("sub", b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\nc\r\n$1\r\nx\r\n")
    rig.feed("pub", b":3\r\n")  # PUBLISH's answer: how many received it
    # a "message" on the publisher link is not a subscription of ours
    envelope = encode_envelope(OTHER, 1, "room", b"", False)
    rig.feed("pub", encode_command("message", "wsproto_cb:g:room", envelope))
    assert rig.listener.calls == []
    assert rig.io.logs == []
    assert rig.bp.connected


def test_error_reply_is_logged_and_the_link_stays() -> None:
    rig = ready_rig("room")
    rig.feed("pub", b"-ERR something odd\r\n")
    assert rig.io.logs == [("warning", f"Redis {rig.bp.nodeId.hex()}-pub link: ERR something odd")]
    assert rig.bp.connected
    assert rig.listener.calls == []


def test_a_failing_listener_does_not_break_the_link() -> None:
    rig = ready_rig("room")
    rig.listener.failing = {"deliver", "gap"}
    rig.message(encode_envelope(OTHER, 1, "room", b"a", False))
    rig.message(encode_envelope(OTHER, 3, "room", b"b", False))
    rig.message(encode_envelope(OTHER, 4, "room", b"c", False))
    assert [call[0] for call in rig.listener.calls] == ["deliver", "gap", "deliver", "deliver"]
    errors = [message for level, message in rig.io.logs if level == "error"]
    assert len(errors) == 4
    assert "Listener._backplane_deliver" in errors[0] and "application bug" in errors[0]
    assert rig.bp.connected
    assert rig.stream("sub").aborts == 0


# ------------------------------------------------------------- lost, restored


def test_lost_once_per_outage_and_restored_when_both_are_back() -> None:
    rig = ready_rig("room")
    rig.lose("sub", "connection reset by peer")
    rig.lose("pub", "connection reset by peer")
    (lost,) = rig.listener.calls
    assert lost[0] == "lost" and "-sub link to redis://127.0.0.1:6379/0" in lost[1]
    assert "connection reset by peer" in lost[1]
    assert rig.bp.stats.lost == 1
    rig.io.advance(10)
    rig.connect_pending()
    rig.lose("pub", "refused")  # (still down: no second report)
    rig.ready("sub")
    assert rig.listener.calls == [lost]
    rig.io.advance(10)
    rig.ready("pub")
    assert rig.listener.calls == [lost, ("restored",)]
    rig.lose("pub")
    assert [call[0] for call in rig.listener.calls] == ["lost", "restored", "lost"]
    assert rig.bp.stats.lost == 2


def test_probe_failure_is_an_outage() -> None:
    rig = ready_rig(probeInterval=1, probeTimeout=0.5)
    rig.feed("pub", b"+PONG\r\n")  # (no PING outstanding: ignored)
    rig.io.advance(1.0)
    assert rig.stream("pub").take() == [[b"PING"]]
    assert rig.stream("sub").take() == [[b"PING"]]
    rig.feed("sub", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
    rig.io.advance(0.5)
    ((kind, reason),) = rig.listener.calls
    assert kind == "lost" and "-pub link" in reason and "PING within 0.5 s" in reason
    assert rig.bp.connected is False


def test_never_connected_counts_as_lost() -> None:
    rig = make_rig()
    rig.io.connects[0].handler.connection_lost("cannot connect: refused")
    assert [call[0] for call in rig.listener.calls] == ["lost"]
    rig.io.advance(10)
    rig.ready()
    assert [call[0] for call in rig.listener.calls] == ["lost", "restored"]


# -------------------------------------------------------- attach and close


def test_close_stops_everything() -> None:
    rig = ready_rig("room")
    rig.bp.close()
    assert rig.stream("pub").closes == rig.stream("sub").closes == 1
    assert rig.io.pending() == []
    assert rig.bp.listener is None and not rig.bp.connected
    rig.lose("pub")
    rig.io.advance(100)
    rig.bp.publish("room", b"after close", False)
    rig.bp.subscribe("x")
    assert len(rig.io.connects) == 3  # (the question, then publisher and subscriber)
    assert rig.listener.calls == []


def test_one_factory_per_backplane() -> None:
    rig = make_rig()
    rig.bp.attach(rig.listener)  # (the same one again is fine)
    assert len(rig.io.connects) == 1
    with pytest.raises(ValueError, match="already attached"):
        rig.bp.attach(Listener(FakeIO()))


def test_repr_hides_the_password() -> None:
    bp = RedisBackplane("redis://user:secret@[::1]:7000/2")
    assert repr(bp) == f"<RedisBackplane redis://[::1]:7000/2 node={bp.nodeId.hex()}>"
    assert (bp.address.username, bp.address.password) == ("user", "secret")


def test_each_backplane_has_its_own_node_id() -> None:
    ids = {RedisBackplane().nodeId for _ in range(20)}
    assert len(ids) == 20 and all(len(node) == 8 for node in ids)


# ----------------------------------------------------------- configuration


@pytest.mark.parametrize("name", ["probeInterval", "probeTimeout", "reconnectMin", "reconnectMax"])
@pytest.mark.parametrize("value", [0, -1, -0.5, True, False, "5", None, float("nan")])
def test_bad_timing_values(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a number > 0, not "):
        RedisBackplane(**{name: value})


@pytest.mark.parametrize("value", [0, -1, True, "1000", None])
def test_bad_publish_queue_limit(value: Any) -> None:
    with pytest.raises(ValueError, match="publishQueueLimit must be a number > 0"):
        RedisBackplane(publishQueueLimit=value)


def test_bad_channel_prefix() -> None:
    with pytest.raises(TypeError, match="channelPrefix must be a str"):
        RedisBackplane(channelPrefix=b"x:")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379", "is not a redis://, rediss:// or redis"),
        ("unix:///tmp/redis.sock", "is not a redis://, rediss:// or redis"),
        ("127.0.0.1:6379", "is not a redis://, rediss:// or redis"),
        ("rediss://h/0?ssl_cert_reqs=optional", "ssl_cert_reqs must be one of"),
        ("rediss://h/0?ssl_ca_file=x", "unknown parameter 'ssl_ca_file'"),
        ("rediss://h/0?ssl_ca_certs=", "ssl_ca_certs is empty"),
        ("rediss://h/0?ssl_ca_certs=a&ssl_ca_certs=b", "given twice"),
        ("rediss://h/0?ssl_keyfile=k", "ssl_keyfile needs ssl_certfile"),
        ("redis://h/0?ssl_ca_certs=ca.pem", "need a rediss:// URL"),
        ("redis://127.0.0.1:abc/0", "bad Redis URL"),
        ("redis://127.0.0.1:70000/0", "bad Redis URL"),
        ("redis://127.0.0.1:6379/x", "must be a database number"),
        ("redis://127.0.0.1:6379/-1", "must be a database number"),
        ("redis://127.0.0.1:6379/0/1", "must be a database number"),
        ("redis://127.0.0.1:6379/0?timeout=1", "need a rediss:// URL"),
        ("redis://127.0.0.1:6379/0#x", "fragment is not supported"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisBackplane(url)


def test_url_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="Redis URL must be a str"):
        RedisBackplane(b"redis://h")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="backplane URL must be a str"):
        backplane_from_url(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://", ("127.0.0.1", 6379, 0, None, None, None)),
        ("redis://cache.internal", ("cache.internal", 6379, 0, None, None, None)),
        ("REDIS://h:1/15", ("h", 1, 15, None, None, None)),
        ("redis://:p%40ss@h/2", ("h", 6379, 2, None, "p@ss", None)),
        ("redis://bob:pw@h:6000/", ("h", 6000, 0, "bob", "pw", None)),
        ("redis://[::1]:6380", ("::1", 6380, 0, None, None, None)),
        ("rediss://h", ("h", 6379, 0, None, None, RedisTLS())),
        (
            "rediss://:pw@h:6380/1?ssl_ca_certs=/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem",
            ("h", 6380, 1, None, "pw", RedisTLS("/ca.pem", "/c.pem", "/k.pem", True)),
        ),
        ("rediss://h?ssl_cert_reqs=NONE", ("h", 6379, 0, None, None, RedisTLS(verify=False))),
    ],
)
def test_good_urls(url: str, address: tuple[Any, ...]) -> None:
    assert RedisBackplane(url).address == RedisAddress(*address)


def test_backplane_from_url() -> None:
    local = backplane_from_url("memory://")
    assert type(local) is LocalBackplane and not local.crossProcess
    redis = backplane_from_url("redis://h:7/1")
    assert isinstance(redis, RedisBackplane) and isinstance(redis, Backplane)
    assert redis.crossProcess and str(redis.address) == "redis://h:7/1"
    for url in ("http://h", "", "unix:///x", "kafka://h:9092"):
        with pytest.raises(ValueError, match="unknown backplane URL"):
            backplane_from_url(url)
    assert str(backplane_from_url("rediss://h?ssl_cert_reqs=none").address) == "rediss://h:6379/0"
