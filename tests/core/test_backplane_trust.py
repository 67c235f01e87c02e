"""What a party that can publish on Redis can and cannot do to a node, bytes only.

Three defences, each counted in ``backplane.stats``: text that is not UTF-8
is dropped; without a secret, a forged numbering cannot silence a real
publisher; with a secret, only envelopes signed with it are delivered.
The Redis end of it runs in tests/backplane/test_forged.py.
"""

from __future__ import annotations

import pytest
from test_backplane_redis_logic import OTHER, Rig, ready_rig

from wsproto_cb.backplane import RedisBackplane
from wsproto_cb.backplane.envelope import (
    RESET,
    EnvelopeAuthError,
    EnvelopeError,
    EnvelopeKey,
    SequenceTracker,
    decode_envelope,
    encode_envelope,
)
from wsproto_cb.backplane.secrets import SECRET_ENV, envelope_key

SECRET = b"0123456789abcdef-shared"
KEY = EnvelopeKey(SECRET)
CHANNEL = b"wsproto_cb:g:room"
TOP = 2**64 - 1


def sealed(sequence: int, payload: bytes = b"x", key: EnvelopeKey = KEY, **kw: object) -> bytes:
    group = kw.pop("group", "room")
    channel = kw.pop("channel", b"wsproto_cb:g:%s" % str(group).encode())
    return encode_envelope(OTHER, sequence, group, payload, False, key=key, channel=channel, **kw)  # type: ignore[arg-type]


def delivered(rig: Rig) -> list[bytes]:
    return [call[2] for call in rig.listener.of("deliver")]


# ------------------------------------------------------------------ UTF-8


@pytest.mark.parametrize(
    "payload",
    [b"\xff", b"caf\xc3", b"\xed\xa0\x80", b"ok \xc0\xaf"],
    ids=["ff", "truncated", "surrogate", "overlong"],
)
def test_text_that_is_not_utf8_is_dropped_and_counted(payload: bytes) -> None:
    rig = ready_rig("room")
    rig.message(encode_envelope(OTHER, 1, "room", payload, False))
    rig.message(encode_envelope(OTHER, 2, "room", payload, True))  # (binary: any bytes)
    rig.message(encode_envelope(OTHER, 3, "room", "é ✓".encode(), False))
    assert rig.listener.of("deliver") == [
        ("deliver", "room", payload, True),
        ("deliver", "room", "é ✓".encode(), False),
    ]
    assert rig.bp.stats.invalid_utf8 == 1
    assert rig.bp.stats.received == 2
    (log,) = rig.io.logs
    assert "not UTF-8" in log[1]


def test_a_dropped_text_message_is_a_gap_for_what_follows() -> None:
    """Those members did miss it: the next message from that publisher says so."""
    rig = ready_rig("room")
    for sequence, payload in ((1, b"a"), (2, b"\xff"), (3, b"c")):
        rig.message(encode_envelope(OTHER, sequence, "room", payload, False))
    assert delivered(rig) == [b"a", b"c"]
    assert rig.listener.of("gap") == [("gap", "room", OTHER.hex(), 1)]


# ---------------------------------------------------- forged numbering, unsigned


def test_the_tracker_bounds_forward_jumps_and_resets_on_going_back() -> None:
    tracker = SequenceTracker(max_jump=100, replay_window=0)
    node = OTHER
    assert tracker.observe(node, "g", 10) == 0
    assert tracker.observe(node, "g", 110) == 99  # a jump of 100: believed, a gap
    assert tracker.observe(node, "g", 211) == RESET  # a jump of 101: a fresh start
    assert tracker.observe(node, "g", 211) is None  # an exact repeat is still stale
    assert tracker.observe(node, "g", 212) == 0
    assert tracker.observe(node, "g", 5) == RESET  # going back: a fresh start, delivered
    assert tracker.observe(node, "g", 6) == 0
    assert tracker.observe(node, "g", 1, epoch=9) == 0  # a new epoch: a new baseline
    assert tracker.observe(node, "g", 7, epoch=0) == RESET  # an older epoch: a fresh start
    assert tracker.observe(node, "g", 8, epoch=0) == 0


def test_the_tracker_with_a_replay_window() -> None:
    tracker = SequenceTracker(replay_window=3)
    assert tracker.observe(OTHER, "g", 10) == 0
    assert [tracker.observe(OTHER, "g", s) for s in (10, 9, 7)] == [None, None, None]
    assert tracker.observe(OTHER, "g", 6) == RESET
    assert tracker.observe(OTHER, "g", 10**9) == 10**9 - 7  # (no max_jump: any gap)


@pytest.mark.parametrize(
    ("forged_sequence", "forged_epoch"),
    [(TOP, 0), (TOP, TOP), (50, TOP), (1 << 21, 0)],
    ids=["top-sequence", "top-epoch-and-sequence", "top-epoch", "past-the-jump-bound"],
)
def test_a_forged_numbering_cannot_silence_a_real_publisher(
    forged_sequence: int, forged_epoch: int
) -> None:
    """One raw PUBLISH reusing a real node id with a huge number: before, every
    later message of that node was 'stale' and dropped, on every node."""
    rig = ready_rig("room")
    real = [encode_envelope(OTHER, s, "room", b"real %d" % s, False, epoch=1) for s in (1, 2, 3, 4)]
    rig.message(real[0])
    rig.message(real[1])
    rig.message(encode_envelope(OTHER, forged_sequence, "room", b"forged", False, forged_epoch))
    rig.message(real[2])
    rig.message(real[3])
    assert delivered(rig) == [b"real 1", b"real 2", b"forged", b"real 3", b"real 4"]
    assert rig.bp.stats.stale == 0
    assert 1 <= rig.bp.stats.sequence_resets <= 2
    assert rig.listener.of("gap") == []  # (a forged jump claims no lost messages)
    assert sum("jumped in its numbering" in message for _, message in rig.io.logs) == 1


def test_a_real_gap_within_the_bound_is_still_reported() -> None:
    rig = ready_rig("room")
    rig.message(encode_envelope(OTHER, 1, "room", b"", False))
    rig.message(encode_envelope(OTHER, 1 + (1 << 20), "room", b"", False))
    assert rig.listener.of("gap") == [("gap", "room", OTHER.hex(), (1 << 20) - 1)]
    assert rig.bp.stats.sequence_resets == 0


# --------------------------------------------------------------------- signed


def test_signed_layout_is_version_2_with_a_tag_over_channel_and_body() -> None:
    import hashlib
    import hmac

    unsigned = encode_envelope(OTHER, 7, "room", b"hi", False)
    wire = sealed(7, b"hi")
    body, tag = wire[:-32], wire[-32:]
    assert body == unsigned[:4] + b"\x02" + unsigned[5:]
    mac = hmac.new(SECRET, len(CHANNEL).to_bytes(4, "big") + CHANNEL + body, hashlib.sha256)
    assert tag == mac.digest()
    assert decode_envelope(wire, key=KEY, channel=CHANNEL).payload == b"hi"


@pytest.mark.parametrize(
    ("data_key", "reader_key", "channel", "message"),
    [
        (None, KEY, CHANNEL, "unsigned envelope"),
        (KEY, None, CHANNEL, "no secret"),
        (EnvelopeKey(b"another secret, 16+"), KEY, CHANNEL, "does not match"),
        (KEY, KEY, b"wsproto_cb:g:other", "does not match"),  # (moved to another channel)
    ],
    ids=["unsigned", "no-key-here", "other-key", "other-channel"],
)
def test_decode_refuses_what_it_cannot_check(
    data_key: EnvelopeKey | None, reader_key: EnvelopeKey | None, channel: bytes, message: str
) -> None:
    wire = encode_envelope(OTHER, 1, "room", b"x", False, key=data_key, channel=CHANNEL)
    with pytest.raises(EnvelopeAuthError, match=message):
        decode_envelope(wire, key=reader_key, channel=channel)


def test_any_flipped_bit_of_a_signed_envelope_is_refused() -> None:
    wire = sealed(3, b"payload")
    for i in range(len(wire)):
        for bit in (0x01, 0x80):
            flipped = bytearray(wire)
            flipped[i] ^= bit
            # (magic and version: not ours at all; any other bit: a bad signature)
            with pytest.raises(EnvelopeAuthError if i >= 5 else EnvelopeError):
                decode_envelope(bytes(flipped), key=KEY, channel=CHANNEL)


def test_a_signed_node_delivers_only_what_its_secret_signed() -> None:
    rig = ready_rig("room", secret=SECRET)
    rig.message(sealed(1, b"good 1"))
    rig.message(encode_envelope(OTHER, 2, "room", b"unsigned", False))
    rig.message(sealed(2, b"other key", key=EnvelopeKey(b"x" * 16)))
    rig.message(sealed(2, b"wrong channel", channel=b"wsproto_cb:g:else"))
    rig.message(sealed(2, b"good 2"))
    assert delivered(rig) == [b"good 1", b"good 2"]
    assert rig.bp.stats.unauthenticated == 3
    assert rig.listener.of("gap") == []
    (log,) = rig.io.logs
    assert "dropping an envelope" in log[1]


def test_a_signed_node_drops_every_replay() -> None:
    """Signed envelopes are a real publisher's: any step back is a replay, however far."""
    rig = ready_rig("room", secret=SECRET)
    genuine = [sealed(s, b"%d" % s) for s in range(1, 6)]
    for wire in genuine:
        rig.message(wire)
    for wire in (genuine[0], genuine[3], genuine[4]):
        rig.message(wire)
    rig.message(sealed(1 << 40, b"far"))  # (a real jump: a gap, however large)
    assert delivered(rig) == [b"1", b"2", b"3", b"4", b"5", b"far"]
    assert rig.bp.stats.stale == 3
    assert rig.listener.of("gap") == [("gap", "room", OTHER.hex(), (1 << 40) - 6)]


def test_a_signed_node_publishes_signed_envelopes() -> None:
    rig = ready_rig("room", secret=SECRET)
    rig.bp.publish("room", b"hello", False)
    (command,) = rig.stream("pub").take()
    assert command[:2] == [b"PUBLISH", CHANNEL]
    envelope = decode_envelope(command[2], key=KEY, channel=CHANNEL)
    assert (envelope.payload, envelope.node) == (b"hello", rig.bp.nodeId)
    assert rig.bp.signed and "signed" in repr(rig.bp) and SECRET.decode() not in repr(rig.bp)


# ------------------------------------------------------------ where the key comes from


def test_secret_from_argument_file_or_environment(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"  # type: ignore[operator]
    path.write_bytes(SECRET + b"\n")
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert not RedisBackplane().signed
    for backplane in (
        RedisBackplane(secret=SECRET),
        RedisBackplane(secret=SECRET.decode()),
        RedisBackplane(secretFile=str(path)),
    ):
        assert backplane.signed
        assert backplane._key is not None and backplane._key._key == SECRET
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    assert RedisBackplane().signed
    assert envelope_key(environ={}) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret": b"short"}, "at least 16"),
        ({"secret": SECRET, "secretFile": "x"}, "not both"),
        ({"secretFile": "/nonexistent/secret"}, "cannot read"),
        ({"secret": 1234}, "must be bytes"),
    ],
)
def test_bad_secrets_are_refused_up_front(options: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        RedisBackplane(**options)  # type: ignore[arg-type]


def test_backplane_from_url_passes_the_secret_file(tmp_path: pytest.TempPathFactory) -> None:
    from wsproto_cb.backplane import LocalBackplane, backplane_from_url

    path = tmp_path / "secret"  # type: ignore[operator]
    path.write_bytes(SECRET)
    backplane = backplane_from_url("redis://127.0.0.1:1/0", secretFile=str(path))
    assert isinstance(backplane, RedisBackplane) and backplane.signed
    assert isinstance(backplane_from_url("memory://"), LocalBackplane)
    with pytest.raises(ValueError, match="not memory://"):
        backplane_from_url("memory://", secretFile=str(path))


# ----------------------------------------------------------- URLs with passwords


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://ws:pw@h:1/0", "redis://ws:***@h:1/0"),
        ("redis://:p@ss:w/rd@h/0", "redis://:***@h/0"),
        ("redis://h:1/0", "redis://h:1/0"),
        ("redis://user@h", "redis://user@h"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    from wsproto_cb.backplane.address import redact_url

    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "redis://ws:hunter2-secret@h:port/0",
        "redis://ws:hunter2-secret@h/x",
        "rediss://ws:hunter2-secret@h?ssl_cert_reqs=maybe",
    ],
)
def test_url_errors_never_show_the_password(url: str) -> None:
    from wsproto_cb.backplane import backplane_from_url

    with pytest.raises(ValueError) as caught:
        backplane_from_url(url)
    assert "hunter2" not in str(caught.value) and "ws:***@" in str(caught.value)


def test_backplane_url_precedence(tmp_path: pytest.TempPathFactory) -> None:
    from wsproto_cb.backplane.secrets import URL_ENV, backplane_url

    path = tmp_path / "url"  # type: ignore[operator]
    path.write_text("redis://from-file/0\n")
    env = {URL_ENV: "redis://from-env/0"}
    assert backplane_url("redis://flag/0", None, env) == "redis://flag/0"
    assert backplane_url(None, str(path), env) == "redis://from-file/0"
    assert backplane_url(None, None, env) == "redis://from-env/0"
    assert backplane_url(None, None, {}) is None
    with pytest.raises(ValueError, match="not both"):
        backplane_url("redis://flag/0", str(path), env)
