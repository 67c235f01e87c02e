"""``python -m benchmarks.e2e``: start the servers, drive each scenario, report.

Servers run on core 0 (``taskset -c 0``), the driver on core 1.  Within a
scenario all servers run side by side (idle but one) and every repetition
goes through them in a rotated order, so slow drift in the machine's load
spreads over all of them; S6 starts a fresh server for every repetition.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from . import report
from .procstat import loadavg
from .report import RunDef
from .servers import (
    DRIVER_CORE,
    ROOT,
    SERVERS,
    ServerProcess,
    ServerSpec,
    baseline_spec,
    child_env,
    die_with_parent,
    pin_command,
    unavailable_reason,
)

__all__ = ["RUNS", "main"]

RUNS: list[RunDef] = [
    RunDef(
        "S1",
        "S1",
        "",
        "one connection, 64 B text ping-pong",
        "round trips/s",
        "msg",
        (1, 1),
        (0.5, 0.2),
        (3.0, 1.0),
        (300_000, 100_000),
        extras=(("p50_us", "p50 us", ",.0f"), ("p99_us", "p99 us", ",.0f")),
    ),
    RunDef(
        "S2",
        "S2",
        "",
        "100 connections, 64 B text, one message in flight each",
        "msg/s",
        "msg",
        (100, 100),
        (1.0, 0.3),
        (3.0, 1.0),
        (2_000_000, 500_000),
    ),
    RunDef(
        "S3",
        "S3",
        "",
        "one connection, 1 MiB binary messages echoed one at a time",
        "MB/s",
        "msg",
        (1, 1),
        (0.5, 0.2),
        (3.0, 1.0),
        (20_000, 5_000),
        extras=(("p50_ms", "RTT p50 ms", ".2f"), ("max_ms", "RTT max ms", ".1f")),
    ),
    RunDef(
        "S4-deflate",
        "S4",
        "deflate",
        "100 connections, ~2 KB JSON text, permessage-deflate (browser offer)",
        "msg/s",
        "msg",
        (100, 100),
        (1.0, 0.3),
        (3.0, 1.0),
        (2_000_000, 500_000),
        deflate=True,
        ws_only=True,
        extras=(("client_frame_bytes", "client frame B", ",.0f"),),
    ),
    RunDef(
        "S4-plain",
        "S4",
        "plain",
        "100 connections, ~2 KB JSON text, no compression",
        "msg/s",
        "msg",
        (100, 100),
        (1.0, 0.3),
        (3.0, 1.0),
        (2_000_000, 500_000),
    ),
    RunDef(
        "S5",
        "S5",
        "",
        "open + handshake + close handshake + TCP close, 10 at a time",
        "conn/s",
        "conn",
        (10, 10),
        (0.5, 0.2),
        (3.0, 1.0),
        (30_000, 10_000),
        ws_only=True,
    ),
    RunDef(
        "S6-plain",
        "S6",
        "plain",
        "server RSS per idle connection, no compression",
        "KiB/conn",
        "conn",
        (2000, 500),
        (0, 0),
        (0, 0),
        (0, 0),
        fresh_per_rep=True,
        extras=(("after_msg_kib", "KiB/conn after 1 msg", ".1f"),),
    ),
    RunDef(
        "S6-deflate",
        "S6",
        "deflate",
        "server RSS per idle connection, permessage-deflate negotiated",
        "KiB/conn",
        "conn",
        (2000, 500),
        (0, 0),
        (0, 0),
        (0, 0),
        deflate=True,
        ws_only=True,
        fresh_per_rep=True,
        extras=(("after_msg_kib", "KiB/conn after 1 msg", ".1f"),),
    ),
]


def select_runs(wanted: str | None) -> list[RunDef]:
    if not wanted:
        return list(RUNS)
    names = [w.strip().upper() for w in wanted.split(",") if w.strip()]
    chosen = [r for r in RUNS if r.id.upper() in names or r.scenario in names]
    unknown = [n for n in names if not any(n in (r.id.upper(), r.scenario) for r in RUNS)]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {[r.id for r in RUNS]}")
    return chosen


def applies(run: RunDef, spec: ServerSpec) -> str | None:
    """Why a server sits out a run (None: it takes part)."""
    if spec.raw and run.ws_only:
        return "no WebSocket"
    if run.deflate and not spec.deflate:
        return "no permessage-deflate"
    return None


def run_driver(cfg: dict[str, Any]) -> dict[str, Any]:
    argv = [sys.executable, "-m", "benchmarks.e2e.driver", json.dumps(cfg)]
    try:
        proc = subprocess.run(
            pin_command(DRIVER_CORE, argv),
            capture_output=True,
            timeout=cfg["timeout"] + 15,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
    except subprocess.TimeoutExpired:
        return {"error": "driver timed out"}
    lines = proc.stdout.decode(errors="replace").strip().splitlines()
    if not lines:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return {"error": f"driver exit {proc.returncode}: {err[-1] if err else 'no output'}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def driver_cfg(run: RunDef, spec: ServerSpec, srv: ServerProcess, quick: bool) -> dict[str, Any]:
    q = 1 if quick else 0
    duration = run.duration[q]
    return {
        "scenario": run.scenario,
        "variant": run.variant,
        "port": srv.port,
        "pid": srv.pid,
        "raw": spec.raw,
        "conns": run.conns[q],
        "warmup": run.warmup[q],
        "duration": duration,
        "max_ops": run.max_ops[q],
        "timeout": int(60 + 3 * duration + run.conns[q] / 20),
    }


def progress(run: RunDef, rep: int, reps: int, name: str, r: dict[str, Any]) -> None:
    if "error" in r:
        text = f"ERROR {r['error']}"
    elif run.scenario == "S6":
        text = f"{r['idle_kib']:.1f} KiB/conn idle, {r['after_msg_kib']:.1f} after 1 msg"
    else:
        text = (
            f"{r['rate']:,.1f} {run.unit}, server {r['server_us_per_op'] or 0:,.1f} us/{run.op}"
            f" ({r['server_share']:.0%}), driver {r['driver_us_per_op'] or 0:,.1f} us/{run.op}"
            f" ({r['driver_share']:.0%})"
        )
    print(f"  {run.id} rep {rep + 1}/{reps} {name:<17} {text}", file=sys.stderr, flush=True)


class Session:
    """Every server process this run started, so that all are stopped at the end."""

    def __init__(self, logdir: Path, max_seconds: float) -> None:
        self.logdir = logdir
        self.max_seconds = max_seconds
        self.live: list[ServerProcess] = []

    def start(self, spec: ServerSpec) -> ServerProcess:
        srv = ServerProcess(spec, self.logdir, self.max_seconds)
        self.live.append(srv)
        srv.wait_ready()
        srv.prime()
        return srv

    def stop(self, srv: ServerProcess) -> None:
        srv.stop()
        if srv in self.live:
            self.live.remove(srv)

    def stop_all(self) -> None:
        for srv in list(self.live):
            self.stop(srv)


def run_one(
    session: Session, run: RunDef, spec: ServerSpec, srv: ServerProcess | None, quick: bool
) -> dict[str, Any]:
    own = srv is None
    try:
        if srv is None:
            srv = session.start(spec)
        if not srv.alive():
            return {"error": f"server died:\n{srv.log_tail()}"}
        result = run_driver(driver_cfg(run, spec, srv, quick))
        if "error" in result and not srv.alive():
            result["error"] += f" (server died: {srv.log_tail(5)})"
        return result
    except RuntimeError as exc:
        return {"error": str(exc)}
    finally:
        if own and srv is not None:
            session.stop(srv)


def run_all(
    session: Session,
    runs: list[RunDef],
    specs: list[ServerSpec],
    reps: int,
    quick: bool,
    results: report.Results,
    loads: dict[str, list[float]],
) -> None:
    for run in runs:
        loads[run.id] = loadavg()
        print(f"{run.id}: {run.title}  (load average {loads[run.id]})", file=sys.stderr)
        entries: dict[str, dict[str, Any]] = {}
        active: list[ServerSpec] = []
        for spec in specs:
            why = applies(run, spec)
            entries[spec.name] = {"reps": [], "skipped": why} if why else {"reps": []}
            if not why:
                active.append(spec)
        results[run.id] = entries
        running: dict[str, ServerProcess] = {}
        try:
            if not run.fresh_per_rep:
                for spec in active:
                    try:
                        running[spec.name] = session.start(spec)
                    except RuntimeError as exc:
                        entries[spec.name]["reps"].append({"error": str(exc)})
            for rep in range(reps):
                k = rep % max(1, len(active))
                for spec in active[k:] + active[:k]:
                    srv = running.get(spec.name)
                    if not run.fresh_per_rep and srv is None:
                        continue
                    r = run_one(session, run, spec, srv, quick)
                    r["load_avg"] = loadavg()
                    entries[spec.name]["reps"].append(r)
                    progress(run, rep, reps, spec.name, r)
        finally:
            for srv in running.values():
                session.stop(srv)
        for entry in entries.values():
            entry["summary"] = report.summarize(entry["reps"])
        print(report.format_table(run, entries) + "\n", flush=True)


PEERS = ("wsproto_cb", "autobahn", "twisted", "websockets", "aiohttp", "picows", "uvloop")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The interpreter and the installed distributions a figure depends on, plus ``extra``."""
    out = {"python": platform.python_version(), "implementation": platform.python_implementation()}
    for dist in PEERS + extra:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    try:
        from wsproto_cb.core import masking

        out["wsproto_cb_c_mask"] = str(masking.HAS_SPEEDUPS)
    except ImportError:
        pass
    return out


def write_json(
    path: Path,
    settings: dict[str, Any],
    load_start: Sequence[float],
    results: dict[str, Any],
    extra_versions: tuple[str, ...] = (),
) -> None:
    """A results file: the settings, versions and load average around the run, then the results."""
    out = settings | {
        "versions": versions(extra_versions),
        "load_avg_start": load_start,
        "load_avg_end": loadavg(),
    }
    path.write_text(json.dumps(out | results, indent=2))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.e2e", description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="short runs, 1 repetition, 500 conns in S6")
    p.add_argument("--servers", help=f"comma-separated, of: {','.join(SERVERS)}")
    p.add_argument("--scenarios", help="comma-separated: S1..S6 or S4-deflate, S6-plain ...")
    p.add_argument("--reps", type=int, help="repetitions (default 3, --quick 1)")
    p.add_argument("--json", metavar="FILE", help="write all results and metadata as JSON")
    p.add_argument(
        "--plot",
        metavar="DIR",
        help="draw one chart per scenario into DIR (PNG; needs matplotlib: the benchmarks extra)",
    )
    p.add_argument(
        "--from-json",
        metavar="FILE",
        help="with --plot: draw a results file written earlier by --json instead of running",
    )
    p.add_argument(
        "--baseline",
        metavar="TREE",
        help="also run each ours-* server from this checkout (e.g. a git worktree of the last"
        " release, its C extension built), as NAME@baseline, for before/after in one run",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="instead of benchmarking: profile our servers (py-spy; S2, S3, S4 by default)",
    )
    p.add_argument(
        "--native",
        action="store_true",
        help="with --profile: sample C frames too (py-spy --native), to see where time"
        " inside the loop, the kernel calls and the C extension goes",
    )
    return p.parse_args(argv)


def plot(doc: dict[str, Any], outdir: str) -> None:
    """Draw the charts of a results document (see :mod:`benchmarks.e2e.charts`)."""
    from .charts import plot_results

    for path in plot_results(doc, Path(outdir)):
        print(f"chart written to {path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        if not args.plot:
            raise SystemExit("--from-json only makes sense with --plot DIR")
        plot(json.loads(Path(args.from_json).read_text()), args.plot)
        return 0
    if (os.cpu_count() or 1) > DRIVER_CORE:
        os.sched_setaffinity(0, {DRIVER_CORE})  # the runner stays off the server's core
    names = [n.strip() for n in (args.servers or ",".join(SERVERS)).split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; known: {list(SERVERS)}")
    specs, missing = [], {}
    for name in names:
        why = unavailable_reason(SERVERS[name])
        if why:
            missing[name] = why
            print(f"skipping {name}: {why}", file=sys.stderr)
        else:
            specs.append(SERVERS[name])
    if args.baseline:
        tree = Path(args.baseline).resolve()
        if not (tree / "benchmarks" / "servers").is_dir():
            raise SystemExit(f"--baseline {tree}: no benchmarks/servers/ there")
        specs += [baseline_spec(s, tree) for s in list(specs) if s.name.startswith("ours-")]
    runs = select_runs(args.scenarios)
    reps = args.reps or (1 if args.quick else 3)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with it ignored
    logdir = Path(tempfile.mkdtemp(prefix="wsbench-"))
    session = Session(logdir, max_seconds=3600)
    if args.profile:
        from .profiling import profile_ours

        try:
            ids = [r.id for r in runs] if args.scenarios else None
            return profile_ours(
                session,
                Path(args.profile),
                [s.name for s in specs],
                args.quick,
                ids,
                native=args.native,
            )
        finally:
            session.stop_all()
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "versions": versions(),
        "cpus": os.cpu_count(),
        "reps": reps,
        "quick": args.quick,
        "unavailable": missing,
        "load_avg_start": loadavg(),
        "server_logs": str(logdir),
    }
    print(f"load average at start: {meta['load_avg_start']}", file=sys.stderr)
    results: report.Results = {}
    loads: dict[str, list[float]] = {}
    interrupted = False
    try:
        run_all(session, runs, specs, reps, args.quick, results, loads)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: stopping the servers", file=sys.stderr)
    finally:
        session.stop_all()
    meta["load_avg_end"] = loadavg()
    meta["load_avg_per_scenario"] = loads
    meta["interrupted"] = interrupted
    checks = report.target_checks(results)
    print("=" * 100)
    print(f"All results: median of {reps} repetition(s) [min-max]; CPU per operation from")
    print("/proc/PID/stat (server) and process_time (driver; user-space part in parentheses).")
    for run in runs:
        if run.id in results:
            print(f"\n(load average before {run.id}: {loads.get(run.id)})")
            print(report.format_table(run, results[run.id]))
    print()
    print(report.format_targets(checks))
    print(f"\nload average: start {meta['load_avg_start']}, end {meta['load_avg_end']}")
    doc = {
        "meta": meta,
        "runs": {r.id: dataclasses.asdict(r) for r in runs},
        "results": results,
        "targets": checks,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
        print(f"results written to {args.json}")
    if args.plot:
        plot(json.loads(json.dumps(doc, default=str)), args.plot)
    return 130 if interrupted else 0
