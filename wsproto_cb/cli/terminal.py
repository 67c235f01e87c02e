"""Peer text made safe to print on a terminal.

A WebSocket peer chooses every character of its messages and close reasons.
Printed as is, ``ESC [ ...`` (or its one-character C1 form, ``CSI``)
moves the cursor, rewrites the screen, sets the window title, or on some
terminals answers back into stdin; a carriage return overwrites what was
printed before it; a newline makes one message look like several lines of
output; a bidi override reorders what the reader sees (Trojan Source,
CVE-2021-42574).

:func:`escape_controls` writes those characters as Python-style escapes
(``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``), so each message stays one visible
line and nothing in it acts on the terminal.  Escaped: the C0 controls but
TAB, DEL, the C1 controls (U+0080..U+009F), the line and paragraph
separators (U+2028, U+2029), and the bidi embeddings, overrides and isolates
(U+202A..U+202E, U+2066..U+2069).  Left alone: printable text in any script,
TAB, and the other format characters (zero-width joiners build emoji; the
bidi *marks* U+200E/U+200F appear in ordinary right-to-left text and reorder
nothing by themselves).  Backslashes are not doubled: the output is for
reading, and ``wsproto-cb connect --raw`` gives the text exactly.
"""

from __future__ import annotations

__all__ = ["escape_controls"]

_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ESCAPED = [
    *(c for c in range(0x20) if c != 0x09),
    *range(0x7F, 0xA0),  # DEL and C1
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
    *range(0x2066, 0x206A),  # LRI RLI FSI PDI
]
_TABLE = {code: _escape(code) for code in _ESCAPED}


def escape_controls(text: str) -> str:
    """``text`` with every character that acts on a terminal written as an escape."""
    return text.translate(_TABLE)
