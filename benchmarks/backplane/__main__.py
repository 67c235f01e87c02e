"""``python -m benchmarks.backplane``: the command line (what is measured: the package doc)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import backplane
from benchmarks.e2e.procstat import loadavg
from benchmarks.e2e.runner import write_json

from .driver import PUBSUB_LIMIT, Bench, available_kinds, run_all
from .messages import PAYLOAD_SIZE
from .report import print_tables, summarize


def drive(args: Any) -> int:
    """Start redis-server, measure every kind and load, print the tables; stop everything."""
    kinds, notes = available_kinds()
    for note in notes:
        print(note)
    load_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="wsproto_cb-backplane-") as tmp:
        try:
            bench = Bench(Path(tmp))
        except RuntimeError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        try:
            records = run_all(bench, kinds, args)
        except RuntimeError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            bench.close()
    rows = summarize(kinds, records)
    print_tables(rows)
    print(
        f"every subscriber that was not cut off received every message exactly once, in order;"
        f" client-output-buffer-limit {PUBSUB_LIMIT}; load average"
        f" {load_start[0]:.2f} -> {loadavg()[0]:.2f}"
    )
    if args.json is not None:
        settings = {
            "messages": args.messages,
            "payload_bytes": PAYLOAD_SIZE,
            "rates": args.rates,
            "subscribers": args.subscribers,
            "batch": args.batch,
            "client_output_buffer_limit": PUBSUB_LIMIT,
        }
        results = {"summary": rows, "measurements": records}
        write_json(args.json, settings, load_start, results, extra_versions=("redis", "hiredis"))
    return 0


def _numbers(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    about = (backplane.__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(prog="python -m benchmarks.backplane", description=about)
    p.add_argument("--quick", action="store_true", help="20,000 messages at 100k/s, 1 repetition")
    p.add_argument("--messages", type=int, help="messages per measurement (default 200,000)")
    p.add_argument(
        "--rate", type=_numbers, help="offered msgs/s, comma-separated, 0: unlimited (50000,100000)"
    )
    p.add_argument("--subscribers", type=_numbers, help="subscriber counts (default 1,4)")
    p.add_argument("--repeat", type=int, help="repetitions (default 3, --quick 1)")
    p.add_argument("--batch", type=int, default=100, help="PUBLISH commands per write (100)")
    p.add_argument("--json", type=Path, help="write every measurement and the summary here")
    args = p.parse_args(argv)
    quick = args.quick
    args.messages = args.messages or (20_000 if quick else 200_000)
    args.rates = args.rate or ([100_000] if quick else [50_000, 100_000])
    args.subscribers = args.subscribers or [1, 4]
    args.repeat = args.repeat or (1 if quick else 3)
    if args.messages < 2 or args.batch < 1 or args.repeat < 1:
        p.error("--messages must be at least 2, --batch and --repeat at least 1")
    if min(args.rates) < 0 or min(args.subscribers) < 1:
        p.error("--rate must be >= 0 and --subscribers >= 1")
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
