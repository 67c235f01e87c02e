"""What an idle open connection keeps, on both runtimes (issue 17: <= 8 KiB each).

The RSS figures come from ``benchmarks/idle`` and ``benchmarks/e2e`` (S6);
these tests pin the layout that gives them, deterministically: no zlib
object until a compressed message, no timer, handshake or request objects
once open, the state in slots rather than the instance dict (CPython keeps
up to 30 names per class inline, beyond that each instance pays for a full
dict), also after messages and closed connections, and a bound on the Python
memory our code keeps per connection (tracemalloc, our files only).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import zlib
from typing import Any

import pytest

from wsproto_cb.compress import accept_deflate_offer
from wsproto_cb.core import deflate_codec
from wsproto_cb.core.frames import build_frame

from .harness import RawPeer, RuntimeHarness, track_opened

DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
TEXT = 0x1
CONNECTIONS = 60


class ZlibCounter:
    """Counts the zlib objects the deflate codec creates (module attribute patched)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.compressors = self.decompressors = 0
        fake = type("zlib", (), {})()
        for name in dir(zlib):
            if not name.startswith("__"):
                setattr(fake, name, getattr(zlib, name))
        fake.compressobj = self._compressobj
        fake.decompressobj = self._decompressobj
        monkeypatch.setattr(deflate_codec, "zlib", fake)

    def _compressobj(self, *args: Any) -> Any:
        self.compressors += 1
        return zlib.compressobj(*args)

    def _decompressobj(self, *args: Any) -> Any:
        self.decompressors += 1
        return zlib.decompressobj(*args)


class ReportsOpen:
    """Puts itself on ``factory.opened`` when open, and keeps no attribute of its own."""

    factory: Any

    def onOpen(self) -> None:
        self.factory.opened.put_nowait(self)


def _factory(runtime: RuntimeHarness, deflate: bool) -> Any:
    return runtime.server_factory(
        ReportsOpen, perMessageCompressionAccept=accept_deflate_offer if deflate else None
    )


async def _open_raw(runtime: RuntimeHarness, port: int, deflate: bool) -> RawPeer:
    peer = await runtime.raw(port)
    head = await peer.handshake(headers=(DEFLATE_OFFER,) if deflate else ())
    assert head.startswith(b"HTTP/1.1 101")
    assert (b"permessage-deflate" in head) == deflate
    return peer


@pytest.mark.asyncio_task
async def test_negotiated_deflate_makes_no_zlib_object_until_a_compressed_message(
    runtime: RuntimeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    zlib_objects = ZlibCounter(monkeypatch)
    factory = _factory(runtime, deflate=True)
    opened = track_opened(factory)
    port = await runtime.listen(factory)
    peer = await _open_raw(runtime, port, deflate=True)
    server = await runtime.wait(opened.get())
    # an uncompressed message both ways, and a ping: still no zlib object
    peer.send(build_frame(TEXT, b"plain", mask=b"abcd"))
    server.sendMessage(b"plain", doNotCompress=True)
    server.sendPing(b"x")
    await runtime.wait(asyncio.sleep(0.05))
    assert (zlib_objects.compressors, zlib_objects.decompressors) == (0, 0)
    # the first compressed message in each direction makes one, once
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    payload = (compressor.compress(b"hello") + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    peer.send(build_frame(TEXT, payload, rsv=0x4, mask=b"abcd"))
    server.sendMessage(b"hello")
    await runtime.wait(asyncio.sleep(0.05))
    assert (zlib_objects.compressors, zlib_objects.decompressors) == (1, 1)


@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
@pytest.mark.asyncio_task
async def test_an_open_idle_connection_keeps_little(runtime: RuntimeHarness, deflate: bool) -> None:
    factory = _factory(runtime, deflate)
    opened = track_opened(factory)
    port = await runtime.listen(factory)
    await _open_raw(runtime, port, deflate)
    server = await runtime.wait(opened.get())
    assert server._timers is None  # (no auto-ping: no timer at all)
    assert server._handshake is None and server._early is None
    assert not hasattr(server._conn, "__dict__")  # (slots)
    # The per-connection state is in slots: the instance dict holds only what
    # the runtime and the application set (CPython shares the keys of up to
    # 30 names per class; an instance that sets more gets a full dict, ~1.5 KiB).
    assert set(vars(server)) <= {"factory", "transport", "connected", "_options"}, vars(server)
    # options are the factory's, shared, not copied onto every connection
    assert server._options is factory._options
    if deflate:
        codec = server.websocket_extensions_in_use[0]
        assert codec._compressor is None and codec._decompressor is None


def _our_bytes(snapshot: tracemalloc.Snapshot) -> int:
    ours = snapshot.filter_traces([tracemalloc.Filter(True, "*/wsproto_cb/*")])
    return sum(stat.size for stat in ours.statistics("filename"))


@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
@pytest.mark.asyncio_task
async def test_python_memory_our_code_keeps_per_idle_connection(
    runtime: RuntimeHarness, deflate: bool
) -> None:
    factory = _factory(runtime, deflate)
    opened = track_opened(factory)
    port = await runtime.listen(factory)
    await _open_raw(runtime, port, deflate)  # (first-use caches are not per connection)
    await runtime.wait(opened.get())
    gc.collect()
    tracemalloc.start()
    try:
        before = _our_bytes(tracemalloc.take_snapshot())
        for _ in range(CONNECTIONS):
            await _open_raw(runtime, port, deflate)
            await runtime.wait(opened.get())
        gc.collect()
        after = _our_bytes(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    per_connection = (after - before) / CONNECTIONS
    # Measured 2.1-3.5 KiB; 8.9-10.2 KiB with the options copied onto every
    # protocol, the handshake request kept and Connection without slots.
    assert per_connection <= 4 * 1024, per_connection


class EchoReportsOpen(ReportsOpen):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]


@pytest.mark.asyncio_task
async def test_messages_and_closed_connections_add_no_instance_attributes(
    runtime: RuntimeHarness,
) -> None:
    """A connection that closed first must not push the names its close sets
    into the class's shared keys at the expense of the next ones."""
    factory = runtime.server_factory(EchoReportsOpen)
    opened = track_opened(factory)
    port = await runtime.listen(factory)
    first = await _open_raw(runtime, port, deflate=False)
    await runtime.wait(opened.get())
    first.send(build_frame(0x8, b"\x03\xe8", mask=b"abcd"))  # close 1000
    assert await first.closed_within(5.0)
    peer = await _open_raw(runtime, port, deflate=False)
    server = await runtime.wait(opened.get())
    peer.send(build_frame(TEXT, b"hello", mask=b"abcd"))
    assert (await peer.next_event()) is not None  # the echo
    assert set(vars(server)) <= {"factory", "transport", "connected", "_options"}, vars(server)
