"""What a run sends, shared by the server and client processes, and how they answer the driver.

Every message of a run is known in advance from its number, so the clients
can check what they receive without parsing frames.
"""

from __future__ import annotations

import os
from typing import Protocol

from benchmarks.e2e import wire

__all__ = ["HOST", "PAYLOAD_SIZE", "StdinLines", "TwistedStdin", "frame", "payload", "reply"]

HOST = "127.0.0.1"
PAYLOAD_SIZE = 150
TEXT = 0x1


def payload(k: int) -> bytes:
    """Message number ``k``: JSON-like text of PAYLOAD_SIZE bytes, different for every k."""
    head = b'{"type":"tick","seq":%010d,"data":"' % k
    return head + b"x" * (PAYLOAD_SIZE - len(head) - 2) + b'"}'


def frame(k: int) -> bytes:
    """The unmasked frame every server sends for message ``k``."""
    return wire.build_frame(TEXT, payload(k), masked=False)


def reply(line: str) -> None:
    """One line to the driver (stdout is its pipe); unbuffered, so it is never held back."""
    os.write(1, (line + "\n").encode())


class StdinLines:
    """The driver's commands on stdin (fd 0), as lines; exits when the driver is gone."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def read(self) -> list[bytes]:
        """Call when fd 0 is readable: the complete lines that arrived."""
        data = os.read(0, 65536)
        if not data:
            os._exit(0)  # the driver is gone
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        return lines


class StdinHandler(Protocol):
    def stdin_readable(self) -> None: ...


class TwistedStdin:
    """stdin as a Twisted read descriptor (``reactor.addReader``) for ``handler``."""

    def __init__(self, handler: StdinHandler) -> None:
        self.handler = handler

    def fileno(self) -> int:
        return 0

    def doRead(self) -> None:
        self.handler.stdin_readable()

    def connectionLost(self, reason: object) -> None:
        os._exit(0)

    def logPrefix(self) -> str:
        return "stdin"
