"""One connection to Redis that keeps itself up.

A :class:`RedisLink` connects, authenticates, names itself, and then passes
every reply to its owner.  While up it sends ``PING`` every
``probe_interval`` seconds; a ``PONG`` that does not come back within
``probe_timeout`` means the connection is dead even if TCP has not noticed
(a paused or partitioned server), and the link drops it; the same deadline
applies to connecting and to the set-up commands.  Whenever the
connection ends or cannot be made, the owner hears of it and the link tries
again after an exponential backoff with jitter, until :meth:`close`.
Runtime-neutral: all I/O goes through a :class:`~.io.BackplaneIO`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .address import RedisAddress
from .io import BackplaneIO, Stream, TimerHandle
from .resp import (
    DEFAULT_LIMITS,
    RedisReplyError,
    ReplyReader,
    RespLimits,
    RespProtocolError,
    encode_command,
    make_reader,
)

__all__ = ["LinkOwner", "LinkSettings", "RedisLink"]

_PING = encode_command("PING")


@dataclass(frozen=True)
class LinkSettings:
    probe_interval: float = 5.0
    probe_timeout: float = 3.0
    reconnect_min: float = 0.1
    reconnect_max: float = 5.0
    #: what one reply may hold; beyond it the connection is dropped (and made again)
    limits: RespLimits = DEFAULT_LIMITS

    def backoff(self, failures: int) -> float:
        """The wait before attempt ``failures + 1``: doubling from ``reconnect_min``
        up to ``reconnect_max`` (before jitter)."""
        return float(min(self.reconnect_max, self.reconnect_min * 2.0 ** (failures - 1)))


class LinkOwner(Protocol):
    def link_ready(self, link: RedisLink) -> None: ...

    def link_reply(self, link: RedisLink, reply: Any) -> None: ...

    def link_down(self, link: RedisLink, reason: str) -> None: ...


def _is_pong(reply: Any) -> bool:
    # b"PONG" outside subscribed mode, [b"pong", b""] inside it
    if reply == b"PONG":
        return True
    return isinstance(reply, list) and len(reply) == 2 and reply[0] == b"pong"


class RedisLink:
    """A self-healing connection to one Redis server (see the module docstring)."""

    def __init__(
        self,
        name: str,
        address: RedisAddress,
        io: BackplaneIO,
        owner: LinkOwner,
        settings: LinkSettings,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.address = address
        self._io = io
        self._owner = owner
        self._settings = settings
        self._jitter = jitter
        self._stream: Stream | None = None
        self._reader: ReplyReader | None = None
        self._setup_replies = 0
        self._unreturned = 0  # bytes read since the last whole reply (at most)
        self._failures = 0
        self._timers: dict[str, TimerHandle] = {}
        self._attempt: _Attempt | None = None
        self.state = "idle"  # idle, connecting, setup, ready, closed

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        if self.state != "idle":
            return
        self.state = "connecting"
        self._attempt = _Attempt(self)
        self._io.connect_tcp(
            self.address.host,
            self.address.port,
            self._attempt,
            self._settings.probe_timeout,
            self.address.tls,
        )

    def send(self, data: bytes) -> None:
        if self._stream is None or self.state != "ready":
            raise RuntimeError(f"Redis {self.name} link is not ready")
        self._stream.write(data)

    def buffered(self) -> int:
        return self._stream.buffered() if self._stream is not None else 0

    def close(self) -> None:
        """Stop for good: what was sent goes out first (the last broadcasts of
        a server shutting down); no reconnect, no report."""
        ready = self.state == "ready"
        self.state = "closed"
        self._attempt = None
        self._cancel_all()
        stream, self._stream = self._stream, None
        if stream is not None:
            if ready:
                stream.close()
            else:
                stream.abort()

    # ------------------------------------------------- from the current _Attempt

    def _connection_made(self, stream: Stream) -> None:
        self._stream = stream
        self._reader = make_reader(self._settings.limits)
        self._unreturned = 0
        self.state = "setup"
        setup = self._setup_commands()
        self._setup_replies = len(setup)
        stream.write(b"".join(setup))
        # (a server that accepts but never answers, e.g. a stopped process)
        self._timers["deadline"] = self._io.call_later(
            self._settings.probe_timeout, self._setup_expired
        )

    def _data_received(self, data: bytes) -> None:
        reader = self._reader
        if reader is None:
            return
        reader.feed(data)
        self._unreturned += len(data)
        while self.state in ("setup", "ready"):
            try:
                reply = reader.gets()
                if reply is False:
                    self._check_unreturned()
            except RespProtocolError as exc:
                self._drop(f"Redis sent bytes that are not RESP: {exc}")
                return
            if reply is False:
                return
            # (whatever follows this reply began in this read: at most its length)
            self._unreturned = len(data)
            if self.state == "setup":
                self._setup_reply(reply)
            elif _is_pong(reply):
                self._pong()
            else:
                self._owner.link_reply(self, reply)

    def _check_unreturned(self) -> None:
        """The one bound both readers can be held to (hiredis takes no limits):
        the bytes read since the last whole reply, counted here."""
        limit = self._settings.limits.max_pending
        if self._unreturned > limit:
            raise RespProtocolError(f"a reply passed {limit} bytes ({self._unreturned} so far)")

    def _connection_lost(self, reason: str) -> None:
        self._attempt = None
        was = self.state
        self._stream = None
        self._reader = None
        self._cancel_all()
        if was == "closed":
            return
        self.state = "idle"
        self._failures += 1
        self._owner.link_down(self, f"Redis {self.name} link to {self.address}: {reason}")
        if self.state == "idle":  # (the owner may have closed us)
            self._timers["reconnect"] = self._io.call_later(self._backoff(), self.start)

    # ------------------------------------------------------------ internals

    def _setup_commands(self) -> list[bytes]:
        address = self.address
        commands = []
        if address.password is not None:
            if address.username:
                commands.append(encode_command("AUTH", address.username, address.password))
            else:
                commands.append(encode_command("AUTH", address.password))
        if address.db:
            commands.append(encode_command("SELECT", address.db))
        commands.append(encode_command("CLIENT", "SETNAME", f"wsproto_cb-{self.name}"))
        return commands

    def _setup_reply(self, reply: Any) -> None:
        if isinstance(reply, RedisReplyError):
            self._drop(f"Redis refused the connection set-up: {reply}")
            return
        self._setup_replies -= 1
        if self._setup_replies == 0:
            self._cancel_all()
            self.state = "ready"
            self._failures = 0
            self._schedule_probe()
            self._owner.link_ready(self)

    def _backoff(self) -> float:
        return float(self._settings.backoff(self._failures) * (0.5 + 0.5 * self._jitter()))

    def _schedule_probe(self) -> None:
        if self._settings.probe_interval > 0:
            self._timers["probe"] = self._io.call_later(self._settings.probe_interval, self._probe)

    def _probe(self) -> None:
        self._timers.pop("probe", None)
        if self._stream is None or self.state != "ready":
            return
        self._stream.write(_PING)
        self._timers["deadline"] = self._io.call_later(
            self._settings.probe_timeout, self._probe_expired
        )

    def _pong(self) -> None:
        deadline = self._timers.pop("deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._schedule_probe()

    def _probe_expired(self) -> None:
        self._timers.pop("deadline", None)
        self._drop(f"no answer to PING within {self._settings.probe_timeout:g} s")

    def _setup_expired(self) -> None:
        self._timers.pop("deadline", None)
        self._drop(f"no answer to the set-up within {self._settings.probe_timeout:g} s")

    def _drop(self, reason: str) -> None:
        """Give up on this connection; ``connection_lost`` (with ``reason``) follows."""
        stream = self._stream
        self._cancel_all()
        if stream is None:
            return
        stream.abort()  # (the runtime's report of it goes to a stale _Attempt)
        self._connection_lost(reason)

    def _cancel_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


class _Attempt:
    """The handler of one connection attempt; once replaced, its reports are ignored.

    Dropping a connection (a failed probe, a protocol error) reports the
    loss at once, with its reason; the runtime's own later report of the
    same loss must not count twice.
    """

    __slots__ = ("_link",)

    def __init__(self, link: RedisLink) -> None:
        self._link = link

    def _current(self) -> bool:
        return self._link._attempt is self

    def connection_made(self, stream: Stream) -> None:
        if self._current():
            self._link._connection_made(stream)
        else:
            stream.abort()

    def data_received(self, data: bytes) -> None:
        if self._current():
            self._link._data_received(data)

    def connection_lost(self, reason: str) -> None:
        if self._current():
            self._link._connection_lost(reason)
