"""The close handshake (RFC 6455 sections 5.5.1, 7), close codes and fail()."""

from __future__ import annotations

import struct

import pytest

from wsproto_cb.core.connection import Connection, ConnectionState, build_close_payload
from wsproto_cb.core.errors import InvalidStateError
from wsproto_cb.core.events import CloseReceived, ConnectionFailed, Event, MessageData, Ping
from wsproto_cb.core.frames import build_frame, parse_header
from wsproto_cb.core.masking import apply_mask

RFC_MASK = bytes.fromhex("37fa213d")

VALID_CODES = [1000, 1001, 1002, 1003, *range(1007, 1015), 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


def masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return build_frame(opcode, payload, fin=fin, mask=RFC_MASK)


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return masked(0x8, struct.pack("!H", code) + reason)


def feed(conn: Connection, data: bytes) -> list[Event]:
    conn.receive_data(data)
    return conn.events()


def state(conn: Connection) -> ConnectionState:
    """The state, read through a call so that mypy does not narrow it between calls."""
    return conn.state


def unmask_close(wire: bytes) -> bytes:
    """The payload of the single (client-masked) close frame ``wire``."""
    header = parse_header(wire, 0)
    assert header is not None and header.opcode == 0x8 and header.mask is not None
    assert header.size + header.length == len(wire)
    return apply_mask(wire[header.size :], header.mask)


# ----------------------------------------------------------- received codes


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_close_codes_are_accepted(code: int) -> None:
    server = Connection(is_server=True)
    assert feed(server, close_frame(code, b"bye")) == [CloseReceived(code, "bye")]
    assert server.remote_close_code == code and server.remote_close_reason == "bye"
    assert state(server) is ConnectionState.CLOSING


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_codes_fail_with_1002(code: int) -> None:
    server = Connection(is_server=True)
    events = feed(server, close_frame(code))
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1002
    assert not server.close_received


def test_close_reason_with_invalid_utf8_fails_with_1007() -> None:
    events = feed(Connection(is_server=True), close_frame(1000, b"\xce\xba\xff"))
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1007


def test_close_reason_utf8_is_decoded() -> None:
    reason = "κόσμε" * 10
    events = feed(Connection(is_server=True), close_frame(4000, reason.encode()))
    assert events == [CloseReceived(4000, reason)]


def test_one_byte_close_payload_fails_with_1002() -> None:
    events = feed(Connection(is_server=True), masked(0x8, b"\x03"))
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1002


def test_empty_close_is_code_1005() -> None:
    server = Connection(is_server=True)
    assert feed(server, masked(0x8, b"")) == [CloseReceived(1005, "")]
    assert server.remote_close_code == 1005


# --------------------------------------------------------- acknowledge_close


def test_acknowledge_sends_1000_by_default() -> None:
    server = Connection(is_server=True)
    feed(server, close_frame(4001, b"app reason"))
    assert server.acknowledge_close() == b"\x88\x02\x03\xe8"
    assert server.local_close_code == 1000
    assert state(server) is ConnectionState.CLOSED
    assert server.close_handshake_complete


def test_acknowledge_echoes_code_and_reason_when_asked() -> None:
    server = Connection(is_server=True, echo_close_code_reason=True)
    feed(server, close_frame(4001, b"app reason"))
    assert server.acknowledge_close() == b"\x88\x0c\x0f\xa1app reason"
    assert server.local_close_code == 4001


@pytest.mark.parametrize("echo", [False, True])
def test_empty_close_is_answered_with_empty_close(echo: bool) -> None:
    server = Connection(is_server=True, echo_close_code_reason=echo)
    feed(server, masked(0x8, b""))
    assert server.acknowledge_close() == b"\x88\x00"
    assert server.close_handshake_complete


def test_client_acknowledgement_is_masked() -> None:
    client = Connection(is_server=False, echo_close_code_reason=True)
    assert feed(client, b"\x88\x05\x03\xe9bye") == [CloseReceived(1001, "bye")]
    wire = client.acknowledge_close()
    assert wire[:2] == b"\x88\x85"
    assert unmask_close(wire) == b"\x03\xe9bye"


def test_acknowledge_without_received_close_raises() -> None:
    with pytest.raises(InvalidStateError):
        Connection(is_server=True).acknowledge_close()


# --------------------------------------------------------- state sequences


def test_peer_closes_first() -> None:
    server = Connection(is_server=True)
    assert state(server) is ConnectionState.OPEN
    wire = masked(0x1, b"last") + close_frame(1000) + masked(0x1, b"after close")
    events = feed(server, wire)
    assert events[-1] == CloseReceived(1000, "")
    assert [type(e) for e in events] == [MessageData, CloseReceived]  # nothing after close
    assert state(server) is ConnectionState.CLOSING
    assert server.close_received and not server.close_sent
    assert feed(server, masked(0x9, b"more")) == []
    # data may still be sent before the acknowledgement
    assert server.send_message(b"reply") == b"\x81\x05reply"
    assert server.acknowledge_close() == b"\x88\x02\x03\xe8"
    assert state(server) is ConnectionState.CLOSED
    assert server.close_handshake_complete
    assert server.acknowledge_close() == b""  # idempotent


def test_we_close_first() -> None:
    server = Connection(is_server=True)
    assert server.send_close(1001, "going") == b"\x88\x07\x03\xe9going"
    assert state(server) is ConnectionState.CLOSING
    assert server.local_close_code == 1001 and server.local_close_reason == "going"
    # the peer's data is still delivered until its close arrives
    events = feed(server, masked(0x1, b"in flight") + masked(0x9, b"p"))
    assert events == [MessageData(b"in flight", False, True, True, True, True, 9), Ping(b"p")]
    assert (server.close_sent, server.close_received) == (True, False)
    assert feed(server, close_frame(1001)) == [CloseReceived(1001, "")]
    assert state(server) is ConnectionState.CLOSED
    assert server.close_handshake_complete
    assert server.acknowledge_close() == b""


def test_we_close_first_and_peer_sends_garbage() -> None:
    server = Connection(is_server=True)
    server.send_close(1000)
    events = feed(server, close_frame(1005))
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert not server.close_handshake_complete


def test_close_inside_fragmented_message() -> None:
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, b"par", fin=False) + close_frame(1000))
    assert [type(e) for e in events] == [MessageData, CloseReceived]


def test_send_after_close_raises() -> None:
    client = Connection(is_server=False)
    wire = client.send_close()
    assert wire[:2] == b"\x88\x80" and len(wire) == 6
    for call in (
        lambda: client.send_message(b"x"),
        lambda: client.send_message(b"x", is_binary=True),
        lambda: client.send_ping(),
        lambda: client.send_pong(),
        lambda: client.begin_message(),
        lambda: client.send_close(1000),
    ):
        with pytest.raises(InvalidStateError):
            call()


def test_streaming_after_close_raises() -> None:
    server = Connection(is_server=True)
    server.begin_message()
    server.message_frame(b"a")
    server.send_close(1000)
    with pytest.raises(InvalidStateError):
        server.message_frame(b"b")
    with pytest.raises(InvalidStateError):
        server.end_message()


@pytest.mark.parametrize(
    ("code", "reason", "error"),
    [
        (999, None, ValueError),
        (1005, None, ValueError),
        (1006, "x", ValueError),
        (1015, None, ValueError),
        (5000, None, ValueError),
        (0, None, ValueError),
        (1000, "é" * 62, ValueError),  # 124 bytes of UTF-8
        (1000, "x" * 124, ValueError),
        (None, "reason without code", ValueError),
        (True, None, TypeError),
        ("1000", None, TypeError),
    ],
)
def test_send_close_validates_before_changing_anything(
    code: object, reason: str | None, error: type[Exception]
) -> None:
    server = Connection(is_server=True)
    with pytest.raises(error):
        server.send_close(code, reason)  # type: ignore[arg-type]
    assert not server.close_sent and state(server) is ConnectionState.OPEN
    assert server.local_close_code is None
    assert server.send_message(b"still open") == b"\x81\x0astill open"


def test_send_close_reason_of_123_bytes_fits() -> None:
    wire = Connection(is_server=True).send_close(1000, "é" * 61 + "x")
    assert wire[:2] == b"\x88\x7d" and wire[4:].decode() == "é" * 61 + "x"


@pytest.mark.parametrize("code", VALID_CODES)
def test_build_close_payload_valid(code: int) -> None:
    assert build_close_payload(code, "r") == struct.pack("!H", code) + b"r"


def test_build_close_payload_without_code() -> None:
    assert build_close_payload(None, None) == b""
    assert build_close_payload(None, "") == b""


# --------------------------------------------------------------------- fail


def test_fail_sends_close_and_stops_parsing() -> None:
    server = Connection(is_server=True)
    assert server.fail(1011, "oops") == b"\x88\x06\x03\xf3oops"
    assert state(server) is ConnectionState.CLOSED
    assert server.failed is not None and server.failed.code == 1011
    assert server.close_sent and server.local_close_code == 1011
    assert not server.close_handshake_complete
    assert feed(server, masked(0x1, b"ignored")) == []
    with pytest.raises(InvalidStateError):
        server.send_message(b"x")
    assert server.fail(1002) == b""  # only one close frame


def test_fail_after_send_close_sends_nothing() -> None:
    server = Connection(is_server=True)
    server.send_close(1000)
    assert server.fail(1002, "late") == b""
    assert state(server) is ConnectionState.CLOSED
    assert server.failed is not None


def test_fail_keeps_the_protocol_error_that_caused_it() -> None:
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, b"\xff"))
    assert isinstance(events[0], ConnectionFailed)
    wire = server.fail(events[0].code, events[0].reason)
    assert wire[0] == 0x88 and wire[2:4] == b"\x03\xef"
    assert wire[4:] == events[0].reason.encode()
    assert server.failed is not None and server.failed.code == 1007


def test_fail_after_peer_close_answers_with_failure_code() -> None:
    server = Connection(is_server=True)
    feed(server, close_frame(1000))
    assert server.fail(1008) == b"\x88\x02\x03\xf0"
    assert not server.close_handshake_complete


def test_fail_truncates_long_reason_to_valid_utf8() -> None:
    client = Connection(is_server=False)
    wire = client.fail(1008, "é" * 100)
    payload = unmask_close(wire)
    assert payload[:2] == b"\x03\xf0"
    assert len(payload) <= 125
    assert payload[2:].decode("utf-8") == "é" * 61
    # the peer accepts it
    server = Connection(is_server=True)
    assert feed(server, wire) == [CloseReceived(1008, "é" * 61)]


def test_fail_mid_streamed_frame_sends_nothing() -> None:
    server = Connection(is_server=True)
    server.begin_message()
    server.begin_message_frame(10)
    server.message_frame_data(b"12345")
    assert server.fail(1011, "bye") == b""
    assert state(server) is ConnectionState.CLOSED and server.failed is not None
