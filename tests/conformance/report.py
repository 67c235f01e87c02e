"""Read wstest's JSON reports and summarise them (text table, Markdown, ratios).

wstest writes ``index.json`` per report directory, ``{agent: {case_id:
{behavior, behaviorClose, duration, remoteCloseCode, reportfile}}}``, plus one
JSON file per case with the description and result text.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STATUSES = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
_CLOSE_FAILURES = ("FAILED", "UNCLEAN")
_TEXT_LIMIT = 160


def case_key(case_id: str) -> tuple[int, ...]:
    """Sort key: "12.1.10" after "12.1.9"."""
    return tuple(int(part) for part in case_id.split(".") if part.isdigit())


def case_group(case_id: str) -> str:
    """Report group: the first number; 9.* by subgroup (they measure different things)."""
    parts = case_id.split(".")
    if parts[0] == "9" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _group_key(group: str) -> tuple[int, ...]:
    return case_key(group)


def status_of(behavior: str, behavior_close: str) -> str:
    """One of STATUSES for a case.

    ``behavior`` decides, except that a close the testsuite marks FAILED or
    UNCLEAN makes the case FAILED and a WRONG CODE close makes an OK case
    NON-STRICT. Unknown behaviours (e.g. NO_CLOSE) count as FAILED.
    """
    status = behavior if behavior in STATUSES else "FAILED"
    if status in ("OK", "NON-STRICT", "INFORMATIONAL") and behavior_close in _CLOSE_FAILURES:
        return "FAILED"
    if status == "OK" and behavior_close == "WRONG CODE":
        return "NON-STRICT"
    return status


def shorten(text: object, limit: int = _TEXT_LIMIT) -> str:
    """One line of at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass(frozen=True)
class CaseResult:
    """One case of one agent, as wstest reported it."""

    case_id: str
    behavior: str
    behavior_close: str
    duration_ms: int
    remote_close_code: int | None = None
    description: str = ""
    result: str = ""

    @property
    def status(self) -> str:
        return status_of(self.behavior, self.behavior_close)

    @property
    def clean(self) -> bool:
        """OK, and closed OK (or not judged)."""
        return self.status == "OK" and self.behavior_close in ("OK", "INFORMATIONAL")


@dataclass
class AgentRun:
    """The outcome of one agent: its cases, how long it took, and any agent error."""

    name: str
    mode: str
    impl: str
    runtime: str
    duration_s: float = 0.0
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None
    report_dir: Path | None = None

    def counts(self) -> dict[str, Counter[str]]:
        """Status counts per group, plus "total"."""
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for case in self.cases:
            out[case_group(case.case_id)][case.status] += 1
            out["total"][case.status] += 1
        return out

    @property
    def failed(self) -> list[CaseResult]:
        return [c for c in self.cases if c.status == "FAILED"]

    @property
    def ok(self) -> bool:
        """No agent error, at least one case, and no FAILED case."""
        return self.error is None and bool(self.cases) and not self.failed

    def durations_by_group(self) -> dict[str, int]:
        """Summed case durations (ms) per group."""
        out: dict[str, int] = defaultdict(int)
        for case in self.cases:
            out[case_group(case.case_id)] += case.duration_ms
        return dict(out)


def load_cases(report_dir: Path, agent: str) -> list[CaseResult]:
    """Cases of ``agent`` from ``report_dir/index.json``; details only for non-OK ones."""
    index = json.loads((report_dir / "index.json").read_text(encoding="utf-8"))
    entries = index.get(agent)
    if entries is None:
        raise KeyError(f"agent {agent!r} not in {report_dir / 'index.json'}: {sorted(index)}")
    cases = []
    for case_id, entry in sorted(entries.items(), key=lambda item: case_key(item[0])):
        case = CaseResult(
            case_id=case_id,
            behavior=str(entry.get("behavior")),
            behavior_close=str(entry.get("behaviorClose")),
            duration_ms=int(entry.get("duration") or 0),
            remote_close_code=entry.get("remoteCloseCode"),
        )
        if not case.clean and entry.get("reportfile"):
            case = _with_details(case, report_dir / entry["reportfile"])
        cases.append(case)
    return cases


def _with_details(case: CaseResult, path: Path) -> CaseResult:
    try:
        detail = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return case
    result = detail.get("result") or ""
    if case.behavior_close != "OK" and detail.get("resultClose"):
        result = f"{result} / close: {detail['resultClose']}"
    return CaseResult(
        case.case_id,
        case.behavior,
        case.behavior_close,
        case.duration_ms,
        case.remote_close_code,
        shorten(detail.get("description") or ""),
        shorten(result),
    )


def _groups(runs: Iterable[AgentRun]) -> list[str]:
    groups = {case_group(c.case_id) for run in runs for c in run.cases}
    return sorted(groups, key=_group_key)


def text_summary(runs: Sequence[AgentRun]) -> str:
    """A plain-text table per agent and the non-OK cases, for the terminal."""
    lines = []
    header = f"{'group':>8} " + " ".join(f"{s:>13}" for s in STATUSES) + f" {'time ms':>9}"
    for run in runs:
        lines.append("")
        lines.append(
            f"== {run.name} ({run.mode}, {run.impl}/{run.runtime}) "
            f"{len(run.cases)} cases in {run.duration_s:.1f}s"
        )
        if run.error:
            lines.append(f"   AGENT ERROR: {run.error}")
        counts, durations = run.counts(), run.durations_by_group()
        lines.append(header)
        for group in [*_groups([run]), "total"]:
            row = counts.get(group, Counter())
            ms = sum(durations.values()) if group == "total" else durations.get(group, 0)
            lines.append(f"{group:>8} " + " ".join(f"{row[s]:>13}" for s in STATUSES) + f" {ms:>9}")
        for case in run.cases:
            if not case.clean:
                lines.append(f"   {case.status:<13} {_case_line(case)}")
    return "\n".join(lines)


def _case_line(case: CaseResult) -> str:
    text = f"{case.case_id}: behavior={case.behavior} close={case.behavior_close}"
    if case.remote_close_code is not None:
        text += f" code={case.remote_close_code}"
    if case.description:
        text += f" | {case.description}"
    if case.result:
        text += f" | {case.result}"
    return text


def markdown_summary(runs: Sequence[AgentRun], header_lines: Sequence[str]) -> str:
    """The generated section of docs/conformance.md."""
    out = [*header_lines, ""]
    out.append("| agent | mode | cases | " + " | ".join(STATUSES) + " | time |")
    out.append("|---|---|---:|" + "---:|" * len(STATUSES) + "---:|")
    for run in runs:
        total = run.counts()["total"]
        out.append(
            f"| {run.name} | {run.mode} | {len(run.cases)} | "
            + " | ".join(str(total[s]) for s in STATUSES)
            + f" | {run.duration_s:.0f} s |"
        )
    for run in runs:
        out += ["", f"## {run.name}", ""]
        out.append(
            f"{run.mode} against {run.impl} on {run.runtime}: {len(run.cases)} cases "
            f"in {run.duration_s:.1f} s."
        )
        if run.error:
            out += ["", f"**Agent error:** {run.error}"]
        counts, durations = run.counts(), run.durations_by_group()
        out += [
            "",
            "| group | " + " | ".join(STATUSES) + " | case time (ms) |",
            "|---|" + "---:|" * (len(STATUSES) + 1),
        ]
        for group in _groups([run]):
            row = counts[group]
            out.append(
                f"| {group} | "
                + " | ".join(str(row[s]) for s in STATUSES)
                + f" | {durations.get(group, 0)} |"
            )
        others = [c for c in run.cases if not c.clean]
        if others:
            out += ["", "Cases that are not a clean OK:", ""]
            out += [f"- {c.status}: {_case_line(c)}" for c in others]
    return "\n".join(out)


def ratios(ours: AgentRun, reference: AgentRun) -> list[tuple[str, int, int, float | None]]:
    """Per group: (group, our ms, reference ms, ours/reference) over shared cases."""
    ref_ms = {c.case_id: c.duration_ms for c in reference.cases}
    mine: dict[str, int] = defaultdict(int)
    theirs: dict[str, int] = defaultdict(int)
    for case in ours.cases:
        if case.case_id in ref_ms:
            mine[case_group(case.case_id)] += case.duration_ms
            theirs[case_group(case.case_id)] += ref_ms[case.case_id]
    rows = []
    for group in sorted(mine, key=_group_key):
        ratio = mine[group] / theirs[group] if theirs[group] else None
        rows.append((group, mine[group], theirs[group], ratio))
    return rows


def ratio_table(ours: AgentRun, reference: AgentRun) -> str:
    """Text table of ``ratios`` (a ratio above 1 means ours is slower)."""
    lines = [
        f"== durations: {ours.name} vs {reference.name} (ratio > 1: slower)",
        f"{'group':>8} {'ours ms':>9} {'ref ms':>9} {'ratio':>7}",
    ]
    if reference.error:
        lines.insert(1, f"   reference agent error: {reference.error.splitlines()[0]}")
    for group, mine, theirs, ratio in ratios(ours, reference):
        shown = f"{ratio:.2f}" if ratio is not None else "-"
        lines.append(f"{group:>8} {mine:>9} {theirs:>9} {shown:>7}")
    return "\n".join(lines)


def markdown_ratios(comparisons: Sequence[tuple[AgentRun, AgentRun]]) -> str:
    """Markdown duration tables for ``--compare-autobahn`` ("" when none ran)."""
    out: list[str] = []
    for ours, reference in comparisons:
        out += ["", f"## Durations: {ours.name} against {reference.name}", ""]
        out.append("Summed case durations as wstest measured them; ratio above 1: ours slower.")
        if reference.error:
            out += ["", f"Reference agent error: {shorten(reference.error)}"]
        out += ["", "| group | ours (ms) | reference (ms) | ratio |", "|---|---:|---:|---:|"]
        for group, mine, theirs, ratio in ratios(ours, reference):
            shown = f"{ratio:.2f}" if ratio is not None else "-"
            out.append(f"| {group} | {mine} | {theirs} | {shown} |")
    return "\n".join(out)
