"""One measurement, and the repetitions: processes started, timed from /proc, checked, stopped.

A measurement starts K fresh subscriber processes of one kind (nothing
carried over from the previous measurement) and the publisher (which
builds its commands meanwhile), waits until Redis counts K subscribers on
the channel and the publisher is ready, reads every subscriber's CPU time
from /proc, says ``go``, and waits for each subscriber's ``done`` or
``cutoff``.  Nothing is pinned: publisher,
redis-server and subscribers share the machine's cores, as they would on
one host.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.e2e.procstat import cpu_times
from benchmarks.fanout.processes import Child
from benchmarks.redis_server import RedisServer, redis_server_path

from .messages import CHANNEL

SUBSCRIBERS = "benchmarks.backplane.subscribers"
PUBLISHER = "benchmarks.backplane.publisher"
#: Redis' own default for pub/sub clients (hard 32 MB, or 8 MB for 60 s), set explicitly
PUBSUB_LIMIT = "pubsub 32mb 8mb 60"
#: what redis-server logs (level warning) when it cuts off a client for its output buffer
CUTOFF_LOGGED = b"output buffer limits"
#: a subscriber kept up if it had the last message this soon after the last PUBLISH returned
KEPT_UP_S = 0.1
DRAIN_TIMEOUT = 60.0  # beyond the publishing time, for every subscriber to finish
PEER = "redis-py"


@dataclass(frozen=True)
class Kind:
    name: str  # subscribers.py's KIND
    label: str
    needs: str | None = None  # a module it imports


KINDS = (
    Kind("ours-asyncio", "ours, asyncio + hiredis"),
    Kind("ours-asyncio-purepy", "ours, asyncio, pure-Python RESP"),
    Kind("ours-twisted", "ours, Twisted + hiredis", "twisted"),
    Kind(PEER, "redis-py asyncio PubSub", "redis"),
)


def available_kinds() -> tuple[list[Kind], list[str]]:
    """The kinds whose modules are installed, and a note for each one left out."""
    kinds, notes = [], []
    for kind in KINDS:
        if kind.needs is None or importlib.util.find_spec(kind.needs) is not None:
            kinds.append(kind)
        else:
            notes.append(f"{kind.needs} is not installed: leaving out {kind.name}")
    return kinds, notes


class Bench:
    """The redis-server and the processes of the current measurement, all stopped by PID."""

    def __init__(self, logdir: Path) -> None:
        if redis_server_path() is None:
            raise RuntimeError("redis-server is not installed (Debian: apt install redis-server)")
        self.logdir = logdir
        self.redis_log = logdir / "redis.log"
        self.children: list[Child] = []
        self.redis = RedisServer(
            ["--client-output-buffer-limit", PUBSUB_LIMIT, "--logfile", str(self.redis_log)]
        )

    def start(self, name: str, module: str, argv: list[str]) -> Child:
        child = Child(name, module, argv, self.logdir)
        self.children.append(child)
        return child

    def stop_children(self) -> None:
        children, self.children = self.children, []
        for child in children:
            child.stop()

    def close(self) -> None:
        try:
            self.stop_children()
        finally:
            self.redis.close()

    def cutoffs_logged(self) -> int:
        if not self.redis_log.exists():
            return 0
        return self.redis_log.read_bytes().count(CUTOFF_LOGGED)

    def wait_subscribed(self, count: int) -> None:
        """Redis counts exactly ``count`` subscribers on the channel (old ones gone)."""
        deadline = time.monotonic() + 15
        while (numsub := self.redis.command("PUBSUB", "NUMSUB", CHANNEL)[1]) != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{numsub} subscribers on {CHANNEL} where {count} were started")
            time.sleep(0.02)


def measure(bench: Bench, kind: Kind, nsubs: int, rate: float, args: Any) -> dict[str, Any]:
    """``args.messages`` messages at ``rate`` (0: unlimited) to ``nsubs`` subscribers."""
    count = args.messages
    try:
        # (started first: it builds its commands while the subscribers start)
        port, rate_arg, batch = str(bench.redis.port), str(rate), str(args.batch)
        pub = bench.start(
            "publisher",
            PUBLISHER,
            ["--port", port, "--count", str(count), "--rate", rate_arg, "--batch", batch],
        )
        argv = [kind.name, "--redis", bench.redis.url, "--count", str(count)]
        subs = [bench.start(f"{kind.name}-{i}", SUBSCRIBERS, argv) for i in range(nsubs)]
        readers = sorted({s.expect("READY", 60)[1] for s in subs})
        bench.wait_subscribed(nsubs)
        pub.expect("ready", 120)
        logged0 = bench.cutoffs_logged()
        pids = {s.name: s.pid for s in subs} | {"publisher": pub.pid, "redis": bench.redis.pid}
        times0 = {name: cpu_times(pid) for name, pid in pids.items()}
        pub.send("go")
        deadline = time.monotonic() + count / (rate or 100_000) + DRAIN_TIMEOUT
        outcomes = {}
        for s in subs:
            outcomes[s.name] = words = s.read(max(deadline - time.monotonic(), 0.1))
            if words[0] not in ("done", "cutoff"):
                raise RuntimeError(f"{s.name}: unexpected {words!r}")
        _, t0, t1, receivers = pub.expect("published", max(deadline - time.monotonic(), 0.1))
        cut = [name for name, words in outcomes.items() if words[0] == "cutoff"]
        statuses = settle(subs, bool(cut))
        times = {name: cpu_times(pid) for name, pid in pids.items()}
        logged = bench.cutoffs_logged() - logged0
    finally:
        bench.stop_children()
    extra = {
        name: st
        for name, st in statuses.items()
        if outcomes[name][0] == "done" and (st["got"], st["handled"]) != (count, count)
    }
    if extra:
        raise RuntimeError(f"{kind.name}: more than the {count} messages of the run: {extra}")
    dropped = {name: st["dropped"] for name, st in statuses.items() if st["dropped"]}
    if dropped:
        raise RuntimeError(f"{kind.name}: messages dropped as stale or malformed: {dropped}")
    if logged != len(cut):
        raise RuntimeError(
            f"{kind.name}: {len(cut)} subscriber(s) lost their connection, but Redis logged"
            f" {logged} cut-off(s) for the output buffer limit: {outcomes}"
        )
    start, end = float(t0), float(t1)
    if not cut and int(receivers) != count * nsubs:
        raise RuntimeError(f"PUBLISH reached {receivers} subscribers in all, not {count * nsubs}")
    cpu = {n: (times[n][0] - times0[n][0], times[n][1] - times0[n][1]) for n in pids}
    per_sub: list[dict[str, Any]] = []
    for s in subs:
        words, handled = outcomes[s.name], statuses[s.name]["handled"]
        done = words[0] == "done"
        last = float(words[2]) if done else None
        per_sub.append({
            "got": count if done else int(words[1]),
            "handled": handled,
            "cut_off": None if done else " ".join(words[2:]),
            "drain_s": None if last is None else last - end,
            "receive_rate": None if last is None else count / (last - start),
            "cpu_user_s": cpu[s.name][0],
            "cpu_system_s": cpu[s.name][1],
            # (after a cut-off it goes on with the rest of the run: no share of a known time)
            "cpu_share": None if last is None else sum(cpu[s.name]) / (max(last, end) - start),
        })  # fmt: skip
    handled = sum(r["handled"] for r in per_sub)
    drains = [r["drain_s"] for r in per_sub if r["drain_s"] is not None]
    rates = [r["receive_rate"] for r in per_sub if r["receive_rate"] is not None]
    shares = [r["cpu_share"] for r in per_sub if r["cpu_share"] is not None]
    return {
        "kind": kind.name,
        "subscribers": nsubs,
        "rate": rate,
        "messages": count,
        "readers": readers,
        "publish_s": end - start,
        "publish_rate": count / (end - start),
        "us_per_msg": sum(r["cpu_user_s"] + r["cpu_system_s"] for r in per_sub) / handled * 1e6,
        "user_us_per_msg": sum(r["cpu_user_s"] for r in per_sub) / handled * 1e6,
        "received_min": min(r["got"] for r in per_sub),
        "cutoffs": len(cut),
        "drain_s_max": max(drains) if drains else None,
        "receive_rate_min": min(rates) if rates else None,
        "cpu_share_max": max(shares) if shares else None,
        "kept_up": not cut and max(drains) <= KEPT_UP_S,
        "cpu_s": {name: sum(c) for name, c in cpu.items()},
        "per_subscriber": per_sub,
    }


def settle(subs: list[Child], cut: bool) -> dict[str, dict[str, int]]:
    """Every subscriber's counts once nothing more arrives (after a cut-off: reconnected ones
    get the rest of the run); a late message (a repeat) fails the run here."""
    time.sleep(0.05)
    statuses = {s.name: s.status() for s in subs}
    for _ in range(50 if cut else 0):
        time.sleep(0.2)
        now = {s.name: s.status() for s in subs}
        if now == statuses:
            break
        statuses = now
    return statuses


def run_all(bench: Bench, kinds: list[Kind], args: Any) -> list[dict[str, Any]]:
    """``args.repeat`` repetitions of every (rate, subscribers) and kind, in rotated order."""
    configs = [(rate, n) for rate in args.rates for n in args.subscribers]
    records = []
    for rep in range(args.repeat):
        for i, (rate, nsubs) in enumerate(configs):
            shift = (rep + i) % len(kinds)
            line = []
            for kind in kinds[shift:] + kinds[:shift]:
                record = measure(bench, kind, nsubs, rate, args)
                record["repetition"] = rep
                records.append(record)
                cut = f", {record['cutoffs']} cut off" if record["cutoffs"] else ""
                line.append(f"{kind.name} {record['us_per_msg']:.2f} us{cut}")
            offered = f"{rate:,.0f} msg/s" if rate else "unlimited"
            print(
                f"repetition {rep + 1}/{args.repeat}, {nsubs} subscriber(s), {offered}: "
                + "; ".join(line),
                flush=True,
            )
    return records
