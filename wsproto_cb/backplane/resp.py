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
from typing import Any, NamedTuple, Protocol

__all__ = [
    "RedisReplyError",
    "ReplyReader",
    "RespLimits",
    "RespProtocolError",
    "RespReader",
    "encode_command",
    "make_reader",
]

#: Set to 1 to use the pure-Python reader even where hiredis is installed.
NO_HIREDIS_ENV = "WSPROTO_CB_NO_HIREDIS"

_MAX_LINE = 64 * 1024


class RespLimits(NamedTuple):
    """How much one reply may hold; a reply beyond any of these is a :class:`RespProtocolError`.

    hiredis takes none of them (it accepts any bulk length below 2**63 and
    any array size), so the one bound both readers are held to is
    ``max_pending``, the bytes read since the last whole reply, which
    :class:`~.link.RedisLink` counts itself.  The pure-Python reader also
    refuses a bulk length, array size or nesting beyond these as soon as it
    reads the header.
    """

    max_bulk: int = 64 * 1024 * 1024
    max_elements: int = 1024 * 1024
    max_depth: int = 32

    @property
    def max_pending(self) -> int:
        # (the largest string, the array around it, and a socket read after it)
        return self.max_bulk + 1024 * 1024


DEFAULT_LIMITS = RespLimits()


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


class _Array:
    """An array reply being read: how many items it has, and those read so far."""

    __slots__ = ("count", "items")

    def __init__(self, count: int) -> None:
        self.count = count
        self.items: list[Any] = []


class RespReader:
    """Pure-Python RESP2 reply parser, fed bytes in any pieces.

    Incremental: what is parsed stays parsed.  The arrays being read are a
    stack of :class:`_Array`, a bulk string whose header was read waits for
    its bytes as ``_bulk``, and the search for a line's CRLF resumes where
    it stopped, so a reply fed one byte at a time costs work linear in its
    length, however many items it has.  Bounded by :class:`RespLimits`.
    """

    __slots__ = ("_buffer", "_bulk", "_pos", "_scan", "_stack", "limits")

    def __init__(self, limits: RespLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._buffer = bytearray()
        self._pos = 0  # where the next unparsed byte is
        self._scan = 0  # where the search for the next CRLF resumes
        self._bulk = -1  # length of the bulk string whose bytes are awaited
        self._stack: list[_Array] = []

    def feed(self, data: bytes, /) -> None:
        self._buffer += data

    def gets(self) -> Any:
        """The next whole reply, or ``False`` until more bytes are fed."""
        stack = self._stack
        while True:
            value = self._value()
            if value is _MORE:
                self._compact()
                return False
            while stack:  # (an item: into the innermost array; a full array: one up)
                array = stack[-1]
                array.items.append(value)
                if len(array.items) < array.count:
                    break
                stack.pop()
                value = array.items
            else:
                if self._pos == len(self._buffer) or self._pos > 65536:
                    self._compact()
                return value

    def _value(self) -> Any:
        """The next item (a whole array is returned item by item through the stack),
        ``_MORE`` when its bytes are not all here yet."""
        buffer = self._buffer
        while True:
            start = self._pos
            if self._bulk >= 0:
                end = start + self._bulk
                if len(buffer) < end + 2:
                    return _MORE
                if buffer[end : end + 2] != b"\r\n":
                    raise RespProtocolError("RESP bulk string not followed by CRLF")
                self._pos = self._scan = end + 2
                self._bulk = -1
                return bytes(buffer[start:end])
            end = buffer.find(b"\r\n", self._scan)  # (_scan >= _pos, always)
            if end < 0:
                if len(buffer) - start > _MAX_LINE:
                    raise RespProtocolError("RESP line too long")
                self._scan = max(start, len(buffer) - 1)  # (a CR at the end may meet its LF)
                return _MORE
            if end - start > _MAX_LINE:
                raise RespProtocolError("RESP line too long")
            if end == start:
                raise RespProtocolError("empty RESP line")
            kind = buffer[start]
            rest = bytes(buffer[start + 1 : end])
            self._pos = self._scan = end + 2
            if kind == 0x24:  # $
                size = _int(rest)
                if size == -1:
                    return None
                if not 0 <= size <= self.limits.max_bulk:
                    raise RespProtocolError(
                        f"RESP bulk length {size} (the limit is {self.limits.max_bulk})"
                    )
                self._bulk = size
            elif kind == 0x2A:  # *
                count = _int(rest)
                if count == -1:
                    return None
                if not 0 <= count <= self.limits.max_elements:
                    raise RespProtocolError(
                        f"RESP array length {count} (the limit is {self.limits.max_elements})"
                    )
                if count == 0:
                    return []
                if len(self._stack) >= self.limits.max_depth:
                    raise RespProtocolError("RESP arrays nested too deep")
                self._stack.append(_Array(count))
            elif kind == 0x2B:  # +
                return rest
            elif kind == 0x3A:  # :
                return _int(rest)
            elif kind == 0x2D:  # -
                return RedisReplyError(rest.decode("utf-8", "replace"))
            else:
                raise RespProtocolError(f"unknown RESP type byte {bytes((kind,))!r}")

    def _compact(self) -> None:
        """Drop consumed bytes: at once when all are, else now and then (not per reply)."""
        pos = self._pos
        if pos == len(self._buffer):
            self._buffer.clear()
        elif pos > 65536 and pos * 2 > len(self._buffer):
            del self._buffer[:pos]
        else:
            return
        self._scan -= pos
        self._pos = 0


_MORE: Any = object()  # (RespReader: the item being read needs more bytes)


def _int(text: bytes) -> int:
    try:
        return int(text)
    except ValueError:
        raise RespProtocolError(f"bad RESP length or integer {text[:20]!r}") from None


def make_reader(limits: RespLimits = DEFAULT_LIMITS) -> ReplyReader:
    """hiredis' C reader where installed (and not turned off), else :class:`RespReader`.

    ``limits`` bind the pure-Python reader; hiredis has no such settings
    (:class:`~.link.RedisLink` holds both to ``limits.max_pending``).
    """
    if os.environ.get(NO_HIREDIS_ENV, "") not in ("", "0"):
        return RespReader(limits)
    try:
        import hiredis
    except ImportError:
        return RespReader(limits)
    reader: ReplyReader = hiredis.Reader(
        protocolError=RespProtocolError, replyError=RedisReplyError
    )
    return reader
