"""The client's address from ``X-Forwarded-For``, counted from the trusted end.

Each proxy appends the address it received the request from, so the
header reads ``client-supplied..., client, proxy_1, ..., proxy_n-1``; only
the last ``trusted`` entries were written by proxies we trust, and the
left-most of those is the client.  Everything to its left came from the
client and proves nothing.

A proxy may append a header line of its own instead of extending the
existing one; HTTP makes both the same list (RFC 9110 5.3), so entries are
counted across all lines in order.  Taking the first line alone, as
``Headers.get`` would, hands the choice to the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

__all__ = ["x_forwarded_for_client"]


def x_forwarded_for_client(values: Sequence[str], trusted: int) -> str | None:
    """The client's address per ``X-Forwarded-For`` behind ``trusted`` proxies, or None.

    ``values`` are the header's lines in arrival order.  Entries are
    separated by commas; whitespace around them and empty entries are
    ignored.  With fewer entries than ``trusted`` every entry came from a
    trusted proxy and the left-most is the client.  The entry must be an
    IPv4 or IPv6 address, optionally with a port (``192.0.2.1:4711``,
    ``[2001:db8::1]:4711``, which some proxies write); the address is
    returned in its canonical form, without the port.  None (use the TCP
    peer's address instead) when ``trusted`` is 0, there is no entry, or
    the chosen entry is not an address: then the header is not what the
    trusted proxies write, and any text in it could be the client's.
    """
    if trusted <= 0:
        return None
    entries = [entry for value in values for part in value.split(",") if (entry := part.strip())]
    if not entries:
        return None
    return _address(entries[-min(trusted, len(entries))])


def _address(entry: str) -> str | None:
    """``entry`` as a canonical IP address (a port dropped), or None."""
    host = entry
    if entry.startswith("["):  # [IPv6] or [IPv6]:port
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not _is_port_suffix(rest)):
            return None
    elif entry.count(":") == 1:  # IPv4:port
        host, _, port = entry.partition(":")
        if not _is_port_suffix(":" + port):
            return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _is_port_suffix(text: str) -> bool:
    port = text[1:]
    return text.startswith(":") and port.isascii() and port.isdigit() and int(port) <= 65535
