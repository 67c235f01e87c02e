"""Payload masking (RFC 6455 section 5.3).

Masking is the one hot-path primitive pure Python cannot do fast, so an
optional C extension (``wsproto_cb.core._mask``) does it when the build
produced one; otherwise :func:`apply_mask_python` is used.  Both have the
same semantics and the tests compare them.

``offset`` exists because payloads are unmasked chunk by chunk as they
arrive: the chunk that starts at payload byte ``offset`` starts at mask byte
``offset % 4``.

Set ``WSPROTO_CB_NO_SPEEDUPS=1`` before import to force the fallback.
"""

from __future__ import annotations

import sys
from typing import Protocol

from . import speedups

__all__ = ["HAS_SPEEDUPS", "apply_mask", "apply_mask_c", "apply_mask_python"]

Buffer = bytes | bytearray | memoryview


class MaskFunction(Protocol):
    def __call__(self, data: Buffer, mask: bytes, offset: int = 0) -> bytes: ...


def apply_mask_python(data: Buffer, mask: bytes, offset: int = 0) -> bytes:
    """XOR ``data`` with ``mask`` starting at mask byte ``offset % 4``.

    One big-int XOR instead of a per-byte loop: roughly 100 times faster in
    CPython, since the work happens in C inside ``int``.
    """
    if len(mask) != 4:
        raise ValueError(f"mask must be exactly 4 bytes, got {len(mask)}")
    if isinstance(data, memoryview) and (data.ndim != 1 or data.itemsize != 1):
        data = data.cast("B")
    size = len(data)
    if size == 0:
        return b""
    phase = offset % 4
    key = bytes(mask)
    if phase:
        key = key[phase:] + key[:phase]
    repeated = key * (size >> 2) + key[: size & 3]
    masked = int.from_bytes(data, sys.byteorder) ^ int.from_bytes(repeated, sys.byteorder)
    return masked.to_bytes(size, sys.byteorder)


#: The C implementation, or None when it is disabled or was not built.
apply_mask_c: MaskFunction | None = speedups.load("_mask", "apply_mask")

#: Whether :func:`apply_mask` is the C implementation.
HAS_SPEEDUPS: bool = apply_mask_c is not None

#: XOR ``data`` with the 4-byte ``mask`` from mask byte ``offset % 4``;
#: returns ``bytes``.  Raises ValueError unless ``mask`` is 4 bytes long.
apply_mask: MaskFunction = apply_mask_c if apply_mask_c is not None else apply_mask_python
