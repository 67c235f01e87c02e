"""HTTP/1.1 message heads of the opening handshake: values, parser, writer.

The handshake is the only HTTP the protocol speaks, so this is a deliberately
small and strict reader: one request or response head, bounded in size,
never more than :class:`~wsproto_cb.core.errors.HandshakeError` on garbage.
The WebSocket rules themselves live in :mod:`.handshake_server` and
:mod:`.handshake_client`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from .errors import HandshakeError, InvalidStateError
from .headers import (
    Extension,
    Headers,
    parse_extension_header,
    parse_subprotocol_list,
    validate_field_name,
    validate_field_value,
)

__all__ = [
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "WEBSOCKET_GUID",
    "HandshakeRequest",
    "HandshakeResponse",
    "HttpHeadReader",
    "accept_key",
    "build_head",
    "generate_key",
    "is_valid_host",
    "is_valid_key",
    "join_head",
    "parse_http_version",
]

#: RFC 6455 section 1.3: the GUID appended to the key before hashing.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

DEFAULT_MAX_LINE_SIZE = 8 * 1024
DEFAULT_MAX_HEAD_SIZE = 64 * 1024
DEFAULT_MAX_HEADERS = 128


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def generate_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64 (RFC 6455 4.1)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def is_valid_key(key: str) -> bool:
    """Whether ``key`` is strict base64 of exactly 16 bytes."""
    if len(key) != 24 or not key.isascii():
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


# RFC 7230 5.4 / RFC 3986 3.2.2: uri-host [":" port]; the host is an
# IP-literal in brackets or a reg-name/IPv4 address (percent-escapes allowed).
_HOST_RE = re.compile(r"(?:\[[0-9A-Za-z:.%_~\-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?")


def is_valid_host(value: str) -> bool:
    """Whether ``value`` is a well-formed ``Host`` header value (non-empty)."""
    return _HOST_RE.fullmatch(value) is not None


def parse_http_version(version: str) -> tuple[int, int]:
    """``"HTTP/1.1"`` -> ``(1, 1)``; the reader guarantees the shape."""
    major, _, minor = version[5:].partition(".")
    return int(major), int(minor)


_T = TypeVar("_T")


def _first(headers: Headers, lower_name: str) -> str | None:
    values = headers.values_of(lower_name)
    return values[0] if values else None


class _ParsedOnce(Generic[_T]):
    """A value read out of a head on first access and kept in the instance.

    ``functools.cached_property`` without its lock (CPython 3.11 takes one per
    first access): a head belongs to one connection, read on one thread.
    """

    def __init__(self, parse: Callable[[Any], _T]) -> None:
        self._parse = parse
        self._name = parse.__name__
        self.__doc__ = parse.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _ParsedOnce[_T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self._parse(obj)
        obj.__dict__[self._name] = value  # (found before this descriptor from now on)
        return value


@dataclass(frozen=True)
class HandshakeRequest:
    """An HTTP request head, with the WebSocket fields read out of it.

    The derived properties parse on first access, once, and do not
    validate; :class:`~wsproto_cb.core.handshake_server.ServerHandshake`
    does (so a malformed list raises there, with a 400).  Being derived from
    head as received, they are kept: validation and the callback layer read
    the same values without parsing twice.
    """

    method: str
    target: str
    http_version: str
    headers: Headers

    @property
    def host(self) -> str | None:
        """The ``Host`` header as sent (may include ``:port``)."""
        return _first(self.headers, "host")

    @_ParsedOnce
    def _target_parts(self) -> SplitResult:
        return urlsplit(self.target)

    @_ParsedOnce
    def path(self) -> str:
        """Percent-decoded path of the target, without the query string."""
        path = self._target_parts.path
        return (unquote(path) if "%" in path else path) or "/"

    @_ParsedOnce
    def params(self) -> dict[str, list[str]]:
        """Query string as ``urllib.parse.parse_qs`` reads it, like Autobahn.

        Parameters with an empty value (``b=``) are left out, as there.
        """
        query = self._target_parts.query
        return parse_qs(query) if query else {}

    @property
    def origin(self) -> str | None:
        return _first(self.headers, "origin")

    @_ParsedOnce
    def version(self) -> int | None:
        """``Sec-WebSocket-Version`` as an int; None if absent or not a number."""
        value = _first(self.headers, "sec-websocket-version")
        if value is None or not value.isdigit() or not value.isascii():
            return None
        return int(value)

    @property
    def key(self) -> str | None:
        return _first(self.headers, "sec-websocket-key")

    @_ParsedOnce
    def protocols(self) -> list[str]:
        """Offered subprotocols, in the client's order of preference."""
        return parse_subprotocol_list(self.headers.values_of("sec-websocket-protocol"))

    @_ParsedOnce
    def extensions(self) -> list[Extension]:
        """Offered extensions with their parameters, in order."""
        return parse_extension_header(self.headers.values_of("sec-websocket-extensions"))


@dataclass(frozen=True)
class HandshakeResponse:
    """An HTTP response head, with the WebSocket fields read out of it."""

    status: int
    reason: str
    headers: Headers
    http_version: str = "HTTP/1.1"

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server selected, if any."""
        return _first(self.headers, "sec-websocket-protocol")

    @property
    def extensions(self) -> list[Extension]:
        """Accepted extensions with their parameters (not validated here)."""
        return parse_extension_header(self.headers.values_of("sec-websocket-extensions"))


def build_head(start_line: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """Serialise a head, refusing anything that could inject a line.

    Raises :class:`ValueError` for a non-token name or a value with control
    characters or characters outside latin-1.
    """
    validate_field_value(start_line, "HTTP start line")
    for name, value in headers:
        validate_field_name(name)
        validate_field_value(value)
    return join_head(start_line, headers)


def join_head(start_line: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """Serialise a head whose every name and value the caller has checked
    already (see :func:`build_head`, which checks them)."""
    lines = [start_line]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TOKEN)
_REQUEST_LINE_RE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])")
_STATUS_LINE_RE = re.compile(rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")
# Controls other than HTAB are refused in field values (bare CR included).
_BAD_FIELD_BYTES_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

# The whole head at once (see HttpHeadReader._parse_whole), over the head
# decoded as latin-1: a field line is a token, a colon, the value without the
# optional whitespace around it, CRLF.  Possessive quantifiers keep the match
# linear in the length of the line, whatever whitespace it holds.
_TCHAR_CLASS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_VALUE = r"(?:[ \t]*+[\x21-\x7e\x80-\xff]++)*+"
_FIELD_LINE = rf"({_TCHAR_CLASS}++):[ \t]*+({_VALUE})[ \t]*+\r\n"
_FIELD_LINE_RE = re.compile(_FIELD_LINE)
_FIELD_LINES_RE = re.compile(rf"(?:{_TCHAR_CLASS}++:[ \t]*+{_VALUE}[ \t]*+\r\n)*+")
_HEAD_END = b"\r\n\r\n"

_Mode = Literal["request", "response"]
_Head = HandshakeRequest | HandshakeResponse


class HttpHeadReader:
    """Incremental reader of one HTTP/1.1 request or response head.

    :meth:`feed` returns ``None`` until the blank line ending the head has
    arrived, then the parsed head; bytes that followed it in the same feed are
    kept in :attr:`trailing` (a peer may send frames right after the
    handshake).  Each byte is scanned once: the search for the next line end
    resumes where the previous one stopped.

    Lines end with CRLF; a bare LF is accepted too (RFC 7230 section 3.5
    allows it, and some hand-written clients send it).  A bare CR anywhere is
    refused.  Obsolete line folding is refused (RFC 7230 3.2.4).  Empty lines
    before the start line are skipped (RFC 7230 3.5); they count against the
    head size limit.

    Limits (each breach is a :class:`HandshakeError`): ``max_line_size`` for
    the start line (414 for a request, as its length is the target's) and for
    each header line (431); ``max_head_size`` for the whole head (431);
    ``max_headers`` fields (431).  Malformed input is 400.  In ``"response"``
    mode every status is 0, as :class:`HandshakeError` documents for a
    response that could not be parsed.
    """

    def __init__(
        self,
        mode: _Mode = "request",
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_head_size: int = DEFAULT_MAX_HEAD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        if mode not in ("request", "response"):
            raise ValueError(f"mode must be 'request' or 'response', not {mode!r}")
        self.mode: _Mode = mode
        self.max_line_size = max_line_size
        self.max_head_size = max_head_size
        self.max_headers = max_headers
        #: Bytes received after the end of the head (valid once complete).
        self.trailing = b""
        self._buffer = bytearray()
        self._scan_from = 0  # where the search for b"\n" resumes in _buffer
        self._consumed = 0  # bytes of complete lines already processed
        self._start_line: tuple[str, str, str] | None = None
        self._headers: list[tuple[str, str]] = []
        self._result: _Head | None = None
        self._failed = False

    @property
    def complete(self) -> bool:
        return self._result is not None

    def feed(self, data: bytes) -> HandshakeRequest | HandshakeResponse | None:
        """Add bytes; return the head once complete, else ``None``."""
        if self._result is not None:
            raise InvalidStateError("HTTP head already complete; use .trailing")
        if self._failed:
            raise InvalidStateError("HTTP head reader already failed")
        if not self._buffer and self._start_line is None and not self._consumed:
            head = self._parse_whole(data)
            if head is not None:
                return head
        try:
            return self._feed(data)
        except HandshakeError:
            self._failed = True
            self._buffer.clear()
            raise

    def _feed(self, data: bytes) -> _Head | None:
        buf = self._buffer
        buf += data
        line_start = 0
        try:
            while True:
                end = buf.find(b"\n", self._scan_from)
                if end < 0:
                    self._scan_from = len(buf)
                    self._check_partial(len(buf) - line_start)
                    return None
                length = end + 1 - line_start
                line = bytes(buf[line_start:end])
                if line.endswith(b"\r"):
                    line = line[:-1]
                line_start = self._scan_from = end + 1
                self._consumed += length
                if self._consumed > self.max_head_size:
                    raise self._error(431, "HTTP head too large")
                if self._line(line):
                    self.trailing = bytes(buf[line_start:])
                    buf.clear()
                    line_start = 0
                    return self._result
        finally:
            if line_start:
                del buf[:line_start]
                self._scan_from -= line_start

    def _parse_whole(self, data: bytes) -> _Head | None:
        """The head of ``data``, when it holds one whole and well-formed, with
        CRLF line ends and within every limit; else None, and the line-by-line
        reader takes ``data`` (and says what is wrong, if anything is).

        This is the common case (one read brings the whole request) done in
        one pass: one search for the end, one decode, two regular
        expressions over the fields; no per-line work in Python.  It accepts
        exactly what the line-by-line reader accepts and gives the same
        result (tests/core/test_handshake_http.py checks both ways).
        """
        end = data.find(_HEAD_END)
        if end < 0 or end + 4 > self.max_head_size or end > self.max_line_size:
            return None  # (partial, or long enough that a limit may apply)
        first = data.find(b"\r\n")
        try:
            start_line = self._parse_start_line(data[:first])
        except HandshakeError:
            return None
        text = data[first + 2 : end + 2].decode("latin-1")
        if _FIELD_LINES_RE.fullmatch(text) is None:
            return None
        fields = _FIELD_LINE_RE.findall(text)
        if len(fields) > self.max_headers:
            return None
        self._headers = fields
        self.trailing = data[end + 4 :]
        self._finish(start_line)
        return self._result

    def _error(self, status: int, reason: str) -> HandshakeError:
        return HandshakeError(status if self.mode == "request" else 0, reason)

    def _line_too_long(self) -> HandshakeError:
        if self._start_line is None:
            kind = "request line" if self.mode == "request" else "status line"
            status = 414 if self.mode == "request" else 400
            return self._error(status, f"HTTP {kind} too long")
        return self._error(431, "HTTP header line too long")

    def _check_partial(self, pending: int) -> None:
        # +1 leaves room for the CR of a CRLF that has not arrived whole yet.
        if pending > self.max_line_size + 1:
            raise self._line_too_long()
        if self._consumed + pending > self.max_head_size:
            raise self._error(431, "HTTP head too large")

    def _line(self, line: bytes) -> bool:
        """Process one line without its terminator; True at the blank line."""
        if len(line) > self.max_line_size:
            raise self._line_too_long()
        if self._start_line is None:
            if line:
                self._start_line = self._parse_start_line(line)
            return False  # empty lines before the start line are skipped
        if not line:
            self._finish(self._start_line)
            return True
        self._headers.append(self._parse_field(line))
        if len(self._headers) > self.max_headers:
            raise self._error(431, f"more than {self.max_headers} HTTP header fields")
        return False

    def _parse_start_line(self, line: bytes) -> tuple[str, str, str]:
        if self.mode == "request":
            match = _REQUEST_LINE_RE.fullmatch(line)
            if match is None:
                raise self._error(400, "malformed HTTP request line")
            method, target, version = match.groups()
            return method.decode("ascii"), target.decode("ascii"), version.decode("ascii")
        match = _STATUS_LINE_RE.fullmatch(line)
        if match is None:
            raise self._error(400, "malformed HTTP status line")
        version, status, reason = match.groups()
        return (
            version.decode("ascii"),
            status.decode("ascii"),
            (reason or b"").decode("latin-1"),
        )

    def _parse_field(self, line: bytes) -> tuple[str, str]:
        if line[:1] in (b" ", b"\t"):
            raise self._error(400, "obsolete line folding in HTTP header")
        name, colon, value = line.partition(b":")
        if not colon:
            raise self._error(400, "HTTP header line without a colon")
        if name[-1:] in (b" ", b"\t"):
            raise self._error(400, "whitespace before the colon of an HTTP header")
        if _TOKEN_RE.fullmatch(name) is None:
            raise self._error(400, "invalid HTTP header name")
        value = value.strip(b" \t")
        if _BAD_FIELD_BYTES_RE.search(value):
            raise self._error(400, "control character in HTTP header value")
        return name.decode("ascii"), value.decode("latin-1")

    def _finish(self, start_line: tuple[str, str, str]) -> None:
        a, b, c = start_line
        headers = Headers(self._headers)
        self._headers = []
        if self.mode == "request":
            self._result = HandshakeRequest(a, b, c, headers)
        else:
            self._result = HandshakeResponse(int(b), c, headers, a)
