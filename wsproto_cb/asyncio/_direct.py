"""Sending straight to the socket of a plain asyncio transport while nothing is queued.

Why: a transport's ``write()`` sends at once when nothing is queued, but
around that one ``send()`` it does its own bookkeeping in Python (asyncio)
or Cython (uvloop): for a 64-byte echo that is a measurable share of the
CPU per message (docs/performance.md).  The C function of
:mod:`wsproto_cb.direct_send` does only the ``send()``.

When: :func:`direct_fd` gives a file descriptor only for the loops' own
plain stream transports, named exactly (asyncio's selector socket
transport, uvloop's TCP and UNIX transports): never under TLS (the bytes
must be encrypted first; ``start_tls`` hands the protocol a different
transport), never for a transport some library wraps or subclasses.  The
runtime then sends directly only while the transport is not closing and
its write buffer is empty, so bytes keep their order and the fd is still
the transport's (a transport is ``is_closing()`` before its socket closes).
What the kernel does not take, or a send that fails, goes to the
transport's ``write()``, which queues it, applies its flow control
(``pause_writing``) and meets any error itself, reporting it the usual way.

Without the C extension (or with ``WSPROTO_CB_NO_SPEEDUPS=1``) nothing
changes but speed: :func:`direct_fd` is -1 and every write goes through the
transport.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from ..direct_send import send_fd

__all__ = ["direct_fd", "send_now"]

#: (module, class name) of the transports whose write() we may bypass
_PLAIN_TRANSPORTS = frozenset(
    {
        ("asyncio.selector_events", "_SelectorSocketTransport"),
        ("uvloop.loop", "TCPTransport"),
        ("uvloop.loop", "UnixTransport"),
    }
)


def _not_built(fd: int, data: bytes | memoryview) -> int:  # pragma: no cover - fd is -1
    return 0


#: ``send_now(fd, data)``: bytes the kernel took at once, 0 if none or on error
send_now: Callable[[int, bytes | memoryview], int] = send_fd or _not_built


def direct_fd(transport: asyncio.BaseTransport) -> int:
    """The fd that :func:`send_now` may write to for ``transport``, else -1."""
    if send_fd is None:
        return -1
    kind = type(transport)
    if (kind.__module__, kind.__qualname__) not in _PLAIN_TRANSPORTS:
        return -1
    # (the transports named are never TLS: TLS gets a transport of its own,
    # which the caller also checks as AsyncioRuntime.is_secure)
    sock = transport.get_extra_info("socket")
    if sock is None or sock.type != socket.SOCK_STREAM:
        return -1
    return int(sock.fileno())
