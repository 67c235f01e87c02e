"""Parse and serialize rates of the sans-I/O cores: wsproto_cb, wsproto, websockets.

Usage::

    python benchmarks/core.py [--quick] [--json out.json]

Every library parses the same pre-built byte stream, fed in 64 KiB chunks as
a socket read would deliver it, and hands complete messages to the caller
(text validated as UTF-8); serializing builds the same frames.  Each figure
is the median of several repetitions, with the libraries interleaved so that
load from other processes hits them alike.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsproto_cb.core import masking
from wsproto_cb.core.connection import Connection
from wsproto_cb.core.frames import build_frame

try:
    import wsproto
    from wsproto.connection import Connection as WsprotoConnection
    from wsproto.connection import ConnectionType
    from wsproto.events import BytesMessage, TextMessage
except ImportError:  # pragma: no cover - optional comparison
    wsproto = None  # type: ignore[assignment]

try:
    import websockets
    from websockets.protocol import OPEN, Protocol, Side

    try:
        import websockets.speedups

        WEBSOCKETS_SPEEDUPS = True
    except ImportError:  # pragma: no cover
        WEBSOCKETS_SPEEDUPS = False
except ImportError:  # pragma: no cover - optional comparison
    websockets = None  # type: ignore[assignment]
    WEBSOCKETS_SPEEDUPS = False

CHUNK = 64 * 1024
MASK = b"\x37\xfa\x21\x3d"

# A parse function takes the chunks and returns (messages, payload bytes);
# a serialize function takes nothing and returns the number of frames built.
ParseFn = Callable[[list[bytes]], tuple[int, int]]


# ----------------------------------------------------------------- parsing


def parse_ours(is_server: bool, **options: Any) -> ParseFn:
    def run(chunks: list[bytes]) -> tuple[int, int]:
        conn = Connection(is_server, max_frame_size=0, max_message_size=0, **options)
        receive = conn.receive_data
        next_event: Callable[[], Any] = conn.next_event  # only MessageData here
        count = total = 0
        parts: list[bytes] = []
        for chunk in chunks:
            receive(chunk)
            while (event := next_event()) is not None:
                if event.message_end:
                    if parts:
                        parts.append(event.data)
                        data = b"".join(parts)
                        parts = []
                    else:
                        data = event.data
                    count += 1
                    total += len(data)
                else:
                    parts.append(event.data)
        return count, total

    return run


def parse_wsproto(is_server: bool) -> ParseFn:
    kind = ConnectionType.SERVER if is_server else ConnectionType.CLIENT

    def run(chunks: list[bytes]) -> tuple[int, int]:
        conn = WsprotoConnection(kind)
        count = total = 0
        parts: list[Any] = []
        for chunk in chunks:
            conn.receive_data(chunk)
            event: Any
            for event in conn.events():
                if event.message_finished:
                    if parts:
                        parts.append(event.data)
                        data = parts[0][:0].join(parts)
                        parts = []
                    else:
                        data = event.data
                    count += 1
                    total += len(data.encode() if isinstance(data, str) else data)
                else:
                    parts.append(event.data)
        return count, total

    return run


def parse_websockets(is_server: bool, decode_text: bool = True) -> ParseFn:
    """websockets' Protocol delivers frames; its connection layer decodes text."""
    side = Side.SERVER if is_server else Side.CLIENT

    def run(chunks: list[bytes]) -> tuple[int, int]:
        proto = Protocol(side, state=OPEN, max_size=None)
        count = total = 0
        for chunk in chunks:
            proto.receive_data(chunk)
            frame: Any
            for frame in proto.events_received():
                data = frame.data
                if decode_text and frame.opcode == 1:
                    data.decode()
                count += 1
                total += len(data)
        return count, total

    return run


# ------------------------------------------------------------- serializing


def serialize_ours(masked: bool, payload: bytes, is_binary: bool, n: int) -> Callable[[], int]:
    def run() -> int:
        send = Connection(not masked).send_message
        for _ in range(n):
            send(payload, is_binary)
        return n

    return run


def serialize_wsproto(masked: bool, payload: bytes, is_binary: bool, n: int) -> Callable[[], int]:
    kind = ConnectionType.CLIENT if masked else ConnectionType.SERVER
    event = BytesMessage(data=payload) if is_binary else TextMessage(data=payload.decode())

    def run() -> int:
        send = WsprotoConnection(kind).send
        for _ in range(n):
            send(event)
        return n

    return run


def serialize_websockets(
    masked: bool, payload: bytes, is_binary: bool, n: int
) -> Callable[[], int]:
    side = Side.CLIENT if masked else Side.SERVER

    def run() -> int:
        proto = Protocol(side, state=OPEN, max_size=None)
        send = proto.send_binary if is_binary else proto.send_text
        data_to_send = proto.data_to_send
        for _ in range(n):
            send(payload)
            data_to_send()
        return n

    return run


# ------------------------------------------------------------------ timing


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def measure(candidates: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Median seconds per run of each candidate, round-robin over repetitions."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():
        fn()  # warm up (imports, caches)
    for _ in range(reps):
        for name, fn in candidates.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def make_stream(payload: bytes, opcode: int, n: int, masked: bool) -> bytes:
    frame = build_frame(opcode, payload, mask=MASK if masked else None)
    return frame * n


def chunked(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def cases(quick: bool) -> list[dict[str, Any]]:
    small_n = 10_000
    big_n = 4 if quick else 16
    text64 = (b"The quick brown fox jumps over the lazy dog; " * 2)[:64]
    big = random.Random(1).randbytes(1 << 20)
    return [
        dict(name="64 B text, masked (client->server)", payload=text64, binary=False,
             masked=True, n=small_n, unit="frames/s"),
        dict(name="64 B text, unmasked (server->client)", payload=text64, binary=False,
             masked=False, n=small_n, unit="frames/s"),
        dict(name="1 MiB binary, masked (client->server)", payload=big, binary=True,
             masked=True, n=big_n, unit="MB/s"),
        dict(name="1 MiB binary, unmasked (server->client)", payload=big, binary=True,
             masked=False, n=big_n, unit="MB/s"),
    ]  # fmt: skip


def run_case(case: dict[str, Any], reps: int, libraries: list[str]) -> dict[str, Any]:
    payload, masked, n, is_binary = case["payload"], case["masked"], case["n"], case["binary"]
    stream = make_stream(payload, 2 if is_binary else 1, n, masked)
    chunks = chunked(stream)
    is_server = masked  # masked frames go to a server
    parsers: dict[str, ParseFn] = {"ours": parse_ours(is_server)}
    serializers: dict[str, Callable[[], int]] = {
        "ours": serialize_ours(masked, payload, is_binary, n)
    }
    if "wsproto" in libraries:
        parsers["wsproto"] = parse_wsproto(is_server)
        serializers["wsproto"] = serialize_wsproto(masked, payload, is_binary, n)
    if "websockets" in libraries:
        parsers["websockets"] = parse_websockets(is_server)
        serializers["websockets"] = serialize_websockets(masked, payload, is_binary, n)
    for name, parse in parsers.items():  # every parser must get the same answer
        got = parse(chunks)
        if got != (n, n * len(payload)):
            raise RuntimeError(f"{name} parsed {got}, expected {(n, n * len(payload))}")
    parse_runs: dict[str, Callable[[], object]] = {
        name: (lambda parse=parse: parse(chunks))  # type: ignore[misc]
        for name, parse in parsers.items()
    }
    parse_times = measure(parse_runs, reps)
    serialize_times = measure(dict(serializers), reps)
    return {
        "case": case["name"],
        "unit": case["unit"],
        "frames": n,
        "payload_bytes": len(payload),
        "parse_s": parse_times,
        "serialize_s": serialize_times,
    }


def rate(seconds: float, result: dict[str, Any]) -> float:
    frames: int = result["frames"]
    if result["unit"] == "MB/s":
        payload_bytes: int = result["payload_bytes"]
        return frames * payload_bytes / seconds / 1e6
    return frames / seconds


def fallback_masking(quick: bool, reps: int) -> dict[str, Any]:
    """Ours with the pure-Python mask, in a subprocess (WSPROTO_CB_NO_SPEEDUPS=1)."""
    env = dict(os.environ, WSPROTO_CB_NO_SPEEDUPS="1")
    cmd = [sys.executable, __file__, "--internal-fallback", "--reps", str(reps)]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def internal_fallback(quick: bool, reps: int) -> None:
    if masking.HAS_SPEEDUPS:
        raise SystemExit("WSPROTO_CB_NO_SPEEDUPS=1 did not disable the C mask")
    case = cases(quick)[2]
    print(json.dumps(run_case(case, reps, libraries=[])))


def format_cell(seconds: float, result: dict[str, Any]) -> str:
    per_op = seconds / result["frames"] * 1e9
    per = f"{per_op:,.0f} ns" if per_op < 1e6 else f"{per_op / 1e6:,.2f} ms"
    unit = "f/s" if result["unit"] == "frames/s" else "MB/s"
    return f"{rate(seconds, result):,.0f} {unit} {per:>9}"


def print_table(results: list[dict[str, Any]], fallback: dict[str, Any] | None) -> None:
    """Rates with time per frame; the ratio compares ours with the best other library."""
    names = ["ours", "wsproto", "websockets"]
    width = 28
    header = f"{'case':40} {'op':9} " + "".join(f"{n:>{width}}" for n in names) + "   ours/best"
    print(header)
    print("-" * len(header))
    rows = [(r, r["case"]) for r in results]
    if fallback is not None:
        rows.append((fallback, "1 MiB masked, pure-Python mask"))
    for result, label in rows:
        for op in ("parse", "serialize"):
            times = result[f"{op}_s"]
            cells = "".join(
                f"{format_cell(times[n], result) if n in times else '-':>{width}}" for n in names
            )
            others = [rate(t, result) for k, t in times.items() if k != "ours"]
            ratio = f"{rate(times['ours'], result) / max(others):10.2f}x" if others else ""
            print(f"{label:40} {op:9} {cells} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and frames")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default 3/7)")
    parser.add_argument("--internal-fallback", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 7)
    if args.internal_fallback:
        internal_fallback(args.quick, reps)
        return

    libraries = []
    if wsproto is not None:
        libraries.append("wsproto")
    if websockets is not None:
        libraries.append("websockets")
    from importlib.metadata import version

    info = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "wsproto_cb_c_mask": masking.HAS_SPEEDUPS,
        "wsproto": version("wsproto") if wsproto is not None else None,
        "websockets": version("websockets") if websockets is not None else None,
        "websockets_speedups": WEBSOCKETS_SPEEDUPS,
        "chunk": CHUNK,
        "reps": reps,
    }
    print(", ".join(f"{k}={v}" for k, v in info.items()))
    if not masking.HAS_SPEEDUPS:
        print("warning: wsproto_cb's C mask is not in use (build it or unset the env var)")
    if websockets is not None and not WEBSOCKETS_SPEEDUPS:
        print("warning: websockets.speedups is not importable: websockets masks in Python")
    results = [run_case(case, reps, libraries) for case in cases(args.quick)]
    fallback = fallback_masking(args.quick, reps)
    print()
    print_table(results, fallback)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"info": info, "results": results, "fallback": fallback}, indent=2)
        )


if __name__ == "__main__":
    main()
