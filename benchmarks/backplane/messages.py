"""What the publisher sends and the subscribers check, and where it goes.

Message ``k`` (1, 2, 3 ...) is an envelope of ours (``encode_envelope``)
for group :data:`GROUP` with sequence number ``k`` and, as its payload,
the fan-out benchmark's 150-byte JSON-like text number ``k``; a subscriber
reads ``k`` back from the payload, so it can tell a missing, repeated or
reordered message without keeping a copy of what was sent.
"""

from __future__ import annotations

from benchmarks.fanout.messages import PAYLOAD_SIZE, payload, reply
from wsproto_cb.backplane import RedisBackplane
from wsproto_cb.backplane.envelope import encode_envelope

__all__ = [
    "CHANNEL",
    "GROUP",
    "PAYLOAD_SIZE",
    "PREFIX",
    "envelope",
    "message_number",
    "reply",
]

GROUP = "bench"
PREFIX = "wsbench-backplane:"
#: the Redis channel of GROUP, named as every RedisBackplane with PREFIX names it
CHANNEL = RedisBackplane(channelPrefix=PREFIX).channel(GROUP)

_AT = payload(1).index(b"0000000001")
_DIGITS = slice(_AT, _AT + 10)


def envelope(node: bytes, k: int) -> bytes:
    """Message ``k`` as published by node ``node``: sequence ``k``, text payload ``k``."""
    return encode_envelope(node, k, GROUP, payload(k), False)


def message_number(data: bytes) -> int:
    """``k`` from the payload of message ``k``."""
    return int(data[_DIGITS])
