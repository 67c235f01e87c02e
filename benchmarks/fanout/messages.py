"""What a run sends, shared by the server and client processes, and how they answer the driver.

Every message of a run is known in advance from its number, so the clients
can check what they receive without parsing frames.
"""

from __future__ import annotations

import os

from benchmarks.e2e import wire

__all__ = ["HOST", "PAYLOAD_SIZE", "frame", "payload", "reply"]

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
