"""From measurements to figures: medians, ratios against redis-py, one table per load.

Each figure is the median over repetitions; each ratio is the median of
the per-repetition ratios against redis-py measured in the same
repetition at the same load, so that load from other jobs, which moves
from one repetition to the next, affects both sides of a ratio alike.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from .driver import KEPT_UP_S, PEER
from .messages import PAYLOAD_SIZE

if TYPE_CHECKING:
    from .driver import Kind


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(kinds: list[Kind], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (offered rate, subscribers, kind)."""
    loads = sorted({(r["rate"], r["subscribers"]) for r in records}, key=lambda x: (x[1], x[0]))
    rows = []
    for rate, nsubs in loads:
        at = [r for r in records if r["rate"] == rate and r["subscribers"] == nsubs]
        peer = {r["repetition"]: r for r in at if r["kind"] == PEER}
        for kind in kinds:
            mine = [r for r in at if r["kind"] == kind.name]
            ratios = [
                r["us_per_msg"] / peer[r["repetition"]]["us_per_msg"]
                for r in mine
                if r["repetition"] in peer
            ]
            rows.append({
                "kind": kind.name,
                "label": kind.label,
                "rate": rate,
                "subscribers": nsubs,
                "repetitions": len(mine),
                "readers": sorted({x for r in mine for x in r["readers"]}),
                "us_per_msg": _median([r["us_per_msg"] for r in mine]),
                "user_us_per_msg": _median([r["user_us_per_msg"] for r in mine]),
                "cpu_vs_redis_py": _median(list(ratios)),
                "kept_up": sum(r["kept_up"] for r in mine),
                "received_min": _median([r["received_min"] for r in mine]),
                "cutoffs": sum(r["cutoffs"] for r in mine),
                "drain_ms": _median([_ms(r["drain_s_max"]) for r in mine]),
                "receive_rate": _median([r["receive_rate_min"] for r in mine]),
                "cpu_share": _median([r["cpu_share_max"] for r in mine]),
                "publish_rate": _median([r["publish_rate"] for r in mine]),
                "messages": mine[0]["messages"] if mine else 0,
            })  # fmt: skip
    return rows


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else max(seconds, 0.0) * 1e3


def print_tables(rows: list[dict[str, Any]]) -> None:
    def fmt(v: float | None, spec: str, suffix: str = "") -> str:
        return "-" if v is None else f"{v:{spec}}{suffix}"

    loads = sorted({(r["rate"], r["subscribers"]) for r in rows}, key=lambda x: (x[1], x[0]))
    for rate, nsubs in loads:
        at = [r for r in rows if r["rate"] == rate and r["subscribers"] == nsubs]
        offered = f"{rate:,.0f} msg/s offered" if rate else "published as fast as Redis takes them"
        achieved = _median([r["publish_rate"] for r in at]) or 0.0
        subs = "1 subscriber" if nsubs == 1 else f"{nsubs} subscribers at once"
        print(
            f"\n{subs}, {offered} (publisher: {achieved:,.0f} msg/s), {at[0]['messages']:,}"
            f" messages ({PAYLOAD_SIZE}-byte payload), median of {at[0]['repetitions']}"
        )
        print(
            f"{'subscriber':<33}{'CPU us/msg (user)':>18}{'vs redis-py':>12}{'kept up':>9}"
            f"{'received':>10}{'cut off':>9}{'drain ms':>10}{'recv msg/s':>12}{'CPU':>6}"
        )
        for r in at:
            us = f"{fmt(r['us_per_msg'], '.2f')} ({fmt(r['user_us_per_msg'], '.2f')})"
            cut = f"{r['cutoffs']}/{r['repetitions'] * nsubs}"
            print(
                f"{r['label']:<33}{us:>18}{fmt(r['cpu_vs_redis_py'], '.2f', 'x'):>12}"
                f"{r['kept_up']:>5}/{r['repetitions']:<3}{fmt(r['received_min'], ',.0f'):>10}"
                f"{cut:>9}{fmt(r['drain_ms'], '.1f'):>10}{fmt(r['receive_rate'], ',.0f'):>12}"
                f"{fmt(r['cpu_share'], '.0%'):>6}"
            )
    print(
        f"\nCPU us/msg: user + system CPU of the subscriber process(es) from /proc, over the"
        f" messages they handled; kept up: every message, no cut-off, the last one within"
        f" {KEPT_UP_S * 1e3:.0f} ms of the last PUBLISH (drain ms: the slowest subscriber);"
        f" received: the fewest messages any subscriber had in order; recv msg/s: the slowest"
        f" subscriber's; CPU: the busiest subscriber's share of one core."
    )
