"""The backplane envelope (one broadcast on a Redis channel) and the per-publisher order check."""

from __future__ import annotations

import struct

import pytest

from wsproto_cb.backplane.envelope import (
    NODE_ID_SIZE,
    Envelope,
    EnvelopeError,
    SequenceCounter,
    SequenceTracker,
    decode_envelope,
    encode_envelope,
)

NODE = bytes(range(1, 9))
OTHER = b"\xaa" * NODE_ID_SIZE
HEADER_SIZE = 32  # "WSCB" + version + flags + node + epoch + sequence + group length


def _header(
    version: int, flags: int, node: bytes, sequence: int, group_len: int, epoch: int = 0
) -> bytes:
    fields = struct.pack("!QQH", epoch, sequence, group_len)
    return b"WSCB" + bytes((version, flags)) + node + fields


# ------------------------------------------------------------------ layout


def test_exact_layout_for_a_binary_group_message() -> None:
    wire = encode_envelope(NODE, 0x0102030405060708, "ab", b"xyz", True, epoch=0x0A0B)
    assert wire == (
        b"WSCB"  # magic
        b"\x01"  # version
        b"\x01"  # flags: binary
        b"\x01\x02\x03\x04\x05\x06\x07\x08"  # node
        b"\x00\x00\x00\x00\x00\x00\x0a\x0b"  # epoch, u64 big-endian
        b"\x01\x02\x03\x04\x05\x06\x07\x08"  # sequence, u64 big-endian
        b"\x00\x02"  # group length, u16 big-endian
        b"ab"
        b"xyz"
    )


def test_exact_layout_for_text_to_every_connection() -> None:
    wire = encode_envelope(NODE, 1, None, b"hi", False)
    assert wire == _header(1, 0x02, NODE, 1, 0) + b"hi"
    assert len(wire) == HEADER_SIZE + 2


# --------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    "group",
    [None, "", "room", "café ✓ 部屋", "g" * 65535, "é" * 32767 + "a"],
    ids=["everyone", "empty", "ascii", "unicode", "longest-ascii", "longest-utf8"],
)
@pytest.mark.parametrize("is_binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize(
    "payload",
    [b"", "héllo".encode(), bytes(range(256)) * 4096],
    ids=["empty", "small", "1MiB"],
)
def test_round_trip(group: str | None, is_binary: bool, payload: bytes) -> None:
    wire = encode_envelope(NODE, 2**64 - 1, group, payload, is_binary, epoch=2**64 - 2)
    assert decode_envelope(wire) == Envelope(
        NODE, 2**64 - 1, group, payload, is_binary, epoch=2**64 - 2
    )


def test_empty_group_is_not_everyone() -> None:
    # "" is a group like any other; only None means every connection
    assert decode_envelope(encode_envelope(NODE, 1, "", b"", False)).group == ""
    assert decode_envelope(encode_envelope(NODE, 1, None, b"", False)).group is None


def test_payload_that_looks_like_a_header_is_payload() -> None:
    inner = encode_envelope(OTHER, 9, "x", b"inner", True)
    assert decode_envelope(encode_envelope(NODE, 1, "g", inner, True)).payload == inner


# ------------------------------------------------------------------ rejects


def test_encode_rejects_wrong_node_size() -> None:
    for node in (b"", NODE[:7], NODE + b"\x00"):
        with pytest.raises(ValueError, match="node id must be 8 bytes"):
            encode_envelope(node, 1, "g", b"", False)


def test_encode_rejects_group_name_over_65535_utf8_bytes() -> None:
    with pytest.raises(ValueError, match="group name longer than 65535"):
        encode_envelope(NODE, 1, "é" * 32768, b"", False)  # 32768 characters, 65536 bytes


GOOD = encode_envelope(NODE, 5, "room", b"payload", False)

BAD_ENVELOPES = {
    "empty": (b"", "shorter than its header"),
    "one byte short of a header": (GOOD[: HEADER_SIZE - 1], "shorter than its header"),
    "bad magic": (b"WSCX" + GOOD[4:], "bad magic"),
    "version 0": (GOOD[:4] + b"\x00" + GOOD[5:], "version 0"),
    "version 2": (GOOD[:4] + b"\x02" + GOOD[5:], "version 2"),
    "group length past the end": (_header(1, 0, NODE, 1, 5) + b"room", "past its end"),
    "group length far past the end": (_header(1, 0, NODE, 1, 65535), "past its end"),
    "group not UTF-8": (_header(1, 0, NODE, 1, 2) + b"\xff\xfe", "not UTF-8"),
    "truncated UTF-8 in group": (_header(1, 0, NODE, 1, 1) + "é".encode(), "not UTF-8"),
    "everyone with a group name": (_header(1, 0x02, NODE, 1, 1) + b"g", "names a group"),
}


@pytest.mark.parametrize(
    ("data", "message"), BAD_ENVELOPES.values(), ids=list(BAD_ENVELOPES.keys())
)
def test_decode_rejects(data: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        decode_envelope(data)


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


def test_header_alone_is_an_empty_message() -> None:
    assert decode_envelope(_header(1, 0x03, NODE, 7, 0)) == Envelope(NODE, 7, None, b"", True)


# ----------------------------------------------------------- SequenceTracker


def test_first_message_sets_the_baseline() -> None:
    tracker = SequenceTracker()
    assert tracker.observe(NODE, "g", 1000) == 0  # (a late subscriber has missed nothing)
    assert tracker.observe(NODE, "g", 1001) == 0


def test_in_order_gap_and_stale() -> None:
    tracker = SequenceTracker()
    assert tracker.observe(NODE, "g", 1) == 0
    assert tracker.observe(NODE, "g", 2) == 0
    assert tracker.observe(NODE, "g", 6) == 3  # 3, 4, 5 missed
    assert tracker.observe(NODE, "g", 6) is None  # repeated
    assert tracker.observe(NODE, "g", 4) is None  # older than the last
    assert tracker.observe(NODE, "g", 7) == 0  # (stale ones did not move the baseline)


def test_each_publisher_and_group_counts_alone() -> None:
    tracker = SequenceTracker()
    assert tracker.observe(NODE, "a", 1) == 0
    assert tracker.observe(NODE, "b", 50) == 0
    assert tracker.observe(OTHER, "a", 9) == 0
    assert tracker.observe(NODE, None, 3) == 0
    assert tracker.observe(NODE, "a", 2) == 0
    assert tracker.observe(NODE, "b", 52) == 1
    assert tracker.observe(OTHER, "a", 9) is None
    assert tracker.observe(NODE, None, 5) == 1
    assert tracker.observe(NODE, "", 1) == 0  # ("" is not None)


def test_forget_group_resets_that_group_only() -> None:
    tracker = SequenceTracker()
    for node in (NODE, OTHER):
        for group in ("a", "b", None):
            assert tracker.observe(node, group, 10) == 0
    tracker.forget_group("a")
    assert tracker.observe(NODE, "a", 3) == 0  # new baseline, even lower than before
    assert tracker.observe(OTHER, "a", 20) == 0  # no gap: its baseline was dropped too
    assert tracker.observe(NODE, "b", 10) is None  # kept
    assert tracker.observe(OTHER, None, 12) == 1  # kept
    tracker.forget_group(None)
    assert tracker.observe(OTHER, None, 1) == 0
    assert tracker.observe(OTHER, "b", 10) is None
    tracker.forget_group("never seen")  # (nothing to forget: no error)


# ---------------------------------------------------- epochs and bounded memory


def test_a_publisher_counts_per_group_under_one_epoch() -> None:
    counter = SequenceCounter()
    assert [counter.next("a"), counter.next("a"), counter.next(None), counter.next("a")] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (1, 3),
    ]


def test_a_forgotten_group_starts_again_under_a_new_epoch() -> None:
    counter = SequenceCounter(limit=2)
    counter.next("a")
    counter.next("b")
    counter.next("a")  # ("a" is now the most recent)
    counter.next("c")  # forgets "b", the least recently used
    assert len(counter) == 2
    assert counter.next("a") == (1, 3)
    assert counter.next("b") == (4, 1)  # new numbering, new (higher) epoch


def test_a_new_epoch_is_a_new_baseline_and_an_old_one_is_stale() -> None:
    tracker = SequenceTracker()
    assert tracker.observe(NODE, "g", 5, epoch=1) == 0
    assert tracker.observe(NODE, "g", 1, epoch=4) == 0  # restarted numbering: no gap
    assert tracker.observe(NODE, "g", 3, epoch=4) == 1
    assert tracker.observe(NODE, "g", 6, epoch=1) is None  # from before the restart


def test_the_tracker_remembers_only_the_most_recently_heard() -> None:
    tracker = SequenceTracker(limit=2)
    assert tracker.observe(NODE, "a", 1) == 0
    assert tracker.observe(NODE, "b", 1) == 0
    assert tracker.observe(NODE, "a", 2) == 0  # ("a" is now the most recent)
    assert tracker.observe(NODE, "c", 1) == 0  # forgets "b"
    assert len(tracker) == 2
    assert tracker.observe(NODE, "b", 5) == 0  # forgotten: a new baseline, no gap claimed
    assert tracker.observe(NODE, "a", 4) == 0  # ("a" was forgotten in turn: a new baseline)


def test_publisher_and_receiver_agree_across_a_forgotten_group() -> None:
    counter, tracker = SequenceCounter(limit=1), SequenceTracker()
    for group in ["a", "a", "b", "a", "a"]:  # "a" forgotten when "b" is used
        epoch, sequence = counter.next(group)
        assert tracker.observe(NODE, group, sequence, epoch) == 0
