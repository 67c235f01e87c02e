"""``python -m benchmarks.e2e --plot DIR --from-json FILE`` draws a results file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]


def _entry(median: float, low: float, high: float) -> dict[str, dict[str, float]]:
    return {"median": median, "min": low, "max": high, "n": 3}


RESULTS = {
    "meta": {"started": "2026-12-05 05:00:00", "reps": 3, "load_avg_start": [1, 1, 1]},
    "runs": {
        "S2": {"scenario": "S2", "unit": "msg/s", "op": "msg", "title": "100 connections"},
        "S6-plain": {"scenario": "S6", "unit": "KiB/conn", "op": "conn", "title": "idle"},
    },
    "results": {
        "S2": {
            "ours-asyncio": {
                "summary": {
                    "rate": _entry(60_000, 55_000, 64_000),
                    "server_us_per_op": _entry(14, 13, 15),
                }
            },
            "websockets": {
                "summary": {
                    "rate": _entry(28_000, 27_000, 29_000),
                    "server_us_per_op": _entry(28, 27, 29),
                }
            },
            "picows": {"skipped": "not installed"},
        },
        "S6-plain": {"ours-asyncio": {"summary": {"rate": _entry(7.0, 6.9, 7.2)}}},
    },
}


def test_plot_from_json_writes_one_png_per_scenario(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    out = tmp_path / "charts"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.e2e", "--plot", str(out), "--from-json", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    charts = sorted(p.name for p in out.iterdir())
    assert charts == ["S2.png", "S6-plain.png"]
    for name in charts:
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_from_json_without_plot_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.e2e", "--from-json", str(tmp_path / "x.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--plot" in done.stderr
