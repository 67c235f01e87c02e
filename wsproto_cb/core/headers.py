"""HTTP header fields of the opening handshake and the grammars inside them.

:class:`Headers` keeps the fields exactly as they arrived (order, duplicates,
spelling of names) because HTTP gives meaning to repeated fields; the
Autobahn-style ``dict`` of lowercase names is only a view
(:meth:`Headers.as_dict`).  The parsers implement the list grammars that the
handshake needs (RFC 7230 ``#rule``, RFC 6455 section 9.1 extensions and
section 4.1 subprotocols) and report a malformed peer value as
:class:`~wsproto_cb.core.errors.HandshakeError` with status 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from .errors import HandshakeError

__all__ = [
    "Extension",
    "ExtensionParams",
    "Headers",
    "build_extension_header",
    "check_extension_header",
    "field_pairs",
    "is_token",
    "parse_extension_header",
    "parse_subprotocol_list",
    "parse_token_list",
    "validate_field_name",
    "validate_field_value",
]

#: One extension parameter: ``(name, value)``; ``value`` is ``None`` for a
#: bare parameter such as ``client_max_window_bits``.
ExtensionParams = list[tuple[str, str | None]]
#: One offered or accepted extension: ``(name, params)``.
Extension = tuple[str, ExtensionParams]

# RFC 7230 section 3.2.6: token = 1*tchar
_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_TOKEN_RE = re.compile(f"[{_TCHAR}]+")
# Field values we are asked to send: no control characters but HTAB (this is
# what stops header injection through CR/LF), nothing outside latin-1.
_BAD_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
_OWS = " \t"


def is_token(value: str) -> bool:
    """Whether ``value`` is an RFC 7230 token (header names, protocol names...)."""
    return _TOKEN_RE.fullmatch(value) is not None


def validate_field_name(name: str) -> None:
    """Raise :class:`ValueError` unless ``name`` can be sent as a header name."""
    if not is_token(name):
        raise ValueError(f"invalid HTTP header name {name!r}: must be a token")


def validate_field_value(value: str, what: str = "HTTP header value") -> None:
    """Raise :class:`ValueError` unless ``value`` can be sent in a head.

    Refusing CR, LF and the other controls is what prevents header injection
    when a value comes from application code.
    """
    if _BAD_VALUE_RE.search(value):
        raise ValueError(
            f"invalid {what} {value!r}: control characters (CR, LF, ...) and"
            " characters outside latin-1 are not allowed"
        )


def field_pairs(
    headers: Mapping[str, object] | Iterable[tuple[str, object]],
) -> list[tuple[str, str]]:
    """``(name, value)`` pairs to send from application-given headers.

    Applications written for Autobahn give a value as a string, as a list of
    strings (one field each: several ``Set-Cookie``), or as anything else
    that formats as one (a number).  Nothing is validated here: the head's
    writer refuses what cannot be sent.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        if isinstance(value, str):
            pairs.append((name, value))
        elif isinstance(value, list | tuple):
            pairs.extend((name, str(one)) for one in value)
        else:
            pairs.append((name, str(value)))
    return pairs


class Headers:
    """Ordered header fields, duplicates kept, names looked up case-insensitively.

    Iteration yields ``(name, value)`` pairs in arrival order with the names
    spelled as received.  The first lookup indexes every field under its
    lower-case name, in one pass; later lookups lower-case only the name
    asked for.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(n, v) for n, v in items]
        self._index: dict[str, list[str]] | None = None

    def _lookup(self) -> dict[str, list[str]]:
        """Values by lower-case name, in arrival order (built once)."""
        index = self._index
        if index is None:
            index = {}
            for name, value in self._items:
                key = name.lower()
                values = index.get(key)
                if values is None:
                    index[key] = [value]
                else:
                    values.append(value)
            self._index = index
        return index

    def add(self, name: str, value: str) -> None:
        """Append a field (an existing field of the same name is kept)."""
        self._items.append((name, value))
        if self._index is not None:
            self._index.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the *first* value of ``name``, or ``default``.

        Use :meth:`get_all` when a field may legitimately repeat; the
        handshake validators do, and reject repeats where RFC 6455 forbids
        them.
        """
        values = self._lookup().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in arrival order (empty list if absent)."""
        values = self._lookup().get(name.lower())
        return list(values) if values else []

    def values_of(self, lower_name: str) -> Sequence[str]:
        """Every value of a field named in lower case (not lowered again), in
        arrival order; the handshake's own lookups use it.  Do not modify."""
        return self._lookup().get(lower_name, ())

    def items(self) -> list[tuple[str, str]]:
        """A copy of the ``(name, value)`` pairs."""
        return list(self._items)

    def as_dict(self) -> dict[str, str]:
        """Autobahn's view: lowercase names, repeated values joined by ``", "``."""
        return {name: ", ".join(values) for name, values in self._lookup().items()}

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name.lower() in self._lookup()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def parse_token_list(value: str) -> list[str]:
    """Split an RFC 7230 ``#rule`` list: commas, optional whitespace, empty
    elements ignored.

    Elements are returned as written (no case folding, no token check), so
    ``Upgrade: websocket/13`` or ``HTTP/2.0`` survive; compare with
    ``.lower()``.  Quoted strings are not special here; use
    :func:`parse_extension_header` for fields that allow them.
    """
    return [item.strip(_OWS) for item in value.split(",") if item.strip(_OWS)]


def parse_subprotocol_list(values: Sequence[str]) -> list[str]:
    """Parse every ``Sec-WebSocket-Protocol`` value into one list of tokens.

    Repeats are dropped (RFC 6455 asks for unique names; being lenient costs
    nothing).  A non-token element is a :class:`HandshakeError` (400).
    """
    result: list[str] = []
    for value in values:
        for item in parse_token_list(value):
            if not is_token(item):
                raise HandshakeError(400, f"invalid subprotocol name {item!r}")
            if item not in result:
                result.append(item)
    return result


class _ExtensionScanner:
    """Recursive-descent reader of one ``Sec-WebSocket-Extensions`` value."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> HandshakeError:
        return HandshakeError(
            400,
            f"malformed Sec-WebSocket-Extensions header: {what} at offset"
            f" {self.pos} of {self.text[:200]!r}",
        )

    def skip_ows(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _OWS:
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self, what: str) -> str:
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:
            raise self.fail(f"expected {what}")
        self.pos = match.end()
        return match.group()

    def quoted_string(self) -> str:
        # RFC 7230 quoted-string: qdtext / quoted-pair ("\" any char).
        text = self.text
        pos = self.pos + 1  # after the opening quote
        out: list[str] = []
        while pos < len(text):
            ch = text[pos]
            if ch == '"':
                self.pos = pos + 1
                return "".join(out)
            if ch == "\\":
                pos += 1
                if pos >= len(text):
                    break
                ch = text[pos]
            if (ch < " " and ch != "\t") or ch == "\x7f":
                self.pos = pos
                raise self.fail("control character in quoted-string")
            out.append(ch)
            pos += 1
        self.pos = pos
        raise self.fail("unterminated quoted-string")

    def param_value(self) -> str:
        if self.peek() == '"':
            value = self.quoted_string()
            # RFC 6455 9.1: the unescaped value MUST still be a token.
            if not is_token(value):
                raise self.fail(f"quoted parameter value {value!r} is not a token")
            return value
        return self.token("parameter value")

    def extensions(self) -> list[Extension]:
        result: list[Extension] = []
        while True:
            self.skip_ows()
            ch = self.peek()
            if ch == "":
                return result
            if ch == ",":  # empty list element: ignored per the #rule
                self.pos += 1
                continue
            name = self.token("extension name")
            params: ExtensionParams = []
            self.skip_ows()
            while self.peek() == ";":
                self.pos += 1
                self.skip_ows()
                pname = self.token("parameter name")
                self.skip_ows()
                pvalue: str | None = None
                if self.peek() == "=":
                    self.pos += 1
                    self.skip_ows()
                    pvalue = self.param_value()
                    self.skip_ows()
                params.append((pname, pvalue))
            result.append((name, params))
            if self.peek() not in ("", ","):
                raise self.fail("expected ',' or ';'")


# A list of extensions without quoted strings, which is what browsers and
# most clients send: checked by one regular expression (possessive, so linear
# in the length of the value), then split.  Anything else, including every
# malformed value, goes through _ExtensionScanner, which also words the error.
_T = f"[{_TCHAR}]++"
_PARAM = rf"{_T}(?:[ \t]*+=[ \t]*+{_T})?+"
_ELEMENT = rf"{_T}(?:[ \t]*+;[ \t]*+{_PARAM})*+"
_UNQUOTED_EXTENSIONS_RE = re.compile(
    rf"[ \t]*+(?:{_ELEMENT})?+(?:[ \t]*+,[ \t]*+(?:{_ELEMENT})?+)*+[ \t]*+"
)


def _split_unquoted_extensions(value: str) -> list[Extension]:
    """What :class:`_ExtensionScanner` returns for a value that
    :data:`_UNQUOTED_EXTENSIONS_RE` matched."""
    result: list[Extension] = []
    for element in value.split(","):
        name, *params = element.split(";")
        name = name.strip(_OWS)
        if not name:
            continue  # empty list element: ignored per the #rule
        pairs: ExtensionParams = []
        for param in params:
            pname, equals, pvalue = param.partition("=")
            pairs.append((pname.strip(_OWS), pvalue.strip(_OWS) if equals else None))
        result.append((name, pairs))
    return result


def parse_extension_header(values: Sequence[str]) -> list[Extension]:
    """Parse ``Sec-WebSocket-Extensions`` values (RFC 6455 section 9.1).

    All values are concatenated in order, as repeated fields mean the same as
    one comma-joined field.  Quoted parameter values are unescaped.  Anything
    outside the grammar raises :class:`HandshakeError` (400).
    """
    result: list[Extension] = []
    for value in values:
        if '"' not in value and _UNQUOTED_EXTENSIONS_RE.fullmatch(value) is not None:
            result.extend(_split_unquoted_extensions(value))
        else:
            result.extend(_ExtensionScanner(value).extensions())
    return result


def check_extension_header(value: str) -> None:
    """Raise :class:`HandshakeError` (400) unless ``value`` is a well-formed
    ``Sec-WebSocket-Extensions`` value (without building the parsed list
    when it has no quoted strings)."""
    if '"' in value or _UNQUOTED_EXTENSIONS_RE.fullmatch(value) is None:
        _ExtensionScanner(value).extensions()


def build_extension_header(extensions: Sequence[Extension]) -> str:
    """Render extensions as one ``Sec-WebSocket-Extensions`` value.

    The inverse of :func:`parse_extension_header` (up to whitespace and
    quoting).  Names and values must be tokens (RFC 6455 9.1 requires even a
    quoted value to be one, so values are always sent bare):
    :class:`ValueError` otherwise, as this is a programming error, not a
    peer's.
    """
    parts: list[str] = []
    for name, params in extensions:
        if not is_token(name):
            raise ValueError(f"invalid extension name {name!r}: must be a token")
        items = [name]
        for pname, pvalue in params:
            if not is_token(pname):
                raise ValueError(f"invalid extension parameter name {pname!r}: must be a token")
            if pvalue is None:
                items.append(pname)
            elif is_token(pvalue):
                items.append(f"{pname}={pvalue}")
            else:
                raise ValueError(
                    f"invalid value {pvalue!r} of extension parameter {pname!r}: must be a token"
                )
        parts.append("; ".join(items))
    return ", ".join(parts)
