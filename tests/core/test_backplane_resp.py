"""RESP for the Redis backplane, bytes only: commands out, replies in.

Both reply readers are held to the same stream: the pure-Python
:class:`RespReader` and hiredis' C reader as :func:`make_reader` builds it.
Every stream is fed in every possible two-piece split and one byte at a
time, since TCP may cut it anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wsproto_cb.backplane.resp import (
    NO_HIREDIS_ENV,
    RedisReplyError,
    ReplyReader,
    RespLimits,
    RespProtocolError,
    RespReader,
    encode_command,
    make_reader,
)

# ------------------------------------------------------------- encode_command


def test_encode_command_str_bytes_int_exact_bytes() -> None:
    assert encode_command("PING") == b"*1\r\n$4\r\nPING\r\n"
    assert encode_command("SELECT", 12) == b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"
    assert encode_command("PUBLISH", "chän", b"a\r\n\x00") == (
        b"*3\r\n$7\r\nPUBLISH\r\n$5\r\nch\xc3\xa4n\r\n$4\r\na\r\n\x00\r\n"
    )


def test_encode_command_empty_and_negative_args() -> None:
    assert encode_command("ECHO", b"") == b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
    assert encode_command("INCRBY", "k", -7) == b"*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-7\r\n"


def test_encode_command_is_what_a_reader_reads_back() -> None:
    # (a command is an array of bulk strings, the same shape as a reply)
    reader = RespReader()
    reader.feed(encode_command("SUBSCRIBE", "a", b"\xff\r\n", 3))
    assert reader.gets() == [b"SUBSCRIBE", b"a", b"\xff\r\n", b"3"]


# ---------------------------------------------------------------- the readers


def _hiredis_reader() -> ReplyReader:
    pytest.importorskip("hiredis")
    reader = make_reader()
    assert type(reader).__module__.startswith("hiredis"), "make_reader() did not pick hiredis"
    return reader


READERS: dict[str, Callable[[], ReplyReader]] = {
    "python": RespReader,
    "hiredis": _hiredis_reader,
}


@pytest.fixture(params=sorted(READERS))
def new_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A factory of fresh readers of one kind (hiredis via make_reader)."""
    monkeypatch.delenv(NO_HIREDIS_ENV, raising=False)
    make = READERS[request.param]
    make()  # (skips here, once, when hiredis is missing)
    return make


def test_make_reader_honours_no_hiredis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_HIREDIS_ENV, "1")
    assert type(make_reader()) is RespReader


@pytest.mark.parametrize("value", ["", "0"])
def test_make_reader_prefers_hiredis(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    pytest.importorskip("hiredis")
    monkeypatch.setenv(NO_HIREDIS_ENV, value)
    assert type(make_reader()).__module__.startswith("hiredis")


def _plain(reply: Any) -> Any:
    """Replies as comparable values (an error reply is an exception instance)."""
    if isinstance(reply, RedisReplyError):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [_plain(item) for item in reply]
    return reply


BINARY_PAYLOAD = bytes(range(256)) + b"\r\n$3\r\n*1\r\n"

#: (wire bytes, the reply as :func:`_plain` shows it), every RESP2 reply kind
REPLIES: list[tuple[bytes, Any]] = [
    (b"+OK\r\n", b"OK"),
    (b"+\r\n", b""),
    (b"-ERR unknown command 'FOO'\r\n", ("error", "ERR unknown command 'FOO'")),
    (b"-WRONGPASS bad pair\r\n", ("error", "WRONGPASS bad pair")),
    (b":0\r\n", 0),
    (b":-42\r\n", -42),
    (b":9223372036854775807\r\n", 9223372036854775807),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$-1\r\n", None),
    (b"$0\r\n\r\n", b""),
    (b"$6\r\na\r\nb\r\n\r\n", b"a\r\nb\r\n"),
    (b"*3\r\n+x\r\n:1\r\n$2\r\nyz\r\n", [b"x", 1, b"yz"]),
    (b"*2\r\n*2\r\n:1\r\n$-1\r\n*0\r\n", [[1, None], []]),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*2\r\n-ERR inner\r\n:5\r\n", [("error", "ERR inner"), 5]),
    (
        b"*3\r\n$7\r\nmessage\r\n$14\r\nwsproto_cb:all\r\n$%d\r\n" % len(BINARY_PAYLOAD)
        + BINARY_PAYLOAD
        + b"\r\n",
        [b"message", b"wsproto_cb:all", BINARY_PAYLOAD],
    ),
    (b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", [b"pong", b""]),
]
STREAM = b"".join(wire for wire, _ in REPLIES)
EXPECTED = [value for _, value in REPLIES]


def _ends() -> list[int]:
    """Where each reply of STREAM ends."""
    ends, total = [], 0
    for wire, _ in REPLIES:
        total += len(wire)
        ends.append(total)
    return ends


def _drain(reader: ReplyReader) -> Iterator[Any]:
    """Every whole reply the reader has; stops at its first ``False``."""
    for _ in range(len(STREAM) + 1):  # (bounded: never more replies than bytes)
        reply = reader.gets()
        if reply is False:
            return
        yield _plain(reply)
    raise AssertionError("reader never reported that it needs more bytes")


def test_stream_sanity() -> None:
    # (the message fixture above is built by hand: check it is what it claims)
    reader = RespReader()
    reader.feed(STREAM)
    assert list(_drain(reader)) == EXPECTED


def test_whole_stream_at_once(new_reader: Callable[[], ReplyReader]) -> None:
    reader = new_reader()
    assert reader.gets() is False
    reader.feed(STREAM)
    assert list(_drain(reader)) == EXPECTED
    assert reader.gets() is False


def test_every_two_piece_split(new_reader: Callable[[], ReplyReader]) -> None:
    ends = _ends()
    for cut in range(len(STREAM) + 1):
        reader = new_reader()
        reader.feed(STREAM[:cut])
        first = list(_drain(reader))
        complete = sum(1 for end in ends if end <= cut)
        assert first == EXPECTED[:complete], f"cut at {cut}"
        reader.feed(STREAM[cut:])
        assert first + list(_drain(reader)) == EXPECTED, f"cut at {cut}"


def test_one_byte_at_a_time(new_reader: Callable[[], ReplyReader]) -> None:
    reader = new_reader()
    ends = set(_ends())
    got: list[Any] = []
    for i in range(len(STREAM)):
        reader.feed(STREAM[i : i + 1])
        new = list(_drain(reader))
        assert len(new) == (1 if i + 1 in ends else 0), f"after byte {i + 1}"
        got += new
    assert got == EXPECTED


def test_error_reply_is_returned_not_raised(new_reader: Callable[[], ReplyReader]) -> None:
    reader = new_reader()
    reader.feed(b"-NOAUTH Authentication required.\r\n+OK\r\n")
    error = reader.gets()
    assert isinstance(error, RedisReplyError)
    assert str(error) == "NOAUTH Authentication required."
    assert reader.gets() == b"OK"  # (the connection goes on)


#: not RESP, and both readers say so
MALFORMED_FOR_BOTH = {
    "unknown type byte": b"?what\r\n",
    "empty line": b"\r\n",
    "bulk length not a number": b"$abc\r\n",
    "negative bulk length": b"$-2\r\n",
    "integer not a number": b":12x\r\n",
    "array length not a number": b"*x\r\n",
    "negative array length": b"*-2\r\n",
    "bad item inside an array": b"*2\r\n:1\r\n!oops\r\n",
    "HTTP answer": b"HTTP/1.1 400 Bad Request\r\n\r\n",
}

#: not RESP2, caught by the pure-Python reader only (hiredis does not check
#: the bytes after a bulk string, waits for a 1 TB string, nests deeper and
#: reads RESP3, which Redis sends only after HELLO 3)
MALFORMED_FOR_PYTHON = {
    "RESP3 map": b"%1\r\n+a\r\n+b\r\n",
    "bulk not followed by CRLF": b"$3\r\nfooXY",
    "bulk followed by CR and junk": b"$3\r\nfoo\rX",
    "bulk longer than Redis allows": b"$999999999999\r\n",
    "arrays nested too deep": b"*1\r\n" * 40 + b":1\r\n",
}


@pytest.mark.parametrize("data", MALFORMED_FOR_BOTH.values(), ids=MALFORMED_FOR_BOTH.keys())
def test_malformed_raises(new_reader: Callable[[], ReplyReader], data: bytes) -> None:
    reader = new_reader()
    reader.feed(b"+fine\r\n" + data)
    assert reader.gets() == b"fine"
    with pytest.raises(RespProtocolError):
        reader.gets()


@pytest.mark.parametrize("data", MALFORMED_FOR_BOTH.values(), ids=MALFORMED_FOR_BOTH.keys())
def test_malformed_raises_when_trickled(new_reader: Callable[[], ReplyReader], data: bytes) -> None:
    reader = new_reader()
    with pytest.raises(RespProtocolError):  # (raised by whichever byte completes the error)
        for i in range(len(data)):
            reader.feed(data[i : i + 1])
            reader.gets()


@pytest.mark.parametrize("data", MALFORMED_FOR_PYTHON.values(), ids=MALFORMED_FOR_PYTHON.keys())
def test_malformed_raises_in_python_reader(data: bytes) -> None:
    reader = RespReader()
    reader.feed(data)
    with pytest.raises(RespProtocolError):
        reader.gets()


def test_nesting_up_to_the_limit_is_fine() -> None:
    reader = RespReader()
    reader.feed(b"*1\r\n" * 32 + b":7\r\n")
    reply = reader.gets()
    for _ in range(32):
        assert isinstance(reply, list) and len(reply) == 1
        reply = reply[0]
    assert reply == 7


# ------------------------------------------------------ the pure reader alone


def test_line_without_crlf_beyond_the_limit_raises() -> None:
    reader = RespReader()
    reader.feed(b"+" + b"x" * (64 * 1024 - 1))
    assert reader.gets() is False  # (64 KiB: still a line that may end)
    reader.feed(b"xx")
    with pytest.raises(RespProtocolError, match="too long"):
        reader.gets()


def test_long_bulk_string_is_not_a_long_line() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB, no CRLF in it
    reader = RespReader()
    wire = b"$%d\r\n" % len(data) + data + b"\r\n"
    for start in range(0, len(wire), 10_000):
        assert reader.gets() is False
        reader.feed(wire[start : start + 10_000])
    assert reader.gets() == data


def test_many_replies_in_chunks_survive_compaction() -> None:
    """200k replies in chunks that each end inside a reply, so the reader
    never runs empty: nothing is lost or repeated when it drops the bytes it
    has consumed, and it does drop them (or its buffer would hold them all)."""
    count = 200_000
    replies = [
        b":%d\r\n" % i if i % 2 else b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(count)
    ]
    wire = b"".join(replies)
    cuts, end = [], 0
    for i, reply in enumerate(replies):
        end += len(reply)
        if i % 397 == 0:
            cuts.append(end + 1 + i % 5)  # (1 to 5 bytes into the next reply)
    reader = RespReader()
    got: list[int] = []
    largest = 0
    for start, stop in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        reader.feed(wire[start:stop])
        while (reply := reader.gets()) is not False:
            got.append(int(reply))
        largest = max(largest, len(reader._buffer))  # (compaction is only visible inside)
    assert got == list(range(count))
    assert reader.gets() is False
    assert len(wire) > 1_500_000  # (far more than the bound below)
    assert largest < 4 * 65536, f"buffer grew to {largest} bytes: never compacted"


# ------------------------------------------------------------- work and bounds


def _calls_while(action: Callable[[], None], budget: int) -> int:
    """How many function calls (Python and C) ``action`` makes; fails past ``budget``.

    Work counted, not time: the count is the same on a fast or a loaded machine.
    """
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > budget:
                raise AssertionError(f"more than {budget} calls")

    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_a_big_array_fed_one_byte_at_a_time_costs_linear_work() -> None:
    """An 8,000-item reply trickled in byte by byte: each byte costs a few calls,
    not a re-parse of every item before it (that took 17 s)."""
    items = [b"item-%d" % i for i in range(8000)]
    wire = b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)
    reader = RespReader()
    replies: list[Any] = []

    def trickle() -> None:
        for i in range(len(wire)):
            reader.feed(wire[i : i + 1])
            reply = reader.gets()
            if reply is not False:
                replies.append(reply)

    calls = _calls_while(trickle, budget=20 * len(wire))
    assert replies == [items]
    assert calls < 20 * len(wire)


def test_every_split_of_a_nested_reply_parses_the_same() -> None:
    wire = b"*3\r\n*2\r\n$1\r\na\r\n*0\r\n:5\r\n*1\r\n*1\r\n$3\r\nb\r\n\r\n"
    expected = [[b"a", []], 5, [[b"b\r\n"]]]
    for cut in range(len(wire) + 1):
        for second in range(cut, len(wire) + 1):
            reader = RespReader()
            got = []
            for piece in (wire[:cut], wire[cut:second], wire[second:]):
                reader.feed(piece)
                while (reply := reader.gets()) is not False:
                    got.append(reply)
            assert got == [expected], (cut, second)


SMALL = RespLimits(max_bulk=10, max_elements=3, max_depth=2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"$11\r\n", "bulk length 11"),
        (b"$536870912\r\n", "bulk length 536870912"),  # (Redis' own limit is not ours)
        (b"*4\r\n", "array length 4"),
        (b"*1\r\n*1\r\n*1\r\n", "nested too deep"),
    ],
)
def test_limits_are_refused_at_the_header(data: bytes, message: str) -> None:
    reader = RespReader(SMALL)
    reader.feed(data)  # (the header alone: nothing is buffered waiting for the rest)
    with pytest.raises(RespProtocolError, match=message):
        reader.gets()


def test_up_to_the_limits_is_fine() -> None:
    reader = RespReader(SMALL)
    reader.feed(b"*3\r\n*1\r\n$10\r\n0123456789\r\n:1\r\n$0\r\n\r\n")
    assert reader.gets() == [[b"0123456789"], 1, b""]


def test_default_limits_refuse_the_512_mib_string() -> None:
    reader = RespReader()
    reader.feed(b"$%d\r\n" % (512 * 1024 * 1024))
    with pytest.raises(RespProtocolError, match="bulk length"):
        reader.gets()
    assert RespLimits().max_bulk == 64 * 1024 * 1024
