"""What every interop test shares: the messages, our side's behaviour, peer processes.

The contract both sides of every interop test follow (ours and the peer's):
a server echoes each message, except a text message ``close:CODE:REASON``,
which it answers by closing with that code and reason.  Our side runs
behind a :class:`~interop.raw.WireTap`, so each test can say what crossed
the wire (compressed or not) rather than trust either library.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wsproto_cb.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    accept_deflate_offer,
)

from .raw import WireTap

TIMEOUT = 10.0
HERE = Path(__file__).resolve().parent

TEXT_UNIT = "The quick brown fox jumps over the lazy dog. "


def text_of_size(size: int) -> bytes:
    return (TEXT_UNIT * (size // len(TEXT_UNIT) + 1))[:size].encode()


#: ``(payload, is_binary)`` sent one after another, each echoed.
MESSAGES: list[tuple[bytes, bool]] = [
    (b"hello", False),
    ("ünïcödé ☃ 𝄞".encode(), False),
    (b"", False),
    (bytes(range(256)), True),
    (text_of_size(1_000_000), False),  # 1 MB that compresses to a few KB
    (random.Random(1).randbytes(1_000_000), True),  # 1 MB that does not compress
]

#: The same messages as specs for ``autobahn_peer.py``.
MESSAGE_SPECS: list[dict[str, Any]] = [
    {"text": "hello"},
    {"text": "ünïcödé ☃ 𝄞"},
    {"text": ""},
    {"gen": "bytes256", "size": 256},
    {"gen": "text", "size": 1_000_000},
    {"gen": "random", "size": 1_000_000, "seed": 1},
]

UNCOMPRESSED_TOTAL = sum(len(payload) for payload, _ in MESSAGES)


def assert_wire(tap: WireTap, compressed: bool) -> None:
    """Both directions carried the messages compressed (RSV1, ~1 MB) or plain (~2 MB)."""
    for name, direction in (("to server", tap.to_server), ("to client", tap.to_client)):
        frames = direction.data_frames()
        total = sum(f.length for f in frames)
        if compressed:
            assert any(f.rsv1 for f in frames), name
            assert total < UNCOMPRESSED_TOTAL * 0.55, (name, total)
        else:
            assert not any(f.rsv1 for f in frames), name
            assert total >= UNCOMPRESSED_TOTAL, (name, total)


# -- compression parameters ----------------------------------------------------------

R200 = random.Random(2).randbytes(200)
R3000 = random.Random(3).randbytes(3000)

#: Messages whose echo only works when both sides agree on context takeover
#: (R200 twice) and window size (R3000 twice: a match 3000 bytes back).
TRICKY: list[tuple[bytes, bool]] = [
    (R200, True),
    (R200, True),
    (R3000 + R3000, True),
    (text_of_size(100_000), False),
]
TRICKY_SPECS: list[dict[str, Any]] = [
    {"gen": "random", "size": 200, "seed": 2},
    {"gen": "random", "size": 200, "seed": 2},
    {"gen": "random2", "size": 3000, "seed": 3},
    {"gen": "text", "size": 100_000},
]


View = tuple[bool, bool, int, int]


def our_view(codec: Any) -> View:
    """Our codec as (remote nct, local nct, remote bits, local bits)."""
    return (
        codec.remote_no_context_takeover,
        codec.local_no_context_takeover,
        codec.remote_max_window_bits,
        codec.local_max_window_bits,
    )


def assert_compatible(ours: View, theirs: View) -> None:
    """Each side inflates what the other deflates (views: remote/local nct, bits).

    Not equality: a receiver may keep its window although the sender resets
    (RFC 7692 lets a server ignore the client's ``client_no_context_takeover``
    hint), and may inflate with a larger window than the sender uses.
    """
    for sender, receiver in ((ours, theirs), (theirs, ours)):
        sender_resets, sender_bits = sender[1], sender[3]
        receiver_resets, receiver_bits = receiver[0], receiver[2]
        assert sender_resets or not receiver_resets, (ours, theirs)
        assert sender_bits <= receiver_bits, (ours, theirs)


def strict_accept(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept | None:
    """Our server demanding the least memory of the client the offer allows."""
    offer = offers[0]
    return PerMessageDeflateOfferAccept(
        offer,
        request_no_context_takeover=True,
        request_max_window_bits=9 if offer.accept_max_window_bits else 0,
        no_context_takeover=True,
        window_bits=9,
    )


def codec_of(proto: Any) -> Any:
    (codec,) = proto.websocket_extensions_in_use
    return codec


def autobahn_view(ext: dict[str, Any]) -> View:
    """An Autobahn ``PerMessageDeflate.__json__()`` as (remote/local nct, remote/local bits)."""
    server_bits = ext["server_max_window_bits"] or 15
    client_bits = ext["client_max_window_bits"] or 15
    if ext["is_server"]:
        return (
            ext["client_no_context_takeover"],
            ext["server_no_context_takeover"],
            client_bits,
            server_bits,
        )
    return (
        ext["server_no_context_takeover"],
        ext["client_no_context_takeover"],
        server_bits,
        client_bits,
    )


# -- our side ----------------------------------------------------------------------------


class OurServer:
    """Echo server following the contract; reports to the factory's queues."""

    factory: Any
    sendMessage: Callable[..., None]
    sendClose: Callable[..., None]

    def onConnect(self, request: Any) -> Any:
        self.request = request
        return super().onConnect(request)  # type: ignore[misc]  # (the factory's protocols pick)

    def onOpen(self) -> None:
        self.factory.opened.put_nowait(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary and payload.startswith(b"close:"):
            _, code, reason = payload.decode().split(":", 2)
            self.sendClose(int(code), reason)
            return
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.closed.put_nowait((wasClean, code, reason))


class OurClient:
    """Records messages and the close; ``opened``/``closed`` futures, ``messages`` queue."""

    factory: Any

    def __init__(self) -> None:
        super().__init__()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[tuple[bool, int | None, str | None]] = loop.create_future()
        self.messages: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()

    def onOpen(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.put_nowait((payload, isBinary))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if not self.closed.done():
            self.closed.set_result((wasClean, code, reason))


class Ours:
    """Our servers and clients on one runtime, each behind a wire tap."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.taps: list[WireTap] = []

    async def tap(self, port: int) -> WireTap:
        tap = WireTap(port)
        self.taps.append(tap)
        await tap.start()
        return tap

    async def server(
        self, compress: bool, protocols: list[str] | None = None, **options: Any
    ) -> tuple[Any, WireTap]:
        """An echo server; connect to ``tap.port``."""
        factory = self.runtime.server_factory(
            OurServer,
            protocols=protocols,
            perMessageCompressionAccept=accept_deflate_offer if compress else None,
            **options,
        )
        factory.opened = asyncio.Queue()
        factory.closed = asyncio.Queue()
        port = await self.runtime.listen(factory)
        return factory, await self.tap(port)

    async def client(self, port: int, compress: bool, **options: Any) -> tuple[Any, WireTap]:
        """A client connected (through a tap) to 127.0.0.1:``port``, once open."""
        factory = self.runtime.client_factory(
            OurClient,
            perMessageCompressionOffers=[PerMessageDeflateOffer()] if compress else [],
            **options,
        )
        tap = await self.tap(port)
        proto = await self.runtime.connect(factory, tap.port)
        await self.runtime.wait(proto.opened)
        return proto, tap

    async def echo_all(self, client: Any) -> None:
        """Send every message of :data:`MESSAGES` and check its echo."""
        for payload, binary in MESSAGES:
            client.sendMessage(payload, binary)
            got = await self.runtime.wait(client.messages.get())
            assert got == (payload, binary), (len(got[0]), got[1], len(payload), binary)

    def close(self) -> None:
        for tap in self.taps:
            tap.close()


def compressed(proto: Any) -> bool:
    """Whether our protocol instance negotiated permessage-deflate."""
    return bool(proto.websocket_extensions_in_use)


# -- peer processes -----------------------------------------------------------------------


class PeerProcess:
    """A subprocess speaking JSON lines (see ``autobahn_peer.py``); always killed on close."""

    def __init__(self, args: list[str]) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=HERE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "garbage", "line": line}
            with self._lock:
                self.events.append(event)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _find(self, match: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            for event in self.events:
                if all(event.get(k) == v for k, v in match.items()):
                    return event
        return None

    def wait_sync(self, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """Block until an event matching ``match`` arrived (for fixtures)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._find(match)
            if event is not None:
                return event
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"no event {match} from peer; stderr:\n{self.stderr()}")

    async def wait(self, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """The first event matching ``match`` (awaits without blocking the loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._find(match)
            if event is not None:
                return event
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.01)
        with self._lock:
            seen = [e for e in self.events if e.get("tag") == match.get("tag")]
        raise AssertionError(f"no event {match} from peer; saw {seen}; stderr:\n{self.stderr()}")

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e.get("tag") == tag]

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self._stderr.close()
