"""Redis Cluster slots without Redis: the slot function on known vectors, the slot map
read from CLUSTER SLOTS replies, and MOVED/ASK redirects.

The vectors are the CRC-16/XMODEM check value and the examples of the Redis
Cluster specification and the ``CLUSTER KEYSLOT`` documentation; a test in
tests/backplane/test_cluster.py asks a real cluster the same question.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsproto_cb.backplane.slots import (
    HASH_SLOTS,
    Endpoint,
    Redirect,
    SlotMap,
    crc16,
    key_slot,
    parse_redirect,
)

A, B, C = Endpoint("10.0.0.1", 7000), Endpoint("10.0.0.2", 7001), Endpoint("10.0.0.3", 7002)


def test_crc16_is_xmodem() -> None:
    assert crc16(b"123456789") == 0x31C3  # (the catalogue's check value)
    assert crc16(b"") == 0
    assert crc16(b"\x00") == 0


@pytest.mark.parametrize(
    ("key", "slot"),
    [
        (b"123456789", 12739),
        (b"somekey", 11058),
        (b"foo", 12182),
        (b"bar", 5061),
        (b"foo{hash_tag}", 2515),
        (b"bar{hash_tag}", 2515),
        (b"", 0),
    ],
)
def test_key_slot_of_known_keys(key: bytes, slot: int) -> None:
    assert key_slot(key) == slot


@pytest.mark.parametrize(
    ("key", "hashed"),
    [
        (b"{user1000}.following", b"user1000"),
        (b"{user1000}.followers", b"user1000"),
        (b"foo{}{bar}", b"foo{}{bar}"),  # (an empty tag: the whole key)
        (b"foo{{bar}}zap", b"{bar"),  # (from the first '{' to the first '}' after it)
        (b"foo{bar}{zap}", b"bar"),  # (the first tag only)
        (b"{", b"{"),
        (b"}{a}", b"a"),
        (b"no tag}", b"no tag}"),
    ],
)
def test_hash_tags_as_the_cluster_specification_defines_them(key: bytes, hashed: bytes) -> None:
    assert key_slot(key) == crc16(hashed) % HASH_SLOTS


def test_str_is_hashed_as_utf8() -> None:
    assert key_slot("wsproto_cb:g:café") == key_slot("wsproto_cb:g:café".encode())


@given(st.binary(max_size=64))
def test_every_key_has_a_slot(key: bytes) -> None:
    assert 0 <= key_slot(key) < HASH_SLOTS


# ------------------------------------------------------------------ slot map

THREE = [
    [0, 5460, [b"10.0.0.1", 7000, b"id1", []], [b"10.0.0.9", 7009, b"replica"]],
    [5461, 10922, [b"10.0.0.2", 7001, b"id2", []]],
    [10923, 16383, [b"10.0.0.3", 7002, b"id3", []]],
]


def test_a_cluster_slots_reply_maps_every_slot_to_its_master() -> None:
    slots = SlotMap.from_cluster_slots(THREE, "seed")
    assert slots.masters() == [A, B, C]
    assert [slots.owner(s) for s in (0, 5460, 5461, 10922, 10923, 16383)] == [A, A, B, B, C, C]
    assert slots.owner_of(b"foo") == C and slots.owner_of("bar") == A  # (12182, 5061)
    assert slots.ranges_of(A) == "0-5460"


def test_a_master_with_several_ranges_and_slots_nobody_owns() -> None:
    reply = [
        [0, 99, [b"10.0.0.1", 7000, b"id1"]],
        [200, 200, [b"10.0.0.1", 7000, b"id1"]],
        [300, 16383, [b"10.0.0.2", 7001, b"id2"]],
    ]
    slots = SlotMap.from_cluster_slots(reply, "seed")
    assert slots.masters() == [A, B]
    assert slots.ranges_of(A) == "0-99,200"
    assert slots.owner(100) is None and slots.owner(201) is None and slots.owner(200) == A


def test_a_node_that_does_not_know_its_address_is_the_one_asked() -> None:
    reply = [[0, 16383, [b"", 7000, b"id1"]]]
    assert SlotMap.from_cluster_slots(reply, "10.0.0.1").masters() == [A]
    reply = [[0, 16383, [b"?", 7000, b"id1"]]]
    assert SlotMap.from_cluster_slots(reply, "10.0.0.1").masters() == [A]


def test_maps_compare_by_content() -> None:
    assert SlotMap.from_cluster_slots(THREE, "x") == SlotMap.from_cluster_slots(THREE[::-1], "y")
    moved = [*THREE[:2], [10923, 16383, [b"10.0.0.1", 7000, b"id1"]]]
    assert SlotMap.from_cluster_slots(THREE, "x") != SlotMap.from_cluster_slots(moved, "x")
    assert SlotMap([]).masters() == [] and SlotMap([]).owner(0) is None


@pytest.mark.parametrize(
    "reply",
    [
        b"not an array",
        [[0]],
        [[0, 100, b"host"]],
        [[0, 100, [b"h", b"7000"]]],
        [[0, 100, [b"h", 0]]],
        [[b"0", 100, [b"h", 7000]]],
        [[0, 16384, [b"h", 7000]]],
        [[100, 0, [b"h", 7000]]],
        [[0, 100, [b"h", 7000]], [100, 200, [b"i", 7000]]],  # (overlap)
        [[0, 100, [b"\xff", 7000]]],
    ],
)
def test_a_reply_of_another_shape_is_a_clear_error(reply: object) -> None:
    with pytest.raises(ValueError):
        SlotMap.from_cluster_slots(reply, "seed")


# ------------------------------------------------------------------ redirects


def test_moved_and_ask_name_the_slot_and_its_owner() -> None:
    assert parse_redirect("MOVED 3999 127.0.0.1:6381", "seed") == Redirect(
        "MOVED", 3999, Endpoint("127.0.0.1", 6381)
    )
    assert parse_redirect("ASK 1 10.0.0.2:7001", "seed") == Redirect("ASK", 1, B)
    assert parse_redirect("MOVED 5 :7000", "10.0.0.1") == Redirect("MOVED", 5, A)
    assert parse_redirect("MOVED 5 ::1:7000", "x") == Redirect("MOVED", 5, Endpoint("::1", 7000))
    assert str(Endpoint("::1", 7000)) == "[::1]:7000"


@pytest.mark.parametrize(
    "text",
    ["ERR unknown", "MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:p", ""],
)
def test_other_errors_are_no_redirect(text: str) -> None:
    assert parse_redirect(text, "seed") is None
