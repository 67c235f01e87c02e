"""Every attack of the suite, in the order the runner plays them, and the quick subset."""

from __future__ import annotations

from .base import Attack
from .connection_attacks import (
    connection_churn,
    dead_peer,
    idle_connections,
    sigterm,
    slow_reader,
    stopped_reader,
)
from .frame_attacks import deflate_bomb, empty_deflate_streams, empty_fragments, tiny_fragments
from .handshake_attacks import garbage, oversized_handshake, slowloris, wss_cleartext, xff_spoof

__all__ = ["ATTACKS", "QUICK", "by_name"]

COMPRESS = ("--compress",)
PING_1S = ("--auto-ping-interval", "1", "--auto-ping-timeout", "1")
SMALL_MESSAGES = ("--max-message-size", "65536")  # (so the wire bound is reached quickly)
XFF_1 = ("--trust-x-forwarded-for", "1")

ATTACKS: tuple[Attack, ...] = (
    Attack(
        "slowloris",
        "openHandshakeTimeout",
        slowloris,
        sizes=(500, 20),
        flags=((), ("--open-handshake-timeout", "1")),
        limit=60,
    ),
    Attack(
        "oversized-handshake",
        "HTTP head limits: 8 KiB a line, 64 KiB a head, 128 fields (431)",
        oversized_handshake,
        sizes=(20, 2),
    ),
    Attack("garbage", "handshake and frame validation (400, 1002)", garbage, sizes=(200, 20)),
    Attack(
        "deflate-bomb",
        "maxMessagePayloadSize, checked as the message inflates (1009)",
        deflate_bomb,
        sizes=(1024, 64),
        flags=(COMPRESS, COMPRESS),
    ),
    Attack(
        "slow-reader",
        "write high-water mark (64 KiB): reading paused",
        slow_reader,
        sizes=(50, 5),
    ),
    Attack("connection-churn", "nothing kept per closed connection", connection_churn, (5000, 200)),
    Attack(
        "dead-peer",
        "autoPingInterval + autoPingTimeout",
        dead_peer,
        sizes=(200, 20),
        flags=(PING_1S, PING_1S),
        limit=60,
    ),
    Attack(
        "stopped-reader",
        "closeHandshakeTimeout bounds every TCP close (#20.4)",
        stopped_reader,
        sizes=(50, 10),  # (each fills megabytes of socket buffers first)
        flags=(("--close-handshake-timeout", "1"), ("--close-handshake-timeout", "0.5")),
        limit=120,
    ),
    Attack(
        "tiny-fragments",
        "one buffer per message (#20.1)",
        tiny_fragments,
        sizes=(1_000_000, 50_000),
    ),
    Attack(
        "empty-fragments",
        "a message's wire size <= 2 x maxMessagePayloadSize (#20.1)",
        empty_fragments,
        sizes=(1_000_000, 30_000),
        flags=(SMALL_MESSAGES, SMALL_MESSAGES),
    ),
    Attack(
        "empty-deflate-streams",
        "8 deflate streams per message (#20.2)",
        empty_deflate_streams,
        sizes=(1024, 64),
        flags=(COMPRESS, COMPRESS),
    ),
    Attack(
        "xff-spoof",
        "trustXForwardedFor counts from the proxy's end (#20.3)",
        xff_spoof,
        sizes=(1, 1),
        flags=(XFF_1, XFF_1),
    ),
    Attack(
        "wss-cleartext",
        "a wss:// client refuses a cleartext connection (#20.5)",
        wss_cleartext,
        sizes=(1, 1),
        client_side=True,
    ),
    Attack(
        "idle-connections",
        "memory per open connection",
        idle_connections,
        sizes=(10_000, 300),
        limit=240,
    ),
    Attack(
        "sigterm",
        "graceful shutdown, bounded by closeHandshakeTimeout",
        sigterm,
        sizes=(200, 40),
        flags=(("--close-handshake-timeout", "1"), ("--close-handshake-timeout", "1")),
        stops_server=True,
        limit=60,
    ),
)

#: the attacks .ci/run plays (small sizes), through tests/abuse/test_abuse.py
QUICK = (
    "slowloris",
    "oversized-handshake",
    "garbage",
    "deflate-bomb",
    "slow-reader",
    "connection-churn",
    "stopped-reader",
    "tiny-fragments",
    "empty-fragments",
    "empty-deflate-streams",
    "xff-spoof",
    "wss-cleartext",
    "idle-connections",
    "sigterm",
)


def by_name(name: str) -> Attack:
    for attack in ATTACKS:
        if attack.name == name:
            return attack
    raise KeyError(f"no attack {name!r} (known: {', '.join(a.name for a in ATTACKS)})")
