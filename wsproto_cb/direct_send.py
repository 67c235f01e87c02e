"""The direct send both runtimes use while their transport has nothing queued.

``send_fd(fd, data)`` is one non-blocking ``send(2)`` (``MSG_NOSIGNAL``),
from the optional C extension ``wsproto_cb._sendnow``: it returns how many
bytes the kernel took, and 0 when it took none (a full socket buffer) or
on any error, which the caller then leaves to its transport to meet and
report.  When each runtime may call it is its adapter's business
(``asyncio/_direct.py``, ``twisted/_writethrough.py``); this module only
says whether it is there: None without the extension or with
``WSPROTO_CB_NO_SPEEDUPS=1``.
"""

from __future__ import annotations

from collections.abc import Callable

from .core import speedups

__all__ = ["send_fd"]

send_fd: Callable[[int, bytes | memoryview], int] | None = speedups.load(
    "_sendnow", "send_now", package="wsproto_cb"
)
