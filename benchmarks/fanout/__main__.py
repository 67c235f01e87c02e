"""``python -m benchmarks.fanout``: the command line (what is measured: the package docstring)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import fanout
from benchmarks.e2e.procstat import loadavg
from benchmarks.e2e.runner import write_json

from .driver import cases_for, cluster_possible, redis_installed, run_cases, start_fleet
from .messages import PAYLOAD_SIZE
from .processes import Fleet
from .report import print_tables, summarize


def drive(args: Any) -> int:
    """Start every process, measure, print the tables; every process is stopped at the end."""
    twisted = importlib.util.find_spec("twisted") is not None
    redis = redis_installed()
    autobahn = importlib.util.find_spec("autobahn") is not None
    if not twisted:
        print("twisted is not installed: leaving out the Twisted runtime")
    if not redis:
        print("redis-server is not installed: leaving out the two-node case")
    if not autobahn:
        print("autobahn is not installed: leaving out the Autobahn|Python (Twisted) peer")
    cluster = redis and not args.no_cluster and cluster_possible()
    if redis and not cluster and not args.no_cluster:
        print("redis-cli is not installed: leaving out the Redis Cluster case")
    cases = cases_for(twisted, redis, autobahn, cluster)
    load_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="wsproto_cb-fanout-") as tmp:
        fleet = Fleet(Path(tmp))
        try:
            start_fleet(fleet, cases, args.clients, twisted, redis)
            reps = run_cases(fleet, cases, args)
            rows = summarize(cases, reps)
            print_tables(rows, args, len(reps))
        except RuntimeError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            fleet.close()
    print(
        f"\nevery client received every message exactly once (length + CRC-32 per connection);"
        f" load average {load_start[0]:.2f} -> {loadavg()[0]:.2f}"
    )
    if args.json is not None:
        settings = {
            "clients": args.clients,
            "messages": args.messages,
            "payload_bytes": PAYLOAD_SIZE,
            "burst": args.burst,
            "window": args.window,
        }
        write_json(args.json, settings, load_start, {"summary": rows, "repetitions": reps})
    return 0


def main(argv: list[str] | None = None) -> int:
    about = (fanout.__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=about)
    p.add_argument("--quick", action="store_true", help="200 connections, 40 messages, 1 rep")
    p.add_argument("--clients", type=int, help="connections per case (default 1000)")
    p.add_argument("--messages", type=int, help="messages per run (default 200)")
    p.add_argument("--repeat", type=int, help="repetitions (default 5)")
    p.add_argument("--burst", type=int, default=10, help="messages per burst (default 10)")
    p.add_argument("--window", type=int, default=3, help="bursts ahead of the slowest client")
    p.add_argument("--json", type=Path, help="write every run and the summary here")
    p.add_argument(
        "--no-cluster", action="store_true", help="leave out the 3-master Redis Cluster cases"
    )
    args = p.parse_args(argv)
    quick = args.quick
    args.clients = args.clients or (200 if quick else 1000)
    args.messages = args.messages or (40 if quick else 200)
    args.repeat = args.repeat or (1 if quick else 5)
    if args.clients < 2 or args.messages < 1 or args.burst < 1 or args.window < 1:
        p.error("--clients must be at least 2; --messages, --burst, --window at least 1")
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
