"""What permessage-deflate costs a broadcast: one message to 1,000 connections.

Usage::

    python benchmarks/broadcast_deflate.py [--quick] [--recipients N] [--json out.json]

In memory, no sockets: 1,000 server connections are built the way the
server factory builds them (``negotiate_server`` with the ready-made
``accept_deflate_offer``, then ``factory._make_connection``), and each case
does, per message, what ``factory.broadcast`` does before the transport
write:

- ``plain shared``: clients without permessage-deflate; one
  ``PreparedMessage`` and ``frame_for(conn)`` per recipient (the
  uncompressed frame, built once);
- ``deflate shared``: clients that asked ``server_no_context_takeover``;
  the same calls, now returning one compressed frame built once;
- ``deflate per-connection, no takeover``: the same clients, each
  compressing on its own (``conn.send_message``, which is what
  ``frame_for`` returning ``None`` made broadcast do before frames were
  shared);
- ``deflate per-connection, takeover``: clients with context takeover
  (the default), which must compress per connection (``send_message``).

The payloads are ~1 KiB JSON messages that differ from one message to the
next (a rotating set of 32), so context takeover sees realistic history.
Each figure is the median over repetitions, cases interleaved, garbage
collector off while timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsproto_cb.asyncio import WebSocketServerFactory
from wsproto_cb.core.connection import Connection
from wsproto_cb.core.deflate import accept_deflate_offer, negotiate_server
from wsproto_cb.prepared import PreparedMessage

Offer = list[tuple[str, str | None]]

NCT_OFFER: Offer = [("server_no_context_takeover", None), ("client_max_window_bits", None)]
TAKEOVER_OFFER: Offer = [("client_max_window_bits", None)]


def messages(count: int, seed: int = 1) -> list[bytes]:
    """~1 KiB JSON messages, alike in shape, different in values."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        items = [
            {
                "symbol": rng.choice(["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META"]),
                "bid": round(rng.uniform(10, 500), 2),
                "ask": round(rng.uniform(10, 500), 2),
                "volume": rng.randrange(1_000_000),
            }
            for _ in range(15)
        ]
        out.append(json.dumps({"type": "quotes", "seq": n, "items": items}).encode())
    return out


def connections(count: int, offer: Offer | None) -> list[Connection]:
    factory = WebSocketServerFactory("ws://127.0.0.1")
    factory.setProtocolOptions(perMessageCompressionAccept=accept_deflate_offer)
    conns = []
    for _ in range(count):
        codec = None
        if offer is not None:
            codec, _header = negotiate_server([("permessage-deflate", offer)], accept_deflate_offer)
        conns.append(factory._make_connection(True, codec))
    return conns


# A case takes one payload and returns the bytes a recipient gets.
Case = Callable[[bytes], int]


def shared(conns: list[Connection]) -> Case:
    def run(payload: bytes) -> int:
        prepared = PreparedMessage(payload)
        frame: bytes | None = b""
        for conn in conns:
            frame = prepared.frame_for(conn)
        if frame is None:
            raise SystemExit("expected a shared frame")
        return len(frame)

    return run


def per_connection(conns: list[Connection]) -> Case:
    def run(payload: bytes) -> int:
        frame = b""
        for conn in conns:
            frame = conn.send_message(payload)
        return len(frame)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="3 repetitions of 8 messages")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    reps, per_rep = (3, 8) if args.quick else (7, 32)
    n = args.recipients
    payloads = messages(32)

    cases: dict[str, Case] = {
        "plain shared": shared(connections(n, None)),
        "deflate shared (no takeover)": shared(connections(n, NCT_OFFER)),
        "deflate per-connection, no takeover": per_connection(connections(n, NCT_OFFER)),
        "deflate per-connection, takeover": per_connection(connections(n, TAKEOVER_OFFER)),
    }
    # warm up: one round, and give the takeover compressors their history
    wire: dict[str, list[int]] = {name: [] for name in cases}
    for name, case in cases.items():
        for payload in payloads:
            wire[name].append(case(payload))
    times: dict[str, list[float]] = {name: [] for name in cases}
    for rep in range(reps):
        for name, case in cases.items():
            batch = [payloads[(rep * per_rep + i) % len(payloads)] for i in range(per_rep)]
            gc.disable()
            start = time.perf_counter()
            for payload in batch:
                case(payload)
            elapsed = time.perf_counter() - start
            gc.enable()
            times[name].append(elapsed / per_rep)

    mean_payload = statistics.mean(len(p) for p in payloads)
    print(
        f"broadcast of one ~{mean_payload:.0f}-byte JSON message to {n} connections"
        f" (median of {reps} x {per_rep} messages)"
    )
    print(
        f"Python {platform.python_version()}, zlib {zlib.ZLIB_RUNTIME_VERSION},"
        f" {platform.machine()}; server deflate: accept_deflate_offer (window 12, memLevel 5)"
    )
    base = statistics.median(times["plain shared"])
    rows: list[dict[str, Any]] = []
    header = ("case", "ms/message", "us/recipient", "x plain", "bytes/recipient")
    print(f"{header[0]:<38} {header[1]:>10} {header[2]:>12} {header[3]:>8} {header[4]:>15}")
    for name in cases:
        t = statistics.median(times[name])
        size = statistics.mean(wire[name])
        rows.append(
            {
                "case": name,
                "seconds_per_message": t,
                "us_per_recipient": t / n * 1e6,
                "ratio_to_plain": t / base,
                "bytes_per_recipient": size,
            }
        )
        print(f"{name:<38} {t * 1e3:>10.3f} {t / n * 1e6:>12.3f} {t / base:>8.1f} {size:>15.0f}")
    shared_t = statistics.median(times["deflate shared (no takeover)"])
    for name in ("deflate per-connection, no takeover", "deflate per-connection, takeover"):
        print(f"{name} / deflate shared: {statistics.median(times[name]) / shared_t:.0f}x")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"recipients": n, "payload_bytes": mean_payload, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
