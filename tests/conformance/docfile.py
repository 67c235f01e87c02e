"""Write docs/conformance.md: a generated summary plus hand-kept explanations.

The file has two marked blocks. Regeneration replaces the generated block
and keeps the explanations block exactly as it was (people edit that one).
"""

from __future__ import annotations

from pathlib import Path

GEN_BEGIN = "<!-- BEGIN GENERATED: python -m tests.conformance.run --write-docs; do not edit -->"
GEN_END = "<!-- END GENERATED -->"
EXPL_BEGIN = "<!-- BEGIN EXPLANATIONS: hand-written, kept across regenerations -->"
EXPL_END = "<!-- END EXPLANATIONS -->"

TITLE = "# Autobahn|Testsuite conformance"
INTRO = """\
How wsproto_cb fares in the Autobahn|Testsuite (wstest): its fuzzingclient
against our echo server, and its fuzzingserver against our testee client,
each on asyncio and on Twisted. Run it with

    python -m tests.conformance.run            # full run, all four agents
    python -m tests.conformance.run --quick    # the CI subset
    python -m tests.conformance.run --write-docs --quick   # regenerate this file

`tests/test_conformance.py` (pytest marker `conformance`) runs the quick set
in CI. See `python -m tests.conformance.run --help` for finding wstest
(`WSTEST`, `WSTEST_PYTHON` + `WSTEST_PATH`, or an automatic install with
Python 2.7)."""

DEFAULT_EXPLANATIONS = """\
## Explanations

Why a case is not a clean OK, one entry per case or group of cases.
(Nothing here yet.)"""


def _block(text: str, begin: str, end: str) -> str | None:
    start = text.find(begin)
    stop = text.find(end, start + len(begin)) if start >= 0 else -1
    if start < 0 or stop < 0:
        return None
    return text[start + len(begin) : stop].strip("\n")


def render(generated: str, explanations: str) -> str:
    """The whole file from its two variable parts."""
    return "\n".join(
        [
            TITLE,
            "",
            INTRO,
            "",
            GEN_BEGIN,
            generated.strip("\n"),
            GEN_END,
            "",
            EXPL_BEGIN,
            explanations.strip("\n"),
            EXPL_END,
            "",
        ]
    )


def write(path: Path, generated: str) -> None:
    """Replace the generated block of ``path``; keep its explanations block."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    explanations = _block(old, EXPL_BEGIN, EXPL_END)
    if explanations is None:
        explanations = DEFAULT_EXPLANATIONS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(generated, explanations), encoding="utf-8")
