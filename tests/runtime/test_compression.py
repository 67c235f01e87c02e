"""permessage-deflate over real sockets: our client against our server, every
combination of server and client runtime.

What crossed the wire is read by a :class:`WireTap` relay between the two
(frame headers: RSV1, opcode, payload length), so "was it compressed" is a
fact about bytes, not about the library's own bookkeeping.  Context
takeover and window sizes are checked by their effect:

- takeover: a random 200-byte message sent twice compresses the second time
  to a few bytes only when the sender keeps its window between messages;
- window: ``R + R`` for a random 1000-byte ``R`` compresses only with a
  window above 1000 bytes, and the receiver inflates with the negotiated
  window, so a sender overstepping it fails the connection.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from wsproto_cb.compress import (
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponseAccept,
    accept_deflate_offer,
)

from .harness import RuntimeHarness

try:  # tests/ is on sys.path when pytest runs (see tests/interop/conftest.py)
    from interop.raw import (
        OP_BINARY,
        OP_CLOSE,
        OP_CONT,
        OP_TEXT,
        TappedFrame,
        WireTap,
        build_frame,
        raw_client,
        raw_server,
        upgrade_headers,
    )
except ModuleNotFoundError:  # pragma: no cover
    from tests.interop.raw import (
        OP_BINARY,
        OP_CLOSE,
        OP_CONT,
        OP_TEXT,
        TappedFrame,
        WireTap,
        build_frame,
        raw_client,
        raw_server,
        upgrade_headers,
    )

MiB = 1024 * 1024
TEXT_100K = ("The quick brown fox jumps over the lazy dog. " * 2300)[:100_000].encode()


class Events:
    """What one side's protocol instances saw, as queues a test can await."""

    def __init__(self) -> None:
        self.opened: asyncio.Queue[Any] = asyncio.Queue()
        self.messages: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
        self.closed: asyncio.Queue[tuple[bool, int | None, str | None]] = asyncio.Queue()


class Recorder:
    """Puts ``onOpen`` / ``onMessage`` / ``onClose`` into ``factory.events``."""

    factory: Any

    def onOpen(self) -> None:
        self.factory.events.opened.put_nowait(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.factory.events.messages.put_nowait((payload, isBinary))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.events.closed.put_nowait((wasClean, code, reason))


class EchoServer(Recorder):
    """Echoes with ``factory.echo_kwargs`` (e.g. ``doNotCompress``, ``fragmentSize``)."""

    sendMessage: Callable[..., None]

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        super().onMessage(payload, isBinary)
        self.sendMessage(payload, isBinary, **getattr(self.factory, "echo_kwargs", {}))


@dataclass
class Pair:
    runtime: RuntimeHarness
    server: Any
    client: Any
    tap: WireTap
    server_events: Events
    client_events: Events

    async def echo(self, payload: bytes, binary: bool = False, **kwargs: Any) -> None:
        """Client sends, server echoes; both copies must arrive intact."""
        self.client.sendMessage(payload, binary, **kwargs)
        assert await self.runtime.wait(self.server_events.messages.get()) == (payload, binary)
        assert await self.runtime.wait(self.client_events.messages.get()) == (payload, binary)

    async def close(self) -> None:
        self.client.sendClose(1000)
        assert await self.runtime.wait(self.client_events.closed.get()) == (True, 1000, None)
        assert (await self.runtime.wait(self.server_events.closed.get()))[0] is True


class Pairs:
    """Makes connected client/server pairs with a wire tap between them."""

    def __init__(self, runtime: RuntimeHarness) -> None:
        self.runtime = runtime
        self.taps: list[WireTap] = []

    async def server(self, accept: Any, **options: Any) -> tuple[Any, int]:
        echo_kwargs = options.pop("echo_kwargs", {})
        factory = self.runtime.server_factory(
            EchoServer, perMessageCompressionAccept=accept, **options
        )
        factory.events = Events()
        factory.echo_kwargs = echo_kwargs
        return factory, await self.runtime.listen(factory)

    async def client(self, port: int, offers: list[Any], **options: Any) -> tuple[Any, Events]:
        factory = self.runtime.client_factory(
            Recorder, perMessageCompressionOffers=offers, **options
        )
        factory.events = Events()
        tap = WireTap(port)
        self.taps.append(tap)
        proto = await self.runtime.connect(factory, await tap.start())
        proto.tap = tap
        return proto, factory.events

    async def open(
        self,
        offers: list[Any],
        accept: Any,
        *,
        server_options: dict[str, Any] | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> Pair:
        factory, port = await self.server(accept, **(server_options or {}))
        client, client_events = await self.client(port, offers, **(client_options or {}))
        wait = self.runtime.wait
        server = await wait(factory.events.opened.get())
        assert await wait(client_events.opened.get()) is client
        return Pair(self.runtime, server, client, client.tap, factory.events, client_events)

    def close(self) -> None:
        for tap in self.taps:
            tap.close()


@pytest.fixture
def pairs(runtime_pair: RuntimeHarness) -> Iterator[Pairs]:
    """Every server runtime with every client runtime."""
    made = Pairs(runtime_pair)
    yield made
    made.close()


def codec_of(proto: Any) -> PerMessageDeflate:
    extensions = proto.websocket_extensions_in_use
    assert len(extensions) == 1, extensions
    assert isinstance(extensions[0], PerMessageDeflate)
    return extensions[0]


def params(codec: PerMessageDeflate) -> tuple[bool, bool, int, int]:
    return (
        codec.server_no_context_takeover,
        codec.client_no_context_takeover,
        codec.server_max_window_bits,
        codec.client_max_window_bits,
    )


def lengths(frames: list[TappedFrame]) -> list[int]:
    return [f.length for f in frames]


# -- negotiation matrix ----------------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 9, 12, 15, None], ids=lambda b: f"bits{b or '-unset'}")
@pytest.mark.parametrize("client_nct", [False, True], ids=["client_ct", "client_nct"])
@pytest.mark.parametrize("server_nct", [False, True], ids=["server_ct", "server_nct"])
@pytest.mark.asyncio_task
async def test_compressed_echo_matrix(
    pairs: Pairs, server_nct: bool, client_nct: bool, bits: int | None
) -> None:
    # The client offers a bare client_max_window_bits and, for a set size,
    # server_max_window_bits=N; the server answers client_max_window_bits=N.
    offer = PerMessageDeflateOffer(
        accept_no_context_takeover=client_nct,
        accept_max_window_bits=True,
        request_no_context_takeover=server_nct,
        request_max_window_bits=bits or 0,
    )

    def accept(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept:
        return PerMessageDeflateOfferAccept(
            offers[0], request_no_context_takeover=client_nct, request_max_window_bits=bits or 0
        )

    pair = await pairs.open([offer], accept)
    expected = (server_nct, client_nct, bits or 15, bits or 15)
    assert params(codec_of(pair.server)) == expected
    assert params(codec_of(pair.client)) == expected
    assert codec_of(pair.server).is_server and not codec_of(pair.client).is_server

    r200 = os.urandom(200)
    r1000 = os.urandom(1000)
    await pair.echo(TEXT_100K)
    await pair.echo(r200, True)
    await pair.echo(r200, True)
    await pair.echo(r1000 + r1000, True)
    await pair.echo(b"")  # RFC 7692 7.2.3.6: an empty compressed message
    await pair.close()

    for direction, no_takeover in (
        (pair.tap.to_server, client_nct),
        (pair.tap.to_client, server_nct),
    ):
        frames = direction.data_frames()
        assert [(f.rsv1, f.fin) for f in frames] == [(True, True)] * 5
        big, first, second, window, empty = lengths(frames)
        if bits == 8:
            # 8 bits: only distance-1 matches (see deflate_codec), so text
            # compresses by Huffman coding alone and R repeats cannot be found.
            assert big < 70_000
            assert second > 190
            assert window > 1990
        else:
            assert big < 2_000, "100 KB of repetitive text must shrink"
            if no_takeover:
                assert second > 190, "without context takeover R is new again"
            else:
                assert second < 30, f"with context takeover R repeats: {first} -> {second}"
            if (bits or 15) > 10:
                assert window < 1100, "R + R fits a window above 1 KiB"
            else:
                assert window > 1990, "R + R must not compress with a 512-byte window"
        assert empty == 1  # the single 0x00 byte


@pytest.mark.parametrize(("server_bits", "client_bits"), [(9, 15), (15, 9)])
@pytest.mark.asyncio_task
async def test_window_bits_apply_per_direction(
    pairs: Pairs, server_bits: int, client_bits: int
) -> None:
    offer = PerMessageDeflateOffer(request_max_window_bits=server_bits)
    pair = await pairs.open(
        [offer],
        lambda offers: PerMessageDeflateOfferAccept(offers[0], request_max_window_bits=client_bits),
    )
    assert codec_of(pair.client).server_max_window_bits == server_bits
    assert codec_of(pair.client).client_max_window_bits == client_bits
    r1000 = os.urandom(1000)
    await pair.echo(r1000 + r1000, True)
    await pair.close()
    (up,) = lengths(pair.tap.to_server.data_frames())
    (down,) = lengths(pair.tap.to_client.data_frames())
    assert (up < 1100) is (client_bits == 15)
    assert (down < 1100) is (server_bits == 15)


@pytest.mark.asyncio_task
async def test_server_chooses_no_context_takeover_unasked(pairs: Pairs) -> None:
    pair = await pairs.open(
        [PerMessageDeflateOffer(accept_no_context_takeover=False)],
        lambda offers: PerMessageDeflateOfferAccept(offers[0], no_context_takeover=True),
    )
    assert params(codec_of(pair.client)) == (True, False, 15, 15)
    assert params(codec_of(pair.server)) == (True, False, 15, 15)
    r200 = os.urandom(200)
    await pair.echo(r200, True)
    await pair.echo(r200, True)
    await pair.close()
    assert lengths(pair.tap.to_client.data_frames())[1] > 190  # server resets
    assert lengths(pair.tap.to_server.data_frames())[1] < 30  # client keeps its window


@pytest.mark.asyncio_task
async def test_client_window_hint_caps_the_client(pairs: Pairs) -> None:
    # client_max_window_bits=9 in the offer is a promise (RFC 7692 7.1.2.2)
    # the client keeps even when the server's answer does not repeat it.
    offer = PerMessageDeflateOffer(client_max_window_bits_hint=9)
    pair = await pairs.open([offer], lambda offers: PerMessageDeflateOfferAccept(offers[0]))
    assert codec_of(pair.client).client_max_window_bits == 9
    r1000 = os.urandom(1000)
    await pair.echo(r1000 + r1000, True)
    await pair.close()
    assert lengths(pair.tap.to_server.data_frames())[0] > 1990
    assert lengths(pair.tap.to_client.data_frames())[0] < 1100


@pytest.mark.asyncio_task
async def test_server_picks_among_several_offers(pairs: Pairs) -> None:
    seen: list[list[PerMessageDeflateOffer]] = []

    def accept_second(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept:
        seen.append(offers)
        return PerMessageDeflateOfferAccept(offers[1])

    offers = [
        PerMessageDeflateOffer(request_no_context_takeover=True, request_max_window_bits=10),
        PerMessageDeflateOffer(accept_no_context_takeover=False),
    ]
    pair = await pairs.open(offers, accept_second)
    (got,) = seen
    assert [(o.request_no_context_takeover, o.request_max_window_bits) for o in got] == [
        (True, 10),
        (False, 0),
    ]
    assert params(codec_of(pair.client)) == (False, False, 15, 15)
    await pair.echo(TEXT_100K)
    await pair.close()


# -- sending options ---------------------------------------------------------------------


@pytest.mark.asyncio_task
async def test_do_not_compress_sends_plain_frames(pairs: Pairs) -> None:
    runtime = pairs.runtime
    pair = await pairs.open(
        [PerMessageDeflateOffer()],
        accept_deflate_offer,
        server_options={"echo_kwargs": {"doNotCompress": True}},
    )
    await pair.echo(TEXT_100K, doNotCompress=True)
    await pair.echo(TEXT_100K)  # client compresses, server still does not
    pair.server.sendMessage(TEXT_100K)
    assert await runtime.wait(pair.client_events.messages.get()) == (TEXT_100K, False)
    await pair.close()
    up = pair.tap.to_server.data_frames()
    down = pair.tap.to_client.data_frames()
    assert (up[0].rsv1, up[0].length) == (False, 100_000)
    assert up[1].rsv1 and up[1].length < 2_000
    assert [(f.rsv1, f.length) for f in down[:2]] == [(False, 100_000)] * 2
    assert down[2].rsv1 and down[2].length < 2_000


def _random_text(n: int) -> bytes:
    return base64.b64encode(os.urandom(n * 3 // 4))[:n]


@pytest.mark.parametrize("how", ["fragmentSize", "autoFragmentSize"])
@pytest.mark.asyncio_task
async def test_fragmented_compressed_messages(pairs: Pairs, how: str) -> None:
    if how == "fragmentSize":
        server_options: dict[str, Any] = {"echo_kwargs": {"fragmentSize": 4096}}
        client_options: dict[str, Any] = {}
        send_kwargs: dict[str, Any] = {"fragmentSize": 4096}
    else:
        server_options = {"autoFragmentSize": 4096}
        client_options = {"autoFragmentSize": 4096}
        send_kwargs = {}
    pair = await pairs.open(
        [PerMessageDeflateOffer()],
        accept_deflate_offer,
        server_options=server_options,
        client_options=client_options,
    )
    payload = _random_text(64_000)  # base64: compresses to about 3/4
    await pair.echo(payload, **send_kwargs)
    await pair.close()
    for direction in (pair.tap.to_server, pair.tap.to_client):
        frames = direction.data_frames()
        assert len(frames) >= 10
        assert (frames[0].opcode, frames[0].rsv1) == (OP_TEXT, True)
        assert all(f.opcode == OP_CONT and not f.rsv1 for f in frames[1:])
        assert [f.fin for f in frames] == [False] * (len(frames) - 1) + [True]
        assert all(f.length == 4096 for f in frames[:-1])
        assert 40_000 < sum(lengths(frames)) < 60_000


@pytest.mark.asyncio_task
async def test_streamed_compressed_message(pairs: Pairs) -> None:
    runtime = pairs.runtime
    pair = await pairs.open([PerMessageDeflateOffer()], accept_deflate_offer)
    chunks = [TEXT_100K[i : i + 25_000] for i in range(0, 100_000, 25_000)]
    pair.client.beginMessage(isBinary=False)
    for chunk in chunks:
        pair.client.sendMessageFrame(chunk)
    pair.client.endMessage()
    assert await runtime.wait(pair.server_events.messages.get()) == (TEXT_100K, False)
    assert await runtime.wait(pair.client_events.messages.get()) == (TEXT_100K, False)
    await pair.close()
    frames = pair.tap.to_server.data_frames()
    assert len(frames) == 5 and frames[0].rsv1 and not any(f.rsv1 for f in frames[1:])
    assert sum(lengths(frames)) < 2_000


# -- declined and refused --------------------------------------------------------------


@pytest.mark.parametrize("declined_by", ["accept returns None", "no accept function"])
@pytest.mark.asyncio_task
async def test_declined_offer_means_no_compression(pairs: Pairs, declined_by: str) -> None:
    calls: list[int] = []

    def decline(offers: list[PerMessageDeflateOffer]) -> None:
        calls.append(len(offers))
        return None

    accept = decline if declined_by == "accept returns None" else None
    pair = await pairs.open([PerMessageDeflateOffer()], accept)
    assert calls == ([1] if accept else [])
    assert pair.server.websocket_extensions_in_use == []
    assert pair.client.websocket_extensions_in_use == []
    assert "sec-websocket-extensions" not in pair.client.http_headers
    await pair.echo(TEXT_100K)
    await pair.close()
    for direction in (pair.tap.to_server, pair.tap.to_client):
        assert [(f.rsv1, f.length) for f in direction.data_frames()] == [(False, 100_000)]


@pytest.mark.asyncio_task
async def test_client_refusing_the_response_fails_the_handshake(pairs: Pairs) -> None:
    runtime = pairs.runtime
    factory, port = await pairs.server(accept_deflate_offer)
    client, events = await pairs.client(
        port, [PerMessageDeflateOffer()], perMessageCompressionAccept=lambda response: None
    )
    was_clean, code, reason = await runtime.wait(events.closed.get())
    assert (was_clean, code) == (False, 1006)
    assert reason is not None and "permessage-deflate" in reason and "denied" in reason
    assert client.handshake_error is not None
    assert events.opened.empty()
    assert client.websocket_extensions_in_use == []
    # The server did answer 101, then saw the client go away.
    assert (await runtime.wait(factory.events.closed.get()))[0] is False
    assert client.tap.to_server.data_frames() == []


@pytest.mark.asyncio_task
async def test_client_accept_may_tighten_the_response(pairs: Pairs) -> None:
    pair = await pairs.open(
        [PerMessageDeflateOffer(accept_no_context_takeover=False)],
        lambda offers: PerMessageDeflateOfferAccept(offers[0]),
        client_options={
            "perMessageCompressionAccept": lambda response: PerMessageDeflateResponseAccept(
                response, no_context_takeover=True, window_bits=9
            )
        },
    )
    assert codec_of(pair.client).client_no_context_takeover is True
    assert codec_of(pair.client).client_max_window_bits == 9
    r1000 = os.urandom(1000)
    await pair.echo(r1000 + r1000, True)
    await pair.close()
    assert lengths(pair.tap.to_server.data_frames())[0] > 1990


@pytest.mark.parametrize("do_not_compress", [False, True])
@pytest.mark.asyncio_task
async def test_prepared_message_on_a_compressing_connection(
    pairs: Pairs, do_not_compress: bool
) -> None:
    runtime = pairs.runtime
    pair = await pairs.open([PerMessageDeflateOffer()], accept_deflate_offer)
    prepared = pair.server.factory.prepareMessage(TEXT_100K, doNotCompress=do_not_compress)
    pair.server.sendPreparedMessage(prepared)
    pair.server.sendPreparedMessage(prepared)
    for _ in range(2):
        assert await runtime.wait(pair.client_events.messages.get()) == (TEXT_100K, False)
    await pair.close()
    frames = pair.tap.to_client.data_frames()
    if do_not_compress:
        assert [(f.rsv1, f.length) for f in frames] == [(False, 100_000)] * 2
    else:
        assert all(f.rsv1 and f.length < 2_000 for f in frames) and len(frames) == 2


@pytest.mark.parametrize("extra", [0, 1], ids=["at-limit", "over-limit"])
@pytest.mark.asyncio_task
async def test_max_message_size_counts_decompressed_bytes(pairs: Pairs, extra: int) -> None:
    runtime = pairs.runtime
    pair = await pairs.open(
        [PerMessageDeflateOffer()],
        accept_deflate_offer,
        server_options={"maxMessagePayloadSize": 100_000},
    )
    payload = TEXT_100K + b"x" * extra
    pair.client.sendMessage(payload, fragmentSize=300)  # several compressed frames
    if not extra:
        assert await runtime.wait(pair.server_events.messages.get()) == (payload, False)
        await pair.close()
        return
    was_clean, code, reason = await runtime.wait(pair.client_events.closed.get())
    assert pair.client.websocket_extensions_in_use  # it was compressed ...
    assert sum(lengths(pair.tap.to_server.data_frames())) < 2_000  # ... to a few KB
    assert (was_clean, code) == (True, 1009), reason
    assert pair.server_events.messages.empty()


# -- deflate bombs -------------------------------------------------------------------------


def _deflate_parts(total: int, parts: int) -> list[bytes]:
    """``total`` zero bytes as ``parts`` compressed frame payloads of one message."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(total // parts)
    out = [compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH) for _ in range(parts)]
    assert out[-1].endswith(b"\x00\x00\xff\xff")
    out[-1] = out[-1][:-4]
    return out


@pytest.mark.parametrize("frames", [1, 20], ids=["one_frame", "fragmented"])
@pytest.mark.asyncio_task
async def test_deflate_bomb_against_server(pairs: Pairs, frames: int) -> None:
    runtime = pairs.runtime
    factory, port = await pairs.server(accept_deflate_offer, maxMessagePayloadSize=MiB)
    payloads = _deflate_parts(10 * 1000 * 1000, frames)
    assert sum(map(len, payloads)) < 20_000  # 10 MB in about 10 KB

    peer = await raw_client(port, [("Sec-WebSocket-Extensions", "permessage-deflate")])
    assert peer.response.status == 101
    assert peer.response.header("Sec-WebSocket-Extensions")
    started = time.monotonic()
    for i, payload in enumerate(payloads):
        peer.send(
            build_frame(
                OP_BINARY if i == 0 else OP_CONT,
                payload,
                fin=i == len(payloads) - 1,
                rsv1=i == 0,
            )
        )
    close = await peer.read_frame()
    assert close.opcode == OP_CLOSE and close.close_code == 1009
    assert await peer.read_eof() == b""
    assert time.monotonic() - started < 2.0
    peer.close()
    was_clean, code, reason = await runtime.wait(factory.events.closed.get())
    assert (was_clean, code) == (False, 1006) and reason is not None and "1009" in reason
    assert factory.events.messages.empty()

    # The server is fine: the next client gets its echo.
    client, events = await pairs.client(port, [PerMessageDeflateOffer()])
    await runtime.wait(events.opened.get())
    client.sendMessage(TEXT_100K)
    assert await runtime.wait(events.messages.get()) == (TEXT_100K, False)
    client.sendClose(1000)
    assert await runtime.wait(events.closed.get()) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_deflate_bomb_against_client(pairs: Pairs) -> None:
    runtime = pairs.runtime
    (payload,) = _deflate_parts(10 * 1000 * 1000, 1)
    got: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
    server = await _bomb_server(payload, got)
    try:
        factory = runtime.client_factory(
            Recorder,
            perMessageCompressionOffers=[PerMessageDeflateOffer()],
            maxMessagePayloadSize=MiB,
        )
        factory.events = Events()
        await runtime.connect(factory, server.port)
        was_clean, code, reason = await runtime.wait(factory.events.closed.get())
        assert (was_clean, code) == (False, 1006) and reason is not None and "1009" in reason
        assert factory.events.messages.empty()
        opcode, close_code = await runtime.wait(got)
        assert (opcode, close_code) == (OP_CLOSE, 1009)
    finally:
        server.close()


async def _bomb_server(payload: bytes, got: asyncio.Future[tuple[Any, ...]]) -> Any:
    import struct

    async def after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(build_frame(OP_BINARY, payload, rsv1=True, mask=False))
        head = await reader.readexactly(2)
        n = head[1] & 0x7F
        key = await reader.readexactly(4)
        body = await reader.readexactly(n)
        body = bytes(b ^ key[i % 4] for i, b in enumerate(body))
        code = struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
        got.set_result((head[0] & 0x0F, code))

    def respond(key: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [*upgrade_headers(key), ("Sec-WebSocket-Extensions", "permessage-deflate")]

    return await raw_server(respond, after)


# -- regression: found while writing these tests ---------------------------------------------
# The streaming hooks' "is overridden" flag was cached on the class and then
# inherited by subclasses (wsproto_cb/protocol.py, _init_state): after a plain
# protocol was used once, a subclass's onMessageFrameBegin was never called.


class FrameCounter(Recorder):
    def onMessageFrameBegin(self, length: int) -> Any:
        self.factory.frame_lengths.append(length)
        return super().onMessageFrameBegin(length)  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_streaming_hooks_of_a_subclass_are_called(pairs: Pairs) -> None:
    runtime = pairs.runtime
    # A plain server protocol first (as any application might have) ...
    plain = runtime.server_factory()
    port = await runtime.listen(plain)
    client = runtime.client_factory(Recorder)
    client.events = Events()
    await runtime.connect(client, port)
    await runtime.wait(client.events.opened.get())
    # ... then a subclass that wants frame lengths.
    factory = runtime.server_factory(FrameCounter)
    factory.events = Events()
    factory.frame_lengths = []
    port = await runtime.listen(factory)
    client = runtime.client_factory(Recorder)
    client.events = Events()
    proto = await runtime.connect(client, port)
    await runtime.wait(client.events.opened.get())
    proto.sendMessage(b"x" * 10, fragmentSize=4)
    assert await runtime.wait(factory.events.messages.get()) == (b"x" * 10, False)
    assert factory.frame_lengths == [4, 4, 2]
