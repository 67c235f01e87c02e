"""Charts of a results file: one PNG per scenario, bars per server with min-max.

``python -m benchmarks.e2e --plot DIR`` draws the run it has just made;
``python -m benchmarks.e2e --plot DIR --from-json FILE`` draws a results file
written earlier by ``--json`` without running anything.  matplotlib comes
with the ``benchmarks`` extra (``pip install -e '.[benchmarks]'``).

Each scenario gets its main figure (the rate, or memory per connection for
S6) and, where the scenario measures it, the server's CPU time per
operation, which is the fairer comparison on a shared machine.  The bar is
the median over the repetitions; the whisker spans min to max.  Our servers
are drawn in red, the other libraries in grey and the plain-TCP floors in
light grey, so a reader finds them at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_results"]

OURS_COLOUR = "#c0392b"
PEER_COLOUR = "#7f8c8d"
FLOOR_COLOUR = "#bdc3c7"  # the plain-TCP echo floors: no WebSocket at all


def _colour(server: str) -> str:
    if server.startswith("ours"):
        return OURS_COLOUR
    return FLOOR_COLOUR if server.startswith("tcp-") else PEER_COLOUR


def _panels(run: dict[str, Any]) -> list[tuple[str, str]]:
    """(summary key, axis label) for each panel of a scenario's chart."""
    panels = [("rate", run["unit"])]
    if run["scenario"] != "S6":
        panels.append(("server_us_per_op", f"server CPU us per {run['op']}"))
    return panels


def _bars(entries: dict[str, Any], key: str) -> tuple[list[str], list[float], list[list[float]]]:
    names: list[str] = []
    medians: list[float] = []
    spread: list[list[float]] = [[], []]
    for name, entry in entries.items():
        figure = entry.get("summary", {}).get(key)
        if figure is None:
            continue
        names.append(name)
        medians.append(figure["median"])
        spread[0].append(figure["median"] - figure["min"])
        spread[1].append(figure["max"] - figure["median"])
    return names, medians, spread


def plot_results(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """Write one PNG per scenario of ``doc`` (a ``--json`` results file) into ``outdir``."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    outdir.mkdir(parents=True, exist_ok=True)
    meta = doc.get("meta", {})
    note = (
        f"{meta.get('started', '')}, {meta.get('reps', '?')} repetition(s), "
        f"load average {meta.get('load_avg_start')} -> {meta.get('load_avg_end')}"
    )
    written = []
    for run_id, entries in doc.get("results", {}).items():
        run = doc["runs"][run_id]
        panels = [p for p in _panels(run) if _bars(entries, p[0])[0]]
        if not panels:
            continue
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
        for ax, (key, label) in zip(axes[0], panels, strict=True):
            names, medians, spread = _bars(entries, key)
            colours = [_colour(n) for n in names]
            positions = range(len(names))
            ax.barh(positions, medians, xerr=spread, color=colours, capsize=3)
            ax.set_yticks(list(positions), names, fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel(label, fontsize=9)
            ax.tick_params(axis="x", labelsize=8)
            ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle(f"{run_id}: {run['title']}", fontsize=10)
        fig.text(0.01, 0.01, note, fontsize=7, color="#555")
        fig.tight_layout(rect=(0, 0.04, 1, 0.95))
        path = outdir / f"{run_id}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
