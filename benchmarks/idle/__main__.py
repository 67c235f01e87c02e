"""``python -m benchmarks.idle``: many idle connections to one server process, and its memory.

For each runtime (asyncio, Twisted) and variant (plain, permessage-deflate
negotiated), one server process (benchmarks/idle/server.py, pinned to core
0) takes ``--connections`` WebSocket connections from client processes
(benchmarks/idle/clients.py, pinned to core 1), each on its own loopback
source address 127.0.0.x so that none runs out of ephemeral ports or file
descriptors.  The connections then stay idle: no message, no ping.  The
figure is the server's resident memory (VmRSS) before and after, divided by
the number of connections.

Every process raises its RLIMIT_NOFILE to the hard limit.  The server needs
one descriptor per connection; when the hard limit is lower than that, the
run refuses to start and says so (raising a hard limit needs root with
CAP_SYS_RESOURCE: ``ulimit -Hn``, systemd's ``LimitNOFILE=``).  Every phase
is bounded in time, and every process is stopped by PID at the end, on
errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.e2e.procstat import loadavg
from benchmarks.fanout.processes import Child, pin

SERVER_MODULE = "benchmarks.idle.server"
CLIENT_MODULE = "benchmarks.idle.clients"
WARMUP = 256  # connections opened and closed first: first-use caches are not per connection
SETTLE = 2.0  # seconds between the last handshake and the memory reading
SPARE_FDS = 64  # descriptors a process needs besides its connections
MIB = 1024 * 1024


def _wait_for_conns(server: Child, count: int, timeout: float) -> dict[str, int]:
    """The server's status once it holds ``count`` connections (within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        status = server.status()
        if status["conns"] == count or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def measure(args: argparse.Namespace, runtime: str, variant: str, logdir: Path) -> dict[str, Any]:
    """One server process, ``args.connections`` idle connections: its memory before and after."""
    n = args.connections
    per_client = math.ceil(n / args.clients)
    flags = [runtime, "--autoping", str(args.autoping)] + (
        ["--compress"] if variant == "deflate" else []
    )
    offer = "1" if variant == "deflate" else "0"
    children: list[Child] = []
    try:
        server = Child(f"server-{runtime}-{variant}", SERVER_MODULE, flags, logdir)
        children.append(server)
        port = int(server.expect("READY", 60)[1])
        pin(server.pid, {0})
        clients = []
        for i in range(args.clients):
            child = Child(f"clients-{i}", CLIENT_MODULE, [f"127.0.0.{10 + i}"], logdir)
            children.append(child)
            pin(child.pid, {1})
            clients.append(child)
        clients[0].send(f"open {port} {WARMUP} {offer}")
        clients[0].expect("opened", 60)
        clients[0].send("close")
        clients[0].expect("closed")
        before = _wait_for_conns(server, 0, 30)
        time.sleep(SETTLE)
        before = server.status()
        t0 = time.monotonic()
        for child in clients:
            child.send(f"open {port} {per_client} {offer}")
        for child in clients:
            child.expect("opened", args.timeout)
        open_s = time.monotonic() - t0
        time.sleep(SETTLE)
        idle = _wait_for_conns(server, per_client * args.clients, 30)
        for child in clients:
            child.send("check")
            child.expect("ok")
        held = idle["conns"]
        if held != per_client * args.clients or idle["open"] != held:
            raise RuntimeError(f"the server holds {held} connections ({idle['open']} open)")
        for child in clients:
            child.send("close")
            child.expect("closed", 60)
        after = _wait_for_conns(server, 0, 60)
    finally:
        for child in reversed(children):
            child.stop()
    grown = idle["rss"] - before["rss"]
    return {
        "runtime": runtime,
        "variant": variant,
        "connections": held,
        "open_seconds": open_s,
        "handshakes_per_second": held / open_s,
        "rss_before": before["rss"],
        "rss_idle": idle["rss"],
        "rss_after_close": after["rss"],
        "kib_per_connection": grown / held / 1024,
        "loadavg": loadavg(),
    }


def _table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'server':<14}{'variant':<9}{'connections':>12}{'open s':>8}{'RSS before':>12}"
        f"{'RSS idle':>11}{'KiB/conn':>10}{'RSS closed':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        before, idle, closed = (r[k] / MIB for k in ("rss_before", "rss_idle", "rss_after_close"))
        lines.append(
            f"{'ours-' + r['runtime']:<14}{r['variant']:<9}{r['connections']:>12,}"
            f"{r['open_seconds']:>8.1f}{before:>8.1f} MiB{idle:>7.1f} MiB"
            f"{r['kib_per_connection']:>10.2f}{closed:>8.1f} MiB"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--runtimes", default="asyncio,twisted")
    parser.add_argument("--variants", default="plain,deflate")
    parser.add_argument(
        "--clients",
        type=int,
        default=0,
        help="client processes (default: one per 15,000 connections)",
    )
    parser.add_argument(
        "--autoping", type=float, default=0.0, help="autoPingInterval (default 0: off)"
    )
    parser.add_argument("--timeout", type=float, default=0.0, help="bound on opening them all (s)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.connections
    args.clients = args.clients or max(1, math.ceil(n / 15_000))
    args.timeout = args.timeout or 60 + n / 500  # (at least 500 handshakes a second)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    need = n + SPARE_FDS
    per_client = math.ceil(n / args.clients) + SPARE_FDS
    if hard != resource.RLIM_INFINITY and (hard < need or hard < per_client):
        sys.exit(
            f"RLIMIT_NOFILE's hard limit here is {hard:,}: the server needs {need:,} descriptors"
            f" for {n:,} connections (and each client process {per_client:,}). Raise it (root"
            " with CAP_SYS_RESOURCE: ulimit -Hn, systemd LimitNOFILE=) or run fewer:"
            f" --connections {hard - SPARE_FDS:,}"
        )
    if args.clients > 240:
        sys.exit("at most 240 client processes (source addresses 127.0.0.10-249)")
    results = []
    with tempfile.TemporaryDirectory(prefix="wsbench-idle-") as tmp:
        for runtime in args.runtimes.split(","):
            for variant in args.variants.split(","):
                print(f"{runtime} {variant}: {n:,} connections ...", flush=True)
                result = measure(args, runtime, variant, Path(tmp))
                print(f"  {result['kib_per_connection']:.2f} KiB per idle connection", flush=True)
                results.append(result)
    print()
    print(
        f"{n:,} idle connections to one server process; CPython {platform.python_version()},"
        f" {args.clients} client processes, autoPingInterval {args.autoping:g}"
    )
    print(_table(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=1
            )
        )


if __name__ == "__main__":
    main()
