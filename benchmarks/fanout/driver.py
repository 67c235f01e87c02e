"""The measurement: which cases run, where the processes sit, how the messages are paced.

Pacing: the messages go out in bursts of ``--burst``; at most ``--window``
bursts are ahead of the slowest client (a burst is released when every
client has the one ``window`` before it), so per-connection queues stay at
a few KiB (nothing is dropped by the broadcast queue limit, and the run
checks that), while the next bursts are already queued on the server, so it
seldom waits for the driver.

Placement (2 cores): for one node, the server is pinned to core 0 and the
client process to core 1; for two nodes nothing is pinned (both servers,
redis-server and the clients share both cores), so the ratio to one node
says what the split costs on the same machine, not what two machines gain.
Implementations alternate within each repetition (rotated order).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from benchmarks.e2e.procstat import cpu_times
from benchmarks.redis_server import RedisCluster, RedisServer, redis_cli_path, redis_server_path

from .processes import Fleet, pin
from .report import AUTOBAHN_TWISTED


@dataclass(frozen=True)
class Case:
    """One implementation measured: who publishes with which sender, who receives."""

    name: str
    publisher: str
    mode: str
    receivers: tuple[str, ...]
    local: bool = True
    #: two nodes: "redis" (one redis-server) or "cluster" (three masters, sharded pub/sub)
    via: str = ""


def cases_for(
    twisted: bool, redis: bool, autobahn: bool = False, cluster: bool = False
) -> list[Case]:
    cases = [
        Case("ours-asyncio broadcast", "ours-asyncio", "broadcast", ("ours-asyncio",)),
        Case("ours-asyncio sendMessage loop", "ours-asyncio", "loop", ("ours-asyncio",)),
    ]
    if twisted:
        cases += [
            Case("ours-twisted broadcast", "ours-twisted", "broadcast", ("ours-twisted",)),
            Case("ours-twisted sendMessage loop", "ours-twisted", "loop", ("ours-twisted",)),
        ]
    if twisted and autobahn:
        at = "autobahn-twisted"
        cases.append(Case(AUTOBAHN_TWISTED, at, "broadcast", (at,)))
    cases.append(Case("websockets.broadcast", "websockets", "broadcast", ("websockets",)))
    for via, pairs, wanted in (
        ("redis", ("a", "b"), redis),
        ("cluster", ("c", "d"), redis and cluster),
    ):
        if not wanted:
            continue
        where = "" if via == "redis" else " (cluster)"
        one, two = pairs
        cases.append(
            Case(f"2 nodes{where}: asyncio + asyncio", f"{one}1", "broadcast",
                 (f"{one}1", f"{one}2"), False, via)
        )  # fmt: skip
        if twisted:
            cases.append(
                Case(f"2 nodes{where}: asyncio + twisted", f"{two}1", "broadcast",
                     (f"{two}1", f"{two}2"), False, via)
            )  # fmt: skip
    return cases


def redis_cpu(server: Any) -> float:
    """Seconds of CPU (user + system) a redis-server has used, by its ``INFO cpu``."""
    fields = dict(
        line.split(":", 1) for line in server.command("INFO", "cpu").decode().split() if ":" in line
    )
    return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def redis_installed() -> bool:
    return redis_server_path() is not None


def cluster_possible() -> bool:
    """A cluster needs redis-cli too (``redis-cli --cluster create``)."""
    return redis_installed() and redis_cli_path() is not None


def start_fleet(fleet: Fleet, cases: list[Case], clients: int, twisted: bool, redis: bool) -> None:
    """The client process, one pinned server per implementation, and the two-node pairs."""
    fleet.start_clients()
    for kind in dict.fromkeys(c.publisher for c in cases if c.local):
        pin(fleet.server(kind, kind).pid, {0})
        connect(fleet, kind, clients)
    if not redis:
        return
    fleet.redis = RedisServer()
    if any(case.via == "cluster" for case in cases):
        fleet.cluster = RedisCluster()
    for case in cases:
        if case.local:
            continue
        url = fleet.redis.url if case.via == "redis" else fleet.cluster.url
        first, second = case.receivers
        prefix = f"fanout-{first}:"
        fleet.server(first, "ours-asyncio", url, prefix)
        fleet.server(second, f"ours-{case.name.rpartition(' + ')[2]}", url, prefix)
        for node in (first, second):
            connect(fleet, node, clients // 2)
        wait_backplane(fleet, (first, second), prefix, case.via == "cluster")


def connect(fleet: Fleet, name: str, count: int) -> None:
    client, server = fleet.children["clients"], fleet.children[name]
    client.send(f"connect {name} {server.port} {count}")
    client.expect("connected", 120)
    deadline = time.monotonic() + 10
    while server.status()["conns"] != count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: {server.status()} where {count} connections were made")
        time.sleep(0.05)


def wait_backplane(fleet: Fleet, nodes: tuple[str, ...], prefix: str, cluster: bool) -> None:
    """Both nodes' links up and subscribed, so that the first message is not lost."""
    deadline = time.monotonic() + 15
    while True:
        if cluster:
            numsub = fleet.cluster.numsub(f"{prefix}all")
        else:
            numsub = fleet.redis.command("PUBSUB", "NUMSUB", f"{prefix}all")[1]
        if numsub == len(nodes) and all(fleet.children[n].status()["backplane"] for n in nodes):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"backplane {prefix!r} not ready: {numsub} subscribers")
        time.sleep(0.05)


def run_cases(fleet: Fleet, cases: list[Case], args: Any) -> list[dict[str, dict[str, Any]]]:
    """A warm-up run of every case, then ``args.repeat`` repetitions in rotated order."""
    seq = 0
    for case in cases:  # warm-up, not recorded
        measure(fleet, case, seq, args.burst * args.window, args)
        seq += args.burst * args.window
    reps: list[dict[str, dict[str, Any]]] = []
    for rep in range(args.repeat):
        order = cases[rep % len(cases) :] + cases[: rep % len(cases)]
        results = {}
        for case in order:
            results[case.name] = measure(fleet, case, seq, args.messages, args)
            seq += args.messages
        reps.append(results)
        line = ", ".join(f"{n} {r['rate']:,.0f}" for n, r in results.items())
        print(f"repetition {rep + 1}/{args.repeat}: {line}", flush=True)
    return reps


def measure(fleet: Fleet, case: Case, start: int, count: int, args: Any) -> dict[str, Any]:
    """One run of ``count`` messages; deliveries/s overall and per receiving node."""
    client = fleet.children["clients"]
    publisher = fleet.children[case.publisher]
    pin(client.pid, {1} if case.local else None)
    client.send(f"run {start} {count} {args.burst} {' '.join(case.receivers)}")
    client.expect("armed")
    pids = {"clients": client.pid}
    # Redis' CPU from its own INFO (microseconds; /proc counts 10 ms ticks, more than
    # a run costs it); a cluster: each master (only the channel's owner should work).
    redises = {}
    if case.via == "redis":
        redises["redis"] = fleet.redis
    elif case.via == "cluster":
        redises.update((f"redis:{s.port}", s) for s in fleet.cluster.servers)
    pids.update((g, fleet.children[g].pid) for g in case.receivers)
    times0 = {name: cpu_times(pid) for name, pid in pids.items()}
    redis0 = {name: redis_cpu(server) for name, server in redises.items()}
    bursts = -(-count // args.burst)
    sent = 0

    def release() -> None:
        nonlocal sent
        n = min(args.burst, count - sent * args.burst)
        publisher.send(f"send {case.mode} {start + sent * args.burst} {n}")
        sent += 1

    t0 = time.monotonic()
    while sent < min(args.window, bursts):
        release()
    while True:
        words = client.read()
        if words[0] == "burst":
            if sent < bursts:
                release()
        elif words[0] == "done":
            finished = {g: float(t) for g, _, t in (w.partition("=") for w in words[1:])}
            break
        else:
            raise RuntimeError(f"clients: unexpected {words!r}")
    times = {name: cpu_times(pid) for name, pid in pids.items()}
    cpu = {name: sum(times[name]) - sum(times0[name]) for name in pids}
    cpu.update((name, redis_cpu(server) - redis0[name]) for name, server in redises.items())
    servers = {g: fleet.children[g].status() for g in case.receivers}
    wall = max(finished.values()) - t0
    time.sleep(0.05)  # anything late (a repeat) arrives now and fails the check
    client.send("check")
    client.expect("ok")
    for g, st in servers.items():
        if st.get("dropped") or st.get("gaps") or st.get("publish_dropped"):
            raise RuntimeError(f"{g} dropped or missed messages: {st}")
    user = sum(times[g][0] - times0[g][0] for g in case.receivers)
    counts = {g: servers[g]["conns"] for g in case.receivers}
    total = sum(counts.values())
    deliveries = count * total
    return {
        "case": case.name,
        "messages": count,
        "recipients": total,
        "wall_s": wall,
        "rate": deliveries / wall,
        "node_rates": {g: count * counts[g] / (finished[g] - t0) for g in case.receivers},
        "cpu_s": cpu,
        "server_us_per_delivery": sum(cpu[g] for g in case.receivers) / deliveries * 1e6,
        "server_user_us_per_delivery": user / deliveries * 1e6,
        "client_share": cpu["clients"] / wall,
    }
