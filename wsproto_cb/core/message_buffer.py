"""Assembling a message from the pieces the connection delivers.

A message may arrive as millions of tiny pieces (one per frame, or per read
of a frame).  Kept as a list of ``bytes`` objects, each piece would cost its
object header and list slot, about 40 bytes, on top of its data: 2-byte
fragments took some 20 times their payload in memory.

:class:`MessageBuffer` keeps pieces of at least :data:`COPY_BELOW` bytes as
they are (their overhead is then under 5 %) and copies smaller ones into a
shared block, which becomes one piece when it reaches :data:`BLOCK_SIZE`.
A message in assembly thus takes about its payload's size however it was
fragmented, and a large message is copied once, when :meth:`take` joins it.
(One growing ``bytearray`` would hold the same memory but copy every byte
twice, and allocate a second buffer of the message's size at the end.)

A large frame whose length its header announced is copied instead, piece
by piece as it arrives, into a :class:`PayloadBuilder` of that size, which
:meth:`MessageBuffer.take` returns without joining anything.  The pieces
are then dropped as soon as they are copied, and the message costs one
buffer of its size rather than its pieces plus the joined copy: for a
1 MiB echo that halves the fresh memory each message touches, which is
what the time goes into (docs/performance.md, "1 MiB messages").
"""

from __future__ import annotations

import contextlib
from typing import Final, Protocol

from . import speedups

__all__ = [
    "BLOCK_SIZE",
    "COPY_BELOW",
    "PREALLOCATE_MAX",
    "PREALLOCATE_MIN",
    "MessageBuffer",
    "PayloadBuilder",
    "PayloadBuilderPython",
]

#: Pieces shorter than this are copied into the current block.
COPY_BELOW: Final = 1024

#: A block of small pieces is closed when it reaches this size.
BLOCK_SIZE: Final = 64 * 1024

#: A frame announced at this size or more is assembled in one buffer of its
#: size (smaller ones cost little either way).
PREALLOCATE_MIN: Final = 64 * 1024

#: ... and at most this size: the buffer is allocated when the first piece
#: arrives, and a peer whose limits are off could announce any length.
#: (Untouched, the buffer's pages cost address space, not memory.)
PREALLOCATE_MAX: Final = 64 * 1024 * 1024


class PayloadBuilderPython:
    """A payload of ``size`` bytes, appended piece by piece and taken once.

    The reference for the C twin ``wsproto_cb.core._wire.PayloadBuilder``,
    which allocates the ``bytes`` object of ``size`` at once and fills it,
    so that :meth:`take` of a full payload costs nothing.  This one grows a
    ``bytearray`` as data comes and copies it at the end.
    """

    __slots__ = ("_data", "_size")

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must not be negative, not {size}")
        self._data: bytearray | None = bytearray()
        self._size = size

    def _live(self) -> bytearray:
        if self._data is None:
            raise ValueError("the payload was taken already")
        return self._data

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Copy ``data`` in after what is there; ValueError if it does not fit."""
        buf = self._live()
        view = memoryview(data)
        room = self._size - len(buf)
        if view.nbytes > room:
            raise ValueError(f"{view.nbytes} bytes given but only {room} are left")
        buf += view

    @property
    def remaining(self) -> int:
        """Bytes still to append before it is full (0 once taken)."""
        return 0 if self._data is None else self._size - len(self._data)

    def take(self) -> bytes:
        """The bytes appended (all of them when full); the builder is then spent."""
        buf = self._live()
        self._data = None
        return bytes(buf)

    def __len__(self) -> int:
        return 0 if self._data is None else len(self._data)


class PayloadBuilderType(Protocol):
    """What :class:`PayloadBuilderPython` and its C twin share."""

    def __init__(self, size: int) -> None: ...
    def append(self, data: bytes | bytearray | memoryview) -> None: ...
    @property
    def remaining(self) -> int: ...
    def take(self) -> bytes: ...
    def __len__(self) -> int: ...


#: The C twin of :class:`PayloadBuilderPython`, or None when disabled or not built.
PayloadBuilderC: type[PayloadBuilderType] | None = speedups.load("_wire", "PayloadBuilder")

#: The implementation in use: the C twin when there is one.
PayloadBuilder: type[PayloadBuilderType] = (
    PayloadBuilderC if PayloadBuilderC is not None else PayloadBuilderPython
)


class MessageBuffer:
    """The data of one message (or frame) so far; :meth:`take` returns it as bytes.

    A message that is a single piece is returned without a copy.  Empty
    pieces cost nothing.  ``expected``, the length of the first frame when
    its header says it, lets a large frame go into one buffer of its size
    (see the module docstring); it is a hint: a message that turns out
    longer or shorter is still returned whole.
    """

    __slots__ = ("_block", "_builder", "_pieces", "_size")

    def __init__(self, first: bytes = b"", expected: int = 0) -> None:
        self._pieces: list[bytes] = []
        self._block: bytearray | None = None
        self._builder: PayloadBuilderType | None = None
        self._size = 0
        if PREALLOCATE_MIN <= expected <= PREALLOCATE_MAX and len(first) < expected:
            # (without memory for it, the pieces are kept, as for a small frame)
            with contextlib.suppress(MemoryError):
                self._builder = PayloadBuilder(expected)
        if first:
            self.append(first)

    def append(self, data: bytes) -> None:
        """Add the next piece (a small one is copied: the caller may drop it)."""
        size = len(data)
        if not size:
            return
        self._size += size
        builder = self._builder
        if builder is not None and (room := builder.remaining):
            if size <= room:
                builder.append(data)
                return
            # (the hint was short: what does not fit follows as pieces)
            builder.append(memoryview(data)[:room])
            data = data[room:]
            size -= room
        block = self._block
        if size < COPY_BELOW:
            if block is None:
                self._block = block = bytearray()
            block += data
            if len(block) >= BLOCK_SIZE:
                self._pieces.append(bytes(block))
                self._block = None
            return
        if block is not None:  # close it first: pieces stay in order
            self._pieces.append(bytes(block))
            self._block = None
        self._pieces.append(data)

    def take(self) -> bytes:
        """Everything appended so far, as one bytes object; the buffer is then empty."""
        pieces, block, builder = self._pieces, self._block, self._builder
        self._pieces, self._block, self._builder, self._size = [], None, None, 0
        if block is not None:
            pieces.append(bytes(block))
        if builder is not None:
            pieces.insert(0, builder.take())
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def __len__(self) -> int:
        return self._size
