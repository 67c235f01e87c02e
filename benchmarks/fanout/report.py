"""From repetitions to figures: medians, ratios against peers, and the two printed tables.

Each figure is the median over repetitions, and each ratio the median of the
per-repetition ratios against the peer measured in the same repetition, so
that load from other jobs, which moves from one repetition to the next,
affects both sides of a ratio alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .messages import PAYLOAD_SIZE

if TYPE_CHECKING:
    from .driver import Case

WS = "websockets.broadcast"
AUTOBAHN_TWISTED = "autobahn-twisted prepared"
ONE_NODE = "ours-asyncio broadcast"


def median_ratio(
    reps: list[dict[str, Any]], case: str, peer: str, key: str = "rate"
) -> float | None:
    """Median over repetitions of this case's figure / the peer's in the same repetition."""
    ratios = [rep[case][key] / rep[peer][key] for rep in reps if case in rep and peer in rep]
    return statistics.median(ratios) if ratios else None


def summarize(cases: list[Case], reps: list[dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Medians per case, and ratios against the peers measured in the same repetition."""
    rows = []
    for c in cases:

        def med(get: Callable[[dict[str, Any]], float], name: str = c.name) -> float:
            return statistics.median(get(rep[name]) for rep in reps)

        row: dict[str, Any] = {
            "case": c.name,
            "rate": med(lambda r: r["rate"]),
            "vs_websockets": median_ratio(reps, c.name, WS),
            "server_us_per_delivery": med(lambda r: r["server_us_per_delivery"]),
            "server_user_us_per_delivery": med(lambda r: r["server_user_us_per_delivery"]),
            "cpu_vs_websockets": median_ratio(reps, c.name, WS, "server_us_per_delivery"),
            "client_share": med(lambda r: r["client_share"]),
        }
        if c.local:
            loop = f"{c.publisher} sendMessage loop"
            row["vs_loop"] = median_ratio(reps, c.name, loop) if c.mode == "broadcast" else None
            twisted = "twisted" in c.publisher
            row["vs_autobahn"] = median_ratio(reps, c.name, AUTOBAHN_TWISTED) if twisted else None
        else:
            row["vs_one_node"] = median_ratio(reps, c.name, ONE_NODE)
            for i, node in enumerate(c.receivers, 1):
                row[f"node{i}_rate"] = med(lambda r, n=node: r["node_rates"][n])  # type: ignore[misc]
                row[f"node{i}_cpu_s"] = med(lambda r, n=node: r["cpu_s"][n])  # type: ignore[misc]
            redis = sorted(n for n in reps[0][c.name]["cpu_s"] if n.startswith("redis"))
            row["redis_cpu_s"] = sum(med(lambda r, n=n: r["cpu_s"][n]) for n in redis)  # type: ignore[misc]
            # CPU per message of each redis-server (a cluster: each master, busiest first)
            row["redis_us_per_message"] = sorted(
                (
                    med(lambda r, n=n: r["cpu_s"][n] / r["messages"] * 1e6)  # type: ignore[misc]
                    for n in redis
                ),
                reverse=True,
            )
        rows.append(row)
    return rows


def print_tables(rows: list[dict[str, Any]], args: Any, nreps: int) -> None:
    def x(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}x"

    print(
        f"\nA. one server process (core 0), {args.clients:,} connections (clients on core 1),"
        f" {PAYLOAD_SIZE}-byte text, {args.messages} messages a run, median of {nreps}"
    )
    print(
        f"{'implementation':<32}{'deliveries/s':>13}{'vs websockets':>14}{'vs loop':>9}"
        f"{'vs autobahn':>12}{'server us/delivery (user)':>27}{'CPU vs ws':>11}{'client CPU':>12}"
    )
    for r in rows:
        if "vs_loop" in r:
            us = f"{r['server_us_per_delivery']:.2f} ({r['server_user_us_per_delivery']:.2f})"
            print(
                f"{r['case']:<32}{r['rate']:>13,.0f}{x(r['vs_websockets']):>14}"
                f"{x(r['vs_loop']):>9}{x(r['vs_autobahn']):>12}{us:>27}"
                f"{x(r['cpu_vs_websockets']):>11}"
                f"{r['client_share']:>12.0%}"
            )
    two = [r for r in rows if "vs_one_node" in r]
    if not two:
        return
    half = args.clients // 2
    print(
        f"\nB. two server processes and one redis-server, {half:,} + {half:,} connections,"
        " nothing pinned; node 1 publishes; (cluster): through a 3-master Redis Cluster"
    )
    print(
        f"{'nodes':<36}{'deliveries/s':>13}{'node 1':>10}{'node 2':>10}{'vs one node':>13}"
        f"{'vs websockets':>15}{'CPU s node 1/node 2/redis':>28}{'redis us/msg per shard':>24}"
    )
    for r in two:
        cpu = f"{r['node1_cpu_s']:.2f}/{r['node2_cpu_s']:.2f}/{r['redis_cpu_s']:.2f}"
        shards = "/".join(f"{us:.1f}" for us in r["redis_us_per_message"])
        print(
            f"{r['case']:<36}{r['rate']:>13,.0f}{r['node1_rate']:>10,.0f}"
            f"{r['node2_rate']:>10,.0f}{x(r['vs_one_node']):>13}{x(r['vs_websockets']):>15}"
            f"{cpu:>28}{shards:>24}"
        )
