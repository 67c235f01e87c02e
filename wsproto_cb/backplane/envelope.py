"""The bytes a node publishes for one broadcast, and the per-publisher order check.

Every message carries the publishing node's id, so a node recognises and
drops its own echo, and a sequence number counted per publisher and group,
so a receiver sees a lost message as a gap instead of silently missing it.
Sans-I/O: bytes in, values out.

Layout (network byte order)::

    b"WSCB"  version:u8  flags:u8  node:8 bytes  epoch:u64  sequence:u64
    group_len:u16  group (UTF-8, group_len bytes)  payload (the rest)
    [version 2 only: tag, the last 32 bytes]

``flags`` bit 0 is "binary", bit 1 is "every connection" (``group=None``).

Version 1 is unsigned, and unchanged from earlier releases.  Version 2 is
signed: nodes that share a secret (:class:`EnvelopeKey`) append an
HMAC-SHA256 of the Redis channel name and everything before the tag, and
accept only envelopes whose tag they can check.  The two do not mix on
purpose: a node with a secret drops version 1 and a node without one drops
version 2 (both count them), so one node left without the secret cannot
open the door to forged messages for the others.

Memory stays bounded on both sides, however many groups come and go (one
per user, say): a publisher keeps the counters of its most recently used
groups only (:class:`SequenceCounter`), a receiver the positions of its
most recently heard publishers and groups (:class:`SequenceTracker`).  A
group whose counter was forgotten starts again at 1 under a new *epoch*
(a number that only grows, per publisher), which tells receivers that the
numbering restarted rather than went back.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import OrderedDict
from typing import NamedTuple

__all__ = [
    "NODE_ID_SIZE",
    "RESET",
    "Envelope",
    "EnvelopeAuthError",
    "EnvelopeError",
    "EnvelopeKey",
    "SequenceCounter",
    "SequenceTracker",
    "decode_envelope",
    "encode_envelope",
]

MAGIC = b"WSCB"
VERSION = 1
SIGNED_VERSION = 2
TAG_SIZE = 32  # HMAC-SHA256
#: the shortest secret accepted (bytes)
MIN_SECRET = 16
NODE_ID_SIZE = 8
_FLAG_BINARY = 0x01
_FLAG_EVERYONE = 0x02
_HEADER = struct.Struct("!4sBB8sQQH")
_MAX_GROUP_BYTES = 0xFFFF
#: groups (publisher side) and (publisher, group) pairs (receiver side) remembered
DEFAULT_REMEMBERED = 100_000


class EnvelopeError(ValueError):
    """Bytes on a backplane channel that are not an envelope of ours."""


class EnvelopeAuthError(EnvelopeError):
    """An envelope whose signature is missing, unexpected, or not made with our secret."""


class EnvelopeKey:
    """The shared secret that signs and checks envelopes (never shown in ``repr``)."""

    __slots__ = ("_key", "_keyed")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes):
            raise TypeError(f"the backplane secret must be bytes, not {type(secret).__name__}")
        if len(secret) < MIN_SECRET:
            raise ValueError(
                f"the backplane secret is {len(secret)} bytes; use at least {MIN_SECRET} "
                "(for example: head -c 32 /dev/urandom | base64)"
            )
        self._key = secret
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)  # (copied per message)

    def __repr__(self) -> str:
        return "<EnvelopeKey (secret not shown)>"

    def tag(self, channel: bytes, body: bytes | memoryview) -> bytes:
        """HMAC-SHA256 over the channel (length-prefixed, so it cannot run into the body)
        and the envelope before its tag."""
        mac = self._keyed.copy()
        mac.update(struct.pack("!I", len(channel)))
        mac.update(channel)
        mac.update(body)
        return mac.digest()


class Envelope(NamedTuple):
    node: bytes
    sequence: int
    group: str | None
    payload: bytes
    is_binary: bool
    epoch: int = 0


def encode_envelope(
    node: bytes,
    sequence: int,
    group: str | None,
    payload: bytes,
    is_binary: bool,
    epoch: int = 0,
    *,
    key: EnvelopeKey | None = None,
    channel: bytes = b"",
) -> bytes:
    """The envelope's bytes: version 1, or version 2 signed with ``key`` for ``channel``."""
    if len(node) != NODE_ID_SIZE:
        raise ValueError(f"node id must be {NODE_ID_SIZE} bytes, not {len(node)}")
    flags = _FLAG_BINARY if is_binary else 0
    if group is None:
        flags |= _FLAG_EVERYONE
        name = b""
    else:
        name = group.encode("utf-8")
        if len(name) > _MAX_GROUP_BYTES:
            raise ValueError(f"group name longer than {_MAX_GROUP_BYTES} bytes in UTF-8")
    version = VERSION if key is None else SIGNED_VERSION
    header = _HEADER.pack(MAGIC, version, flags, node, epoch, sequence, len(name))
    body = b"".join((header, name, payload))
    if key is None:
        return body
    return body + key.tag(channel, body)


def decode_envelope(
    data: bytes, *, key: EnvelopeKey | None = None, channel: bytes = b""
) -> Envelope:
    """The envelope in ``data``; with ``key``, only a version 2 one signed for ``channel``.

    Raises :class:`EnvelopeAuthError` when the signature is missing, present
    without a key here, or wrong, and :class:`EnvelopeError` for other bytes.
    """
    if len(data) < _HEADER.size:
        raise EnvelopeError(f"envelope of {len(data)} bytes is shorter than its header")
    magic, version, flags, node, epoch, sequence, name_len = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise EnvelopeError("not a wsproto_cb envelope (bad magic)")
    stop = len(data)
    if version == SIGNED_VERSION:
        if key is None:
            raise EnvelopeAuthError(
                f"envelope version {version} is signed, and this node has no secret"
            )
        stop -= TAG_SIZE
        if stop < _HEADER.size:
            raise EnvelopeAuthError("signed envelope too short for its tag")
        expected = key.tag(channel, memoryview(data)[:stop])
        if not hmac.compare_digest(expected, data[stop:]):
            raise EnvelopeAuthError("envelope signature does not match our secret")
    elif version == VERSION:
        if key is not None:
            raise EnvelopeAuthError("unsigned envelope, and this node requires a signature")
    else:
        raise EnvelopeError(
            f"envelope version {version} is not supported (only {VERSION} and {SIGNED_VERSION})"
        )
    start = _HEADER.size
    end = start + name_len
    if end > stop:
        raise EnvelopeError("envelope group name runs past its end")
    group: str | None
    if flags & _FLAG_EVERYONE:
        if name_len:
            raise EnvelopeError("envelope for every connection names a group")
        group = None
    else:
        try:
            group = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeError("envelope group name is not UTF-8") from None
    return Envelope(node, sequence, group, data[end:stop], bool(flags & _FLAG_BINARY), epoch)


class SequenceCounter:
    """A publisher's numbering: 1, 2, 3 ... per group, with an epoch per numbering.

    Only the ``limit`` most recently used groups are remembered; a group
    used again after it was forgotten starts at 1 under a new epoch.
    """

    __slots__ = ("_counters", "_epochs", "limit")

    def __init__(self, limit: int = DEFAULT_REMEMBERED) -> None:
        self.limit = limit
        self._counters: OrderedDict[str | None, tuple[int, int]] = OrderedDict()
        self._epochs = 0

    def __len__(self) -> int:
        return len(self._counters)

    def next(self, group: str | None) -> tuple[int, int]:
        """``(epoch, sequence)`` for the next message to ``group``."""
        counters = self._counters
        entry = counters.pop(group, None)
        if entry is None:
            self._epochs += 1
            entry = (self._epochs, 0)
        entry = (entry[0], entry[1] + 1)
        counters[group] = entry
        if len(counters) > self.limit:
            counters.popitem(last=False)
        return entry


#: :meth:`SequenceTracker.observe`: a jump no real publisher makes; taken as a fresh start
RESET = -1


class SequenceTracker:
    """The last (epoch, sequence) seen per (publisher, group): finds gaps and replays.

    A publisher counts 1, 2, 3 ... per group.  The first message seen from a
    publisher in a group, or the first of a new epoch, sets the baseline (a
    node that subscribes late has not missed what came before).
    :meth:`forget_group` drops the baselines when the node unsubscribes on
    purpose; a lost connection keeps them, so what was published meanwhile
    shows up as a gap.  Only the ``limit`` most recently heard pairs are
    remembered (a publisher that restarted has a new node id; the old one's
    entries age out).

    Where envelopes are not signed, anyone who can publish on Redis can
    send any node id and numbers: one forged envelope with sequence 2**64-1
    must not make the real publisher's messages stale.  So two bounds (both
    off by default, for authenticated envelopes, where every step is real):

    - ``max_jump``: a forward jump over more than this many messages is not
      believed as a gap; it is a :data:`RESET` (a new baseline, no gap
      reported);
    - ``replay_window``: a message at most this far behind the last one is
      stale (a repeat); further behind, or from an older epoch, it is a
      :data:`RESET` too, since a real publisher never goes back.  With 0,
      only an exact repeat of the last message is stale.
    """

    __slots__ = ("_last", "limit", "max_jump", "replay_window")

    def __init__(
        self,
        limit: int = DEFAULT_REMEMBERED,
        *,
        max_jump: int | None = None,
        replay_window: int | None = None,
    ) -> None:
        self.limit = limit
        self.max_jump = max_jump
        self.replay_window = replay_window
        self._last: OrderedDict[tuple[bytes, str | None], tuple[int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def observe(self, node: bytes, group: str | None, sequence: int, epoch: int = 0) -> int | None:
        """How many messages were missed before this one (0: in order); None: stale,
        drop it; :data:`RESET`: deliver it, the numbering starts again from it."""
        key = (node, group)
        last = self._last.pop(key, None)
        missed: int | None = 0
        if last is not None:
            if (epoch, sequence) <= last:
                window = self.replay_window
                if window is None or (epoch == last[0] and last[1] - sequence <= window):
                    self._last[key] = last
                    return None
                missed = RESET
            elif epoch == last[0]:
                missed = sequence - last[1] - 1
                if self.max_jump is not None and missed >= self.max_jump:
                    missed = RESET
        self._last[key] = (epoch, sequence)
        if len(self._last) > self.limit:
            self._last.popitem(last=False)
        return missed

    def forget_group(self, group: str | None) -> None:
        for key in [key for key in self._last if key[1] == group]:
            del self._last[key]
