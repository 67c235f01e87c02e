"""Writing straight to a Twisted TCP/UNIX socket when nothing is queued ahead.

Why: ``FileDescriptor.write`` never sends.  It queues the bytes and calls
``startWriting()`` (one ``epoll_ctl``); on the next reactor turn ``doWrite``
sends them and, the buffer being empty, ``stopWriting()`` (a second
``epoll_ctl``).  For a small message that is two system calls and a trip
through the reactor's dispatch on top of the ``send()``, about a third of
Twisted's cost per echoed 64-byte message (docs/performance.md).  asyncio's
transports instead try ``send()`` at once and queue only what the kernel
does not take; this module does the same for Twisted.

How: when the transport is a plain ``twisted.internet.tcp.Connection``
(TCP or UNIX server/client, on any POSIX reactor, asyncio's included) and
its write buffer is empty, :func:`send_now` hands the bytes to the socket
and returns how many the kernel took; the caller passes whatever is left
to ``transport.write``, which queues it behind nothing and keeps every
Twisted rule from there on (producer pausing at ``bufferSize``, resuming,
``loseConnection`` after the buffer drains).  Order holds because bytes
go direct only while nothing is queued.

Where it does not apply, ``send_now`` returns 0 and everything goes through
``transport.write`` as before: TLS (``TLSMemoryBIOProtocol``, or
``startTLS`` on the connection: the bytes must be encrypted first; Twisted's
TLS already coalesces small writes per turn), any ``ProtocolWrapper`` or
connection subclass that overrides ``write``/``writeSomeData`` (it may
count, throttle or transform bytes), IOCP and other transports; and, on a plain
connection, anything queued, ``loseConnection``/``loseWriteConnection``
or ``abortConnection`` called, the connection gone, or file descriptors
queued on a UNIX socket.  A ``send()`` error is not handled here either: the
bytes go to ``transport.write`` and Twisted meets the same error in its own
``doWrite``, which closes the connection with the usual ``connectionLost``
(never re-entering the protocol from inside a write).

A message written in parts (:func:`send_parts_now`: a large payload after
its frame header, not copied into one frame) goes to the socket in one
``sendmsg()`` while nothing is queued, under the same conditions; what the
kernel does not take is returned, as ``bytes``, for ``transport.write``.

Not coalescing per reactor turn: in the case that matters (one message per
connection per turn: echo, broadcast) that would save nothing, and a
deferred flush costs a ``callLater`` per turn.  Many writes to one
connection in one turn now cost one ``send()`` each (as on asyncio) while
the kernel takes them, instead of one ``send()`` per turn.  And bytes
written just before ``abortConnection()`` may have reached the kernel
already (as on asyncio), where Twisted used to drop them with its buffer.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

from twisted.internet import tcp

from ..direct_send import send_fd

__all__ = ["send_now", "send_parts_now", "write_through_target"]

try:
    from twisted.internet.unix import _SendmsgMixin as _FdPassing
except ImportError:  # pragma: no cover (no AF_UNIX)
    _FdPassing = ()  # type: ignore[assignment,misc]


#: Twisted's own ways for a connection to put bytes on its socket
_TWISTED_WRITE = tcp.Connection.write
_TWISTED_SENDS = (tcp.Connection.writeSomeData, getattr(_FdPassing, "writeSomeData", None))


def write_through_target(transport: Any) -> Any:
    """``transport`` if :func:`send_now` may ever write to its socket, else None.

    Only Twisted's own TCP/UNIX connections: a subclass that overrides
    ``write`` or ``writeSomeData`` (to count, throttle or transform bytes)
    keeps getting every write.
    """
    kind = type(transport)
    if (
        isinstance(transport, tcp.Connection)
        and kind.write is _TWISTED_WRITE
        and kind.writeSomeData in _TWISTED_SENDS
    ):
        return transport
    return None


def _may_send_now(conn: Any) -> bool:
    """Whether bytes may go straight to ``conn``'s socket: nothing queued, not closing."""
    return not (
        not conn.connected
        or conn.disconnecting
        or conn._aborting
        or conn._writeDisconnecting
        or conn.TLS
        or conn._tempDataLen
        or conn.dataBuffer
        or (isinstance(conn, _FdPassing) and conn._sendmsgQueue)
    )


def send_now(conn: Any, data: bytes) -> int:
    """Send ``data`` (or its head) on ``conn``'s socket if nothing is queued; bytes sent.

    0 means "use ``transport.write`` for all of it" (something queued, TLS,
    closing, an error, or a full socket buffer).
    """
    if not _may_send_now(conn):
        return 0
    if send_fd is not None:  # (the same send(2), without socket.send's own costs)
        return send_fd(conn.fileno(), data)
    try:
        return int(conn.socket.send(data))
    except OSError:  # EAGAIN; or an error that Twisted's doWrite meets and reports
        return 0


#: Buffers per sendmsg() call (Linux takes at most IOV_MAX, 1024).
_IOV_BATCH = 512

_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")


def send_parts_now(conn: Any, parts: Sequence[bytes | memoryview]) -> list[bytes]:
    """Send ``parts`` on ``conn``'s socket as far as it takes them now; the rest, as bytes.

    All of them come back when :func:`send_now` would send nothing; the
    first returned may be the unsent end of a part.
    """
    index = offset = 0
    if _HAS_SENDMSG and _may_send_now(conn):
        while index < len(parts):
            batch = parts[index : index + _IOV_BATCH]
            try:
                sent = int(conn.socket.sendmsg(batch))
            except OSError:  # (as in send_now)
                break
            for part in batch:
                if sent < len(part):
                    offset = sent
                    break
                sent -= len(part)
                index += 1
            else:
                continue  # the whole batch went: on to the next one
            break  # the socket took only some: its buffer is full
    if index == len(parts):
        return []
    first = memoryview(parts[index])[offset:] if offset else parts[index]
    return [bytes(first), *map(bytes, parts[index + 1 :])]  # (bytes of bytes is no copy)
