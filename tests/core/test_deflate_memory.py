"""Memory of permessage-deflate per connection, measured as RSS in a subprocess.

zlib allocates with ``malloc``, which ``tracemalloc`` does not see, so each
measurement builds many objects in a fresh interpreter and divides the growth
of the resident set by their number.  Objects are "warm": they have
compressed or inflated more than their window, so every page a long-lived
connection would touch is touched.

``python tests/core/test_deflate_memory.py`` prints the tables of
``docs/compression.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in the subprocess: argv = kind, count, then kind-specific arguments.
_PROBE = r"""
import gc, json, os, random, sys, zlib

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

rnd = random.Random(7)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
         for _ in range(4000)]
def text(n):
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + b" "
    return bytes(out[:n])

kind, count = sys.argv[1], int(sys.argv[2])
msg = text(3 << 15)
keep = []
if kind == "zlib":
    wbits, mem_level = int(sys.argv[3]), int(sys.argv[4])
    stream = zlib.compressobj(-1, zlib.DEFLATED, -wbits, mem_level)
    data = stream.compress(msg) + stream.flush(zlib.Z_SYNC_FLUSH)
    gc.collect(); before = rss()
    for _ in range(count):
        c = zlib.compressobj(-1, zlib.DEFLATED, -wbits, mem_level)
        c.compress(msg); c.flush(zlib.Z_SYNC_FLUSH)
        keep.append(c)
    middle = rss()
    for _ in range(count):
        d = zlib.decompressobj(-wbits)
        d.decompress(data)
        keep.append(d)
    after = rss()
    print(json.dumps({"compress": (middle - before) / count,
                      "decompress": (after - middle) / count}))
else:
    from wsproto_cb.core.deflate import (
        PerMessageDeflateOffer, accept_deflate_offer, negotiate_server,
        PerMessageDeflateOfferAccept,
    )
    offer = [("permessage-deflate", [("client_max_window_bits", None)])]
    if kind == "default":
        choose = accept_deflate_offer
    elif kind == "autobahn":
        choose = lambda offers: PerMessageDeflateOfferAccept(offers[0])
    elif kind == "explicit-15-8":
        choose = lambda offers: PerMessageDeflateOfferAccept(
            offers[0], window_bits=15, mem_level=8)
    else:  # "no-context-takeover"
        choose = lambda offers: PerMessageDeflateOfferAccept(
            offers[0], request_no_context_takeover=True, no_context_takeover=True,
            request_max_window_bits=12, window_bits=12, mem_level=5)
    # What a client sends: one warm message compressed with the agreed window.
    probe, _ = negotiate_server(offer, choose)
    peer = zlib.compressobj(-1, zlib.DEFLATED, -probe.client_max_window_bits)
    payload = (peer.compress(msg) + peer.flush(zlib.Z_SYNC_FLUSH))[:-4]
    gc.collect(); before = rss()
    for _ in range(count):
        codec, _ = negotiate_server(offer, choose)
        codec.start_compress_message()
        codec.compress_message_data(msg)
        codec.end_compress_message()
        codec.start_decompress_message()
        codec.decompress_message_data(payload, 0)
        codec.end_decompress_message(0)
        keep.append(codec)
    after = rss()
    print(json.dumps({"connection": (after - before) / count}))
"""


def measure(kind: str, count: int, *args: int) -> dict[str, float]:
    """Bytes per object of ``kind``, from a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, kind, str(count), *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    result: dict[str, float] = json.loads(proc.stdout)
    return result


linux_only = pytest.mark.skipif(
    not Path("/proc/self/statm").exists(), reason="RSS is read from /proc"
)


@linux_only
def test_idle_connection_with_default_server_settings_is_well_under_64_kib() -> None:
    per_connection = measure("default", 400)["connection"]
    assert per_connection < 56 * 1024, per_connection


@linux_only
def test_no_context_takeover_keeps_no_zlib_state_between_messages() -> None:
    lean = measure("no-context-takeover", 400)["connection"]
    assert lean < 4 * 1024, lean


@linux_only
def test_measurement_sees_zlib_memory() -> None:
    """Guards the tests above: the probe must see zlib's malloc at all."""
    explicit = measure("explicit-15-8", 200)["connection"]
    assert explicit > 200 * 1024, explicit  # 15 bits, memLevel 8: ~300 KiB


@linux_only
def test_an_accept_with_no_arguments_compresses_lean() -> None:
    """Autobahn's ``PerMessageDeflateOfferAccept(offer)``: our compressor takes
    window 12 and memLevel 5 (the inflater still needs the client's 15 bits)."""
    autobahn = measure("autobahn", 200)["connection"]
    assert autobahn < 100 * 1024, autobahn  # was ~300 KiB with zlib's 15 and 8


def _print_tables() -> None:
    print("| window bits | " + " | ".join(f"memLevel {m}" for m in range(1, 10)) + " | inflate |")
    print("|---" * 11 + "|")
    for wbits in range(9, 16):
        cells = []
        inflate = 0.0
        for mem_level in range(1, 10):
            result = measure("zlib", 300, wbits, mem_level)
            cells.append(f"{result['compress'] / 1024:.0f}")
            inflate = result["decompress"]
        print(f"| {wbits} | " + " | ".join(cells) + f" | {inflate / 1024:.0f} |")
    print()
    for kind in ("default", "autobahn", "no-context-takeover"):
        kib = measure(kind, 300)["connection"] / 1024
        print(f"{kind}: {kib:.1f} KiB per idle connection")


if __name__ == "__main__":
    _print_tables()
