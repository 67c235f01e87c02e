"""Summaries (median, min, max), the result tables and the target ratios."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RunDef", "format_table", "format_targets", "summarize", "target_checks"]

Summary = dict[str, dict[str, float]]
Results = dict[str, dict[str, dict[str, Any]]]  # run id -> server -> {"reps", "summary", ...}


@dataclass(frozen=True)
class RunDef:
    """One row group of the report: a scenario with its variant and settings."""

    id: str
    scenario: str
    variant: str
    title: str
    unit: str  # of the main figure
    op: str  # what one operation is, for "per op" columns
    conns: tuple[int, int]  # (full, quick)
    warmup: tuple[float, float]
    duration: tuple[float, float]
    max_ops: tuple[int, int]
    deflate: bool = False  # needs permessage-deflate
    ws_only: bool = False  # no plain-TCP floor for it
    fresh_per_rep: bool = False  # a new server process for every repetition
    extras: tuple[tuple[str, str, str], ...] = ()  # (key, heading, format)


SUMMARY_KEYS = (
    "rate",
    "server_us_per_op",
    "driver_us_per_op",
    "driver_user_us_per_op",
    "server_share",
    "driver_share",
    "p50_us",
    "p99_us",
    "max_us",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "idle_kib",
    "after_msg_kib",
    "client_frame_bytes",
)


def summarize(reps: list[dict[str, Any]]) -> Summary:
    """Median, min and max of every numeric figure over the successful repetitions."""
    ok = [r for r in reps if "error" not in r]
    out: Summary = {}
    for key in SUMMARY_KEYS:
        values = [r[key] for r in ok if isinstance(r.get(key), int | float)]
        if values:
            out[key] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "n": len(values),
            }
    return out


def _num(value: float, fmt: str) -> str:
    return format(value, fmt)


def _cell(summary: Summary, key: str, fmt: str, spread: bool = True) -> str:
    s = summary.get(key)
    if s is None:
        return "-"
    text = _num(s["median"], fmt)
    if spread and s["n"] > 1:
        text += f" [{_num(s['min'], fmt)}-{_num(s['max'], fmt)}]"
    return text


def format_table(run: RunDef, results: dict[str, dict[str, Any]]) -> str:
    """One scenario's table: main figure, server CPU per op, CPU shares, extras."""
    rate_fmt = ",.0f" if run.unit not in ("MB/s", "KiB/conn") else ",.1f"
    headings = ["server", run.unit]
    memory = run.scenario == "S6"
    if not memory:
        headings += [
            f"server CPU us/{run.op}",
            "server CPU",
            f"driver us/{run.op} (user)",
            "driver CPU",
        ]
    headings += [h for _, h, _ in run.extras]
    rows = [headings]
    for name, entry in results.items():
        summary: Summary = entry.get("summary", {})
        if not summary:
            errors = [r["error"] for r in entry.get("reps", []) if "error" in r]
            note = entry.get("skipped") or (errors[0] if errors else "no result")
            note = str(note).strip().splitlines()[0][:100] if str(note).strip() else "?"
            rows.append([name, f"({note})"])
            continue
        row = [name, _cell(summary, "rate", rate_fmt)]
        if not memory:
            row += [
                _cell(summary, "server_us_per_op", ",.1f"),
                _cell(summary, "server_share", ".0%", spread=False),
                _cell(summary, "driver_us_per_op", ",.1f", spread=False)
                + f" ({_cell(summary, 'driver_user_us_per_op', ',.1f', spread=False)})",
                _cell(summary, "driver_share", ".0%", spread=False),
            ]
        row += [_cell(summary, key, fmt) for key, _, fmt in run.extras]
        rows.append(row)
    full = [r for r in rows if len(r) == len(headings)]
    widths = [max(len(r[i]) for r in full) for i in range(len(headings))]
    lines = [f"{run.id}: {run.title}"]
    for i, r in enumerate(rows):
        if len(r) == len(headings):
            pairs = zip(r[1:], widths[1:], strict=True)
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in pairs]
        else:
            cells = [r[0].ljust(widths[0]), r[1]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _median(results: Results, run_id: str, server: str, key: str) -> float | None:
    s = results.get(run_id, {}).get(server, {}).get("summary", {}).get(key)
    return None if s is None else float(s["median"])


@dataclass(frozen=True)
class Target:
    text: str
    run_id: str
    key: str
    ours: str
    other: str | None  # None: compare with an absolute limit
    check: Callable[[float], bool]
    goal: str


TARGETS = [
    Target(
        "S2 CPU/msg, ours-asyncio vs aiohttp (stock loops)",
        "S2",
        "server_us_per_op",
        "ours-asyncio",
        "aiohttp",
        lambda r: r <= 0.8,
        "<= 0.8",
    ),
    Target(
        "S2 CPU/msg, ours-uvloop vs picows (uvloop)",
        "S2",
        "server_us_per_op",
        "ours-uvloop",
        "picows",
        lambda r: r <= 1.3,
        "<= 1.3",
    ),
    Target(
        "S2 CPU/msg, ours-twisted vs ours-asyncio",
        "S2",
        "server_us_per_op",
        "ours-twisted",
        "ours-asyncio",
        lambda r: r <= 1.25,
        "<= 1.25",
    ),
    Target(
        "S2 msg/s, ours-twisted vs ours-asyncio",
        "S2",
        "rate",
        "ours-twisted",
        "ours-asyncio",
        lambda r: r >= 1 / 1.25,
        ">= 0.8",
    ),
    Target(
        "S3 MB/s, ours-asyncio vs websockets",
        "S3",
        "rate",
        "ours-asyncio",
        "websockets",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S3 MB/s, ours-twisted vs websockets",
        "S3",
        "rate",
        "ours-twisted",
        "websockets",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S3 no stall: RTT p50, ours-twisted vs ours-asyncio",
        "S3",
        "p50_ms",
        "ours-twisted",
        "ours-asyncio",
        lambda r: r <= 1.5,
        "<= 1.5",
    ),
    Target(
        "S4 deflate msg/s, ours-asyncio vs websockets",
        "S4-deflate",
        "rate",
        "ours-asyncio",
        "websockets",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S4 deflate CPU/msg, ours-asyncio vs websockets",
        "S4-deflate",
        "server_us_per_op",
        "ours-asyncio",
        "websockets",
        lambda r: r <= 1.0,
        "<= 1",
    ),
    Target(
        "S4 deflate CPU/msg, Autobahn-style accept (no arguments) vs websockets",
        "S4-deflate",
        "server_us_per_op",
        "ours-asyncio-autobahn-accept",
        "websockets",
        lambda r: r <= 1.0,
        "<= 1",
    ),
    Target(
        "S4 plain msg/s, ours-asyncio vs websockets",
        "S4-plain",
        "rate",
        "ours-asyncio",
        "websockets",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S4 plain CPU/msg, ours-asyncio vs websockets",
        "S4-plain",
        "server_us_per_op",
        "ours-asyncio",
        "websockets",
        lambda r: r <= 1.0,
        "<= 1",
    ),
    Target(
        "S5 conn/s, ours-asyncio vs aiohttp",
        "S5",
        "rate",
        "ours-asyncio",
        "aiohttp",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S5 conn/s, ours-twisted vs aiohttp",
        "S5",
        "rate",
        "ours-twisted",
        "aiohttp",
        lambda r: r >= 1.0,
        ">= 1",
    ),
    Target(
        "S6 KiB per idle conn, ours-asyncio, no compression",
        "S6-plain",
        "idle_kib",
        "ours-asyncio",
        None,
        lambda v: v <= 8.0,
        "<= 8 KiB",
    ),
    Target(
        "S6 KiB per idle conn, ours-asyncio, deflate",
        "S6-deflate",
        "idle_kib",
        "ours-asyncio",
        None,
        lambda v: v <= 8.0,
        "<= 8 KiB",
    ),
    Target(
        "S6 KiB per idle conn, ours-twisted, no compression",
        "S6-plain",
        "idle_kib",
        "ours-twisted",
        None,
        lambda v: v <= 8.0,
        "<= 8 KiB",
    ),
    Target(
        "S6 KiB per idle conn, ours-twisted, deflate",
        "S6-deflate",
        "idle_kib",
        "ours-twisted",
        None,
        lambda v: v <= 8.0,
        "<= 8 KiB",
    ),
]


def target_checks(results: Results) -> list[dict[str, Any]]:
    """Each target: the ratio of medians from this run (or the absolute value) and met/not."""
    out = []
    for t in TARGETS:
        ours = _median(results, t.run_id, t.ours, t.key)
        other = _median(results, t.run_id, t.other, t.key) if t.other else None
        value: float | None
        if ours is None or (t.other is not None and not other):
            value, status = None, "n/a"
        else:
            value = ours / other if t.other is not None and other else ours
            status = "met" if t.check(value) else "NOT met"
        out.append(
            {
                "target": t.text,
                "goal": t.goal,
                "value": value,
                "status": status,
                "ours": ours,
                "other": other,
                "key": t.key,
            }
        )
    return out


def format_targets(checks: list[dict[str, Any]]) -> str:
    width = max(len(c["target"]) for c in checks)
    lines = ["Targets (ratios of medians from this run)"]
    for c in checks:
        value = "-" if c["value"] is None else f"{c['value']:.2f}"
        detail = ""
        if c["ours"] is not None and c["other"] is not None:
            detail = f"  ({c['ours']:,.1f} vs {c['other']:,.1f})"
        lines.append(
            f"  {c['target'].ljust(width)}  {value:>6}  goal {c['goal']:<10} {c['status']}{detail}"
        )
    return "\n".join(lines)
