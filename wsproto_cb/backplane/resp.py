"""RESP, the Redis wire protocol (version 2): commands out, replies in, no I/O.

Commands are arrays of bulk strings.  Replies are parsed by ``hiredis.Reader``
(the C parser, ``pip install wsproto_cb[redis]``) when it is installed, else
by :class:`RespReader`, a pure-Python reader with the same ``feed``/``gets``
interface: bytes go in as they arrive, in pieces of any size, and ``gets()``
returns one whole reply at a time or ``False`` when more bytes are needed.

Replies map to Python as hiredis maps them: simple strings and bulk strings
are ``bytes``, integers ``int``, arrays ``list``, null ``None``, and an error
reply is a :class:`RedisReplyError` *returned*, not raised (it answers one
command; the connection is fine).  A byte stream that is not RESP raises
:class:`RespProtocolError`: the connection must be dropped.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

__all__ = [
    "RedisReplyError",
    "ReplyReader",
    "RespProtocolError",
    "RespReader",
    "encode_command",
    "make_reader",
]

#: Set to 1 to use the pure-Python reader even where hiredis is installed.
NO_HIREDIS_ENV = "WSPROTO_CB_NO_HIREDIS"

_MAX_BULK = 512 * 1024 * 1024  # Redis' own limit for a string
_MAX_LINE = 64 * 1024
_MAX_DEPTH = 32


class RedisReplyError(Exception):
    """An error reply (``-ERR ...``) to one command."""


class RespProtocolError(Exception):
    """Bytes from the server that are not RESP; the connection is unusable."""


class ReplyReader(Protocol):
    def feed(self, data: bytes, /) -> None: ...

    def gets(self) -> Any: ...


def encode_command(*args: bytes | str | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("utf-8")
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(b"\r\n")
    return b"".join(parts)


class _Incomplete(Exception):
    """Not enough bytes yet for the reply being parsed (internal)."""


class RespReader:
    """Pure-Python RESP2 reply parser, fed bytes in any pieces."""

    __slots__ = ("_buffer", "_pos")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0

    def feed(self, data: bytes, /) -> None:
        self._buffer += data

    def gets(self) -> Any:
        """The next whole reply, or ``False`` until more bytes are fed."""
        start = self._pos
        try:
            reply = self._parse(0)
        except _Incomplete:
            self._pos = start
            return False
        if self._pos == len(self._buffer):
            self._buffer.clear()
            self._pos = 0
        elif self._pos > 65536 and self._pos * 2 > len(self._buffer):
            del self._buffer[: self._pos]  # compact now and then, not per reply
            self._pos = 0
        return reply

    def _line(self) -> bytes:
        end = self._buffer.find(b"\r\n", self._pos)
        if end < 0:
            if len(self._buffer) - self._pos > _MAX_LINE:
                raise RespProtocolError("RESP line too long")
            raise _Incomplete
        if end - self._pos > _MAX_LINE:
            raise RespProtocolError("RESP line too long")
        line = bytes(self._buffer[self._pos : end])
        self._pos = end + 2
        return line

    def _int(self, text: bytes) -> int:
        try:
            return int(text)
        except ValueError:
            raise RespProtocolError(f"bad RESP length or integer {text[:20]!r}") from None

    def _parse(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise RespProtocolError("RESP arrays nested too deep")
        line = self._line()
        if not line:
            raise RespProtocolError("empty RESP line")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RedisReplyError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return self._int(rest)
        if kind == b"$":
            size = self._int(rest)
            if size == -1:
                return None
            if not 0 <= size <= _MAX_BULK:
                raise RespProtocolError(f"bad RESP bulk length {size}")
            end = self._pos + size
            if len(self._buffer) < end + 2:
                raise _Incomplete
            if self._buffer[end : end + 2] != b"\r\n":
                raise RespProtocolError("RESP bulk string not followed by CRLF")
            value = bytes(self._buffer[self._pos : end])
            self._pos = end + 2
            return value
        if kind == b"*":
            count = self._int(rest)
            if count == -1:
                return None
            if count < 0:
                raise RespProtocolError(f"bad RESP array length {count}")
            return [self._parse(depth + 1) for _ in range(count)]
        raise RespProtocolError(f"unknown RESP type byte {kind!r}")


def make_reader() -> ReplyReader:
    """hiredis' C reader where installed (and not turned off), else :class:`RespReader`."""
    if os.environ.get(NO_HIREDIS_ENV, "") not in ("", "0"):
        return RespReader()
    try:
        import hiredis
    except ImportError:
        return RespReader()
    reader: ReplyReader = hiredis.Reader(
        protocolError=RespProtocolError, replyError=RedisReplyError
    )
    return reader
