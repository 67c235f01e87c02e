"""RedisLink without a network: a fake BackplaneIO, a manual clock, bytes in and out.

The fakes here (:class:`FakeIO`, :class:`FakeStream`) stand in for an
event loop the way Twisted's ``StringTransport`` and ``Clock`` do; the
other ``test_backplane_*`` modules reuse them.  Every test runs with both
reply readers (hiredis and the pure-Python one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest

from wsproto_cb.backplane.address import RedisAddress, parse_redis_url
from wsproto_cb.backplane.io import StreamHandler
from wsproto_cb.backplane.link import LinkSettings, RedisLink
from wsproto_cb.backplane.resp import NO_HIREDIS_ENV, RespLimits, RespReader, encode_command

# ------------------------------------------------------------------- fakes


class FakeTimer:
    """One ``call_later``; fired only by :meth:`FakeIO.advance`."""

    def __init__(self, when: float, delay: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.delay = delay
        self.callback = callback
        self.cancelled = False
        self.fired = False

    @property
    def pending(self) -> bool:
        return not (self.cancelled or self.fired)

    def cancel(self) -> None:
        self.cancelled = True


class FakeStream:
    """One TCP connection: records what is written; ``queued`` is what ``buffered()`` says."""

    def __init__(self, log: list[tuple[str, bytes]] | None = None) -> None:
        self.writes: list[bytes] = []
        self.queued = 0
        self.aborts = 0
        self.closes = 0
        self._log = log

    def write(self, data: bytes) -> None:
        assert not self.aborts, "written to after abort()"
        self.writes.append(data)
        if self._log is not None:
            self._log.append(("redis", data))

    def buffered(self) -> int:
        return self.queued

    def abort(self) -> None:
        self.aborts += 1

    def close(self) -> None:
        self.closes += 1

    def commands(self) -> list[list[bytes]]:
        """Every command written so far (a command is RESP, so a reply reader reads it)."""
        reader = RespReader()
        reader.feed(b"".join(self.writes))
        commands = []
        while (command := reader.gets()) is not False:
            commands.append(command)
        return commands

    def take(self) -> list[list[bytes]]:
        """The commands written since the last ``take``."""
        commands = self.commands()
        self.writes.clear()
        return commands


class Connect(NamedTuple):
    host: str
    port: int
    handler: StreamHandler
    timeout: float
    tls: Any = None


@dataclass
class FakeIO:
    """A BackplaneIO whose connections and clock the test drives by hand."""

    now: float = 0.0
    connects: list[Connect] = field(default_factory=list)
    timers: list[FakeTimer] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    #: shared with the streams this IO opens (see :meth:`open`)
    wire_log: list[tuple[str, bytes]] | None = None

    def connect_tcp(
        self, host: str, port: int, handler: StreamHandler, timeout: float, tls: Any = None
    ) -> None:
        self.connects.append(Connect(host, port, handler, timeout, tls))

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.now + delay, delay, callback)
        self.timers.append(timer)
        return timer

    def log(self, level: str, message: str) -> None:
        assert level in ("info", "warning", "error")
        self.logs.append((level, message))

    def pending(self) -> list[FakeTimer]:
        return [timer for timer in self.timers if timer.pending]

    def advance(self, seconds: float) -> None:
        """Move the clock, firing due timers in time order."""
        target = self.now + seconds
        for _ in range(10_000):
            due = [timer for timer in self.pending() if timer.when <= target + 1e-9]
            if not due:
                break
            timer = min(due, key=lambda t: t.when)
            self.now = max(self.now, timer.when)
            timer.fired = True
            timer.callback()
        else:
            raise AssertionError("timers keep firing: a loop")
        self.now = target

    def open(self, connect: Connect) -> FakeStream:
        """The connection ``connect`` asked for is made."""
        stream = FakeStream(self.wire_log)
        connect.handler.connection_made(stream)
        return stream


def answer_setup(connect: Connect, stream: FakeStream) -> None:
    """Say +OK to every set-up command the link wrote."""
    connect.handler.data_received(b"+OK\r\n" * len(stream.take()))


NOT_A_CLUSTER = b"-ERR This instance has cluster support disabled\r\n"


def answer_topology(connect: Connect, stream: FakeStream, reply: bytes = NOT_A_CLUSTER) -> None:
    """The backplane's first link: its set-up answered, then ``CLUSTER SLOTS``
    (by default as a Redis without cluster support answers it)."""
    answer_setup(connect, stream)
    connect.handler.data_received(reply)
    assert stream.take() == [[b"CLUSTER", b"SLOTS"]]


@dataclass
class Owner:
    """A LinkOwner that records what it hears."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    on_down: Callable[[RedisLink], None] | None = None

    def link_ready(self, link: RedisLink) -> None:
        self.events.append(("ready",))

    def link_reply(self, link: RedisLink, reply: Any) -> None:
        self.events.append(("reply", reply))

    def link_down(self, link: RedisLink, reason: str) -> None:
        self.events.append(("down", reason))
        if self.on_down is not None:
            self.on_down(link)

    def downs(self) -> list[str]:
        return [event[1] for event in self.events if event[0] == "down"]


# ----------------------------------------------------------------- set-up

ADDRESS = RedisAddress("redis.example", 6380, 0, None, None)
SETTINGS = LinkSettings(probe_interval=5.0, probe_timeout=3.0, reconnect_min=0.1, reconnect_max=5.0)
PING = b"*1\r\n$4\r\nPING\r\n"


@pytest.fixture(autouse=True, params=["hiredis", "python"])
def reader_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every link test with each reply reader."""
    if request.param == "hiredis":
        pytest.importorskip("hiredis")
        monkeypatch.delenv(NO_HIREDIS_ENV, raising=False)
    else:
        monkeypatch.setenv(NO_HIREDIS_ENV, "1")
    return str(request.param)


@dataclass
class Rig:
    io: FakeIO
    owner: Owner
    link: RedisLink

    @property
    def attempt(self) -> Connect:
        return self.io.connects[-1]

    def connect_ready(self) -> FakeStream:
        """Let the pending attempt connect and answer its set-up."""
        stream = self.io.open(self.attempt)
        answer_setup(self.attempt, stream)
        assert self.link.ready
        return stream

    def reconnect_delays(self) -> list[float]:
        return [timer.delay for timer in self.io.timers if timer.callback == self.link.start]


def make_rig(
    address: RedisAddress = ADDRESS,
    settings: LinkSettings = SETTINGS,
    jitter: Callable[[], float] = lambda: 1.0,
) -> Rig:
    io, owner = FakeIO(), Owner()
    link = RedisLink("pub", address, io, owner, settings, jitter=jitter)
    link.start()
    return Rig(io, owner, link)


def test_start_connects_once_with_the_probe_timeout() -> None:
    rig = make_rig()
    rig.link.start()  # (already started: nothing more)
    assert [(c.host, c.port, c.timeout) for c in rig.io.connects] == [("redis.example", 6380, 3.0)]
    assert rig.link.state == "connecting"


def test_a_rediss_address_asks_the_runtime_for_tls_and_a_redis_one_does_not() -> None:
    assert make_rig().attempt.tls is None
    tls = parse_redis_url("rediss://redis.example:6380/0?ssl_ca_certs=/ca.pem").tls
    assert tls is not None and tls.ca_certs == "/ca.pem" and tls.verify
    rig = make_rig(ADDRESS._replace(tls=tls))
    assert rig.attempt.tls is tls


def test_setup_with_user_password_and_db_exact_bytes() -> None:
    rig = make_rig(RedisAddress("h", 6379, 2, "alice", "s3cret"))
    stream = rig.io.open(rig.attempt)
    assert b"".join(stream.writes) == (
        b"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\ns3cret\r\n"
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
        b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$14\r\nwsproto_cb-pub\r\n"
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (RedisAddress("h", 1, 0, None, "pw"), [[b"AUTH", b"pw"]]),
        (RedisAddress("h", 1, 0, None, ""), [[b"AUTH", b""]]),
        (RedisAddress("h", 1, 1, None, None), [[b"SELECT", b"1"]]),
        (RedisAddress("h", 1, 15, None, None), [[b"SELECT", b"15"]]),
        (RedisAddress("h", 1, 0, None, None), []),
    ],
    ids=["password-only", "empty-password", "db-1", "db-15", "nothing"],
)
def test_setup_commands(address: RedisAddress, expected: list[list[bytes]]) -> None:
    rig = make_rig(address)
    stream = rig.io.open(rig.attempt)
    assert stream.commands() == [*expected, [b"CLIENT", b"SETNAME", b"wsproto_cb-pub"]]


def test_ready_only_after_every_setup_reply() -> None:
    rig = make_rig(RedisAddress("h", 1, 3, "u", "p"))
    rig.io.open(rig.attempt)
    assert rig.link.state == "setup"
    replies = b"+OK\r\n+OK\r\n+OK\r\n"
    for i in range(len(replies) - 1):
        rig.attempt.handler.data_received(replies[i : i + 1])
        assert not rig.link.ready, f"ready after {i + 1} bytes"
        with pytest.raises(RuntimeError, match="not ready"):
            rig.link.send(b"x")
    assert rig.owner.events == []
    rig.attempt.handler.data_received(replies[-1:])
    assert rig.link.ready
    assert rig.owner.events == [("ready",)]


def test_replies_after_setup_in_the_same_read_go_to_the_owner_in_order() -> None:
    rig = make_rig()
    rig.io.open(rig.attempt)
    rig.attempt.handler.data_received(b"+OK\r\n:1\r\n*2\r\n$1\r\na\r\n:2\r\n$3\r\nab")
    assert rig.owner.events == [("ready",), ("reply", 1), ("reply", [b"a", 2])]
    rig.attempt.handler.data_received(b"c\r\n")
    assert rig.owner.events[-1] == ("reply", b"abc")


def test_error_during_setup_drops_and_reconnects() -> None:
    rig = make_rig(RedisAddress("h", 1, 0, "u", "wrong"))
    first = rig.attempt
    stream = rig.io.open(first)
    first.handler.data_received(b"-WRONGPASS invalid username-password pair\r\n+OK\r\n")
    assert rig.owner.events == [
        (
            "down",
            "Redis pub link to redis://h:1/0: Redis refused the connection set-up: "
            "WRONGPASS invalid username-password pair",
        )
    ]
    assert stream.aborts == 1
    assert not rig.link.ready
    first.handler.connection_lost("aborted")  # (the runtime's own report: not counted again)
    assert len(rig.owner.downs()) == 1
    assert rig.reconnect_delays() == [0.1]
    rig.io.advance(0.1)
    assert len(rig.io.connects) == 2
    rig.connect_ready()
    assert rig.owner.events[-1] == ("ready",)


def test_lost_during_setup_reports_and_reconnects() -> None:
    rig = make_rig()
    rig.io.open(rig.attempt)
    rig.attempt.handler.connection_lost("connection reset")
    assert rig.owner.downs() == ["Redis pub link to redis://redis.example:6380/0: connection reset"]
    assert len(rig.io.pending()) == 1
    rig.io.advance(0.1)
    assert len(rig.io.connects) == 2


def test_send_writes_when_ready_and_raises_otherwise() -> None:
    rig = make_rig()
    with pytest.raises(RuntimeError, match="Redis pub link is not ready"):
        rig.link.send(b"x")  # connecting
    stream = rig.connect_ready()
    rig.link.send(encode_command("PUBLISH", "c", b"m"))
    assert stream.commands() == [[b"PUBLISH", b"c", b"m"]]
    rig.link.close()
    with pytest.raises(RuntimeError, match="not ready"):
        rig.link.send(b"x")


# ------------------------------------------------------------------ probe


@pytest.mark.parametrize(
    "pong", [b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"], ids=["plain", "subscribed"]
)
def test_ping_every_interval_and_pong_rearms(pong: bytes) -> None:
    rig = make_rig()
    stream = rig.connect_ready()
    for _ in range(3):
        rig.io.advance(4.9)
        assert stream.writes == []
        rig.io.advance(0.1)
        assert stream.writes == [PING]
        stream.writes.clear()
        rig.io.advance(2.9)  # (the answer comes late, but within probe_timeout)
        rig.attempt.handler.data_received(pong)
    rig.io.advance(60)  # (stops here: no answer to the fourth PING)
    assert rig.owner.events[0] == ("ready",)
    assert ("reply", b"PONG") not in rig.owner.events  # PONGs are the link's own business
    assert len(rig.owner.downs()) == 1


def test_no_pong_drops_the_link() -> None:
    rig = make_rig()
    first = rig.attempt
    stream = rig.connect_ready()
    rig.io.advance(5.0)
    assert stream.writes == [PING]
    rig.io.advance(2.99)
    assert rig.link.ready and stream.aborts == 0
    rig.io.advance(0.01)
    assert rig.owner.downs() == [
        "Redis pub link to redis://redis.example:6380/0: no answer to PING within 3 s"
    ]
    assert stream.aborts == 1
    assert rig.link.state == "idle"
    assert [timer.callback for timer in rig.io.pending()] == [rig.link.start]
    # the old connection's late news is ignored
    first.handler.data_received(b"+PONG\r\n:5\r\n")
    first.handler.connection_lost("aborted")
    assert rig.owner.events == [("ready",), ("down", rig.owner.downs()[0])]
    rig.io.advance(0.1)
    assert len(rig.io.connects) == 2
    rig.connect_ready()


def test_pong_without_ping_is_ignored() -> None:
    rig = make_rig()
    rig.connect_ready()
    rig.attempt.handler.data_received(b"+PONG\r\n")
    assert rig.owner.events == [("ready",)]
    assert len(rig.io.pending()) == 1  # (still just the one probe timer)


def test_data_does_not_stand_in_for_pong() -> None:
    rig = make_rig()
    rig.connect_ready()
    rig.io.advance(5.0)
    for _ in range(5):
        rig.io.advance(0.5)
        rig.attempt.handler.data_received(b":1\r\n")
    rig.io.advance(0.5)
    assert len(rig.owner.downs()) == 1


# ---------------------------------------------------------------- backoff


@pytest.mark.parametrize(
    ("jitter", "scale"), [(1.0, 1.0), (0.0, 0.5), (0.5, 0.75)], ids=["max", "min", "mid"]
)
def test_backoff_doubles_up_to_the_cap(jitter: float, scale: float) -> None:
    rig = make_rig(jitter=lambda: jitter)
    for _ in range(9):
        rig.attempt.handler.connection_lost("cannot connect: refused")
        rig.io.advance(10)
    expected = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    assert rig.reconnect_delays() == pytest.approx([d * scale for d in expected])
    assert len(rig.io.connects) == 10
    assert len(rig.owner.downs()) == 9


def test_backoff_starts_again_after_a_good_connection() -> None:
    rig = make_rig()
    for _ in range(4):
        rig.attempt.handler.connection_lost("refused")
        rig.io.advance(10)
    rig.connect_ready()
    rig.attempt.handler.connection_lost("reset")
    assert rig.reconnect_delays() == [0.1, 0.2, 0.4, 0.8, 0.1]


def test_reconnects_only_when_the_timer_fires() -> None:
    rig = make_rig()
    rig.attempt.handler.connection_lost("refused")
    rig.io.advance(0.099)
    assert len(rig.io.connects) == 1
    rig.io.advance(0.001)
    assert len(rig.io.connects) == 2


# ------------------------------------------------------------------ close


def test_close_while_ready_flushes_and_closes_without_reporting() -> None:
    rig = make_rig()
    stream = rig.connect_ready()
    rig.link.close()
    assert (stream.closes, stream.aborts) == (1, 0)  # (what was written still goes out)
    assert rig.link.state == "closed"
    assert rig.io.pending() == []  # the probe is cancelled
    rig.attempt.handler.connection_lost("aborted")
    rig.attempt.handler.data_received(b":1\r\n")
    rig.io.advance(100)
    assert rig.owner.events == [("ready",)]
    assert len(rig.io.connects) == 1


def test_close_while_waiting_to_reconnect_cancels_it() -> None:
    rig = make_rig()
    rig.attempt.handler.connection_lost("refused")
    rig.link.close()
    assert rig.io.pending() == []
    rig.io.advance(100)
    assert len(rig.io.connects) == 1
    rig.link.start()  # (closed for good)
    assert len(rig.io.connects) == 1


def test_close_while_connecting_aborts_the_late_connection() -> None:
    rig = make_rig()
    rig.link.close()
    stream = rig.io.open(rig.attempt)
    assert stream.aborts == 1 and stream.writes == []
    rig.attempt.handler.connection_lost("aborted")
    assert rig.owner.events == []
    assert rig.io.pending() == []


def test_close_with_a_probe_outstanding() -> None:
    rig = make_rig()
    rig.connect_ready()
    rig.io.advance(5.0)  # PING sent, deadline running
    rig.link.close()
    rig.io.advance(100)
    assert rig.owner.events == [("ready",)]


def test_owner_closing_the_link_when_it_goes_down_stops_reconnecting() -> None:
    rig = make_rig()
    rig.owner.on_down = lambda link: link.close()
    rig.attempt.handler.connection_lost("refused")
    assert rig.io.pending() == []
    assert rig.link.state == "closed"


# --------------------------------------------------------------- not RESP


@pytest.mark.parametrize("when", ["setup", "ready"])
def test_bytes_that_are_not_resp_drop_the_connection(when: str) -> None:
    rig = make_rig()
    first = rig.attempt
    stream = rig.io.open(first) if when == "setup" else rig.connect_ready()
    first.handler.data_received(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    (reason,) = rig.owner.downs()
    assert "Redis sent bytes that are not RESP" in reason
    assert stream.aborts == 1
    first.handler.connection_lost("aborted")
    first.handler.data_received(b"+OK\r\n")
    assert len(rig.owner.downs()) == 1
    rig.io.advance(0.1)
    rig.connect_ready()


TINY = LinkSettings(
    probe_interval=5.0, probe_timeout=3.0, limits=RespLimits(max_bulk=1000, max_elements=8)
)


def _nested(depth: int) -> bytes:
    """Arrays of 8, ``depth`` deep, of 1000-byte strings: every part within TINY's limits."""
    if depth == 0:
        return b"$1000\r\n" + b"x" * 1000 + b"\r\n"
    return b"*8\r\n" + _nested(depth - 1) * 8


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"$5000\r\n" + b"x" * 2_000_000, id="one-long-string"),
        pytest.param(_nested(4), id="many-small-parts"),
    ],
)
def test_a_reply_past_the_limits_drops_and_reconnects(data: bytes) -> None:
    """On either reader (hiredis has no limits of its own), the link drops a
    reply that grows past ``max_pending`` within one read of it, and starts again."""
    rig = make_rig(settings=TINY)
    first = rig.attempt
    stream = rig.connect_ready()
    fed, chunk = 0, 64 * 1024
    while not rig.owner.downs() and fed < len(data):
        first.handler.data_received(data[fed : fed + chunk])
        fed += chunk
    (reason,) = rig.owner.downs()
    assert "Redis sent bytes that are not RESP" in reason
    assert fed <= TINY.limits.max_pending + chunk < len(data)
    assert stream.aborts == 1
    rig.io.advance(0.1)
    rig.connect_ready()


def test_a_reply_up_to_the_limits_is_delivered() -> None:
    rig = make_rig(settings=TINY)
    first = rig.attempt
    rig.connect_ready()
    reply = encode_command("message", "c", b"x" * 1000)
    for i in range(0, len(reply), 7):
        first.handler.data_received(reply[i : i + 7])
    assert rig.owner.events[-1] == ("reply", [b"message", b"c", b"x" * 1000])
    assert rig.owner.downs() == []


def test_buffered_is_the_streams() -> None:
    rig = make_rig()
    assert rig.link.buffered() == 0
    stream = rig.connect_ready()
    stream.queued = 1234
    assert rig.link.buffered() == 1234
