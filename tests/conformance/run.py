"""Run the Autobahn|Testsuite against wsproto_cb (or Autobahn|Python as a stand-in).

    python -m tests.conformance.run [--quick] [--impl wsproto_cb|autobahn]
        [--runtime asyncio|twisted|all] [--side server|client|all]
        [--cases "1.*,12.1.*"] [--exclude "9.*"] [--outdir DIR]
        [--write-docs [PATH]] [--compare-autobahn] [--timeout SECONDS]

Agents run one after another. Exit status: 0 no case FAILED, 1 a case FAILED
or an agent could not finish, 2 wstest or the implementation is unavailable.

Finding wstest: WSTEST_PYTHON + WSTEST_PATH, else WSTEST (a command), else a
cached install in WSTEST_CACHE (default ~/.cache/wsproto_cb/wstest) made
with Python 2.7 (PY27, pyenv, or python2.7 on PATH).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from tests.conformance import docfile
from tests.conformance.agents import MODES, REPO_ROOT, Agent, run_agent
from tests.conformance.discovery import WstestUnavailable, discover
from tests.conformance.impl import IMPLS, RUNTIMES
from tests.conformance.report import (
    AgentRun,
    markdown_ratios,
    markdown_summary,
    ratio_table,
    text_summary,
)

EXIT_OK, EXIT_FAILED, EXIT_UNAVAILABLE = 0, 1, 2
DOCS_PATH = REPO_ROOT / "docs" / "conformance.md"

# The CI subset: every case of groups 1-7 and 10, and a sample of the
# permessage-deflate groups: 12 (default parameters, all five payload kinds,
# 1000 messages of 16..4096 bytes, plus 8 KiB messages in 256-byte fragments)
# and 13 (all seven parameter sets, 16..1024 bytes). Sizes above that cost
# seconds per case and add little. Group 9 (performance, up to 16 MiB
# messages) is left out.
QUICK_CASES = (
    "1.*",
    "2.*",
    "3.*",
    "4.*",
    "5.*",
    "6.*",
    "7.*",
    "10.*",
    *(f"12.{kind}.{size}" for kind in range(1, 6) for size in range(1, 6)),
    "12.1.11",
    "12.2.11",
    *(f"13.{params}.{size}" for params in range(1, 8) for size in range(1, 5)),
)
QUICK_DESCRIPTION = (
    "the quick set: all of 1.* to 7.* and 10.*; 12.1 to 12.5 sizes 1-5 plus 12.1.11 "
    "and 12.2.11; 13.1 to 13.7 sizes 1-4"
)
QUICK_EXCLUDE = ("9.*",)
FULL_CASES = ("*",)
QUICK_TIMEOUT, FULL_TIMEOUT = 900.0, 7200.0


def patterns(text: str) -> tuple[str, ...]:
    """Comma-separated case patterns; "all" means every case."""
    items = tuple(p.strip() for p in text.split(",") if p.strip())
    return tuple("*" if p == "all" else p for p in items)


def select_agents(impl: str, runtime: str, side: str) -> list[Agent]:
    """Agents in run order: servers first, asyncio before twisted."""
    runtimes = RUNTIMES if runtime == "all" else (runtime,)
    modes = [m for m in MODES if side in ("all", Agent(m, impl, "asyncio").side)]
    return [Agent(mode, impl, rt) for mode in modes for rt in runtimes]


def impl_missing(impl: str, runtimes: Sequence[str]) -> str | None:
    """Why ``impl`` cannot run here, or None if its runtime modules exist."""
    for runtime in runtimes:
        name = f"{impl}.{runtime}"
        try:
            found = importlib.util.find_spec(name)
        except ImportError as exc:
            return f"{name} cannot be imported: {exc}"
        if found is None:
            return f"{name} does not exist (yet)"
    return None


def impl_version(impl: str) -> str:
    try:
        return str(getattr(importlib.import_module(impl), "__version__", "?"))
    except ImportError:
        return "?"


def docs_header(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    cases: Sequence[str],
    exclude: Sequence[str],
    wstest_version: str,
    total_s: float,
) -> list[str]:
    """The lines that say how the generated summary was made."""
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    selection = QUICK_DESCRIPTION if tuple(cases) == QUICK_CASES else f"`{', '.join(cases)}`"
    return [
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        f"`python -m tests.conformance.run {command}`: {args.impl} "
        f"{impl_version(args.impl)}, {wstest_version}, Python {platform.python_version()}, "
        f"{platform.machine()} ({os.cpu_count() or 1} cores); all agents in {total_s:.0f} s.",
        "",
        f"Cases: {selection}" + (f"; excluded: `{', '.join(exclude)}`" if exclude else "") + ".",
        "",
        "A case's status is wstest's `behavior`, except that a close judged FAILED or "
        "UNCLEAN counts as FAILED and a WRONG CODE close turns OK into NON-STRICT.",
    ]


def _progress(run: AgentRun) -> None:
    error = f", ERROR: {run.error.splitlines()[0]}" if run.error else ""
    print(
        f"  {len(run.cases)} cases, {len(run.failed)} failed, {run.duration_s:.1f}s{error}",
        flush=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conformance.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument(
        "--impl",
        choices=IMPLS,
        default="wsproto_cb",
        help="implementation under test (default: %(default)s)",
    )
    parser.add_argument("--runtime", choices=(*RUNTIMES, "all"), default="all")
    parser.add_argument(
        "--side",
        choices=("server", "client", "all"),
        default="all",
        help="server: wstest fuzzingclient vs our echo server; "
        "client: wstest fuzzingserver vs our testee client",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the CI subset (groups 1-7, 10, a sample of 12/13; no 9)",
    )
    parser.add_argument(
        "--cases",
        type=patterns,
        default=None,
        help='comma-separated patterns, e.g. "1.*,12.1.*" or "all"',
    )
    parser.add_argument(
        "--exclude",
        type=patterns,
        default=None,
        help='comma-separated patterns to leave out, e.g. "9.*"',
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=None,
        help="keep reports here (default: a temporary directory, removed unless something failed)",
    )
    parser.add_argument(
        "--write-docs",
        nargs="?",
        type=Path,
        const=DOCS_PATH,
        default=None,
        metavar="PATH",
        help=f"write the summary to PATH (default {DOCS_PATH})",
    )
    parser.add_argument(
        "--compare-autobahn",
        action="store_true",
        help="also run Autobahn|Python's echo server on the same cases "
        "and print duration ratios per case group",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per agent (default: 900 quick, 7200 otherwise)",
    )
    parser.add_argument(
        "--no-install", action="store_true", help="do not pip-install the testsuite into the cache"
    )
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into SystemExit so that every child is killed on the way out.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    cases = args.cases or (QUICK_CASES if args.quick else FULL_CASES)
    exclude = args.exclude if args.exclude is not None else (QUICK_EXCLUDE if args.quick else ())
    timeout = args.timeout or (QUICK_TIMEOUT if args.quick else FULL_TIMEOUT)
    agents = select_agents(args.impl, args.runtime, args.side)
    runtimes = sorted({a.runtime for a in agents})
    missing = impl_missing(args.impl, runtimes)
    if missing is None and args.compare_autobahn:
        missing = impl_missing("autobahn", runtimes)
    if missing:
        print(f"UNAVAILABLE: {missing}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        wstest = discover(install_missing=not args.no_install)
    except WstestUnavailable as exc:
        print(f"UNAVAILABLE: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(f"wstest: {wstest.version} ({wstest.origin})", flush=True)

    workdir = args.outdir or Path(tempfile.mkdtemp(prefix="wsproto_cb-conformance-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    runs: list[AgentRun] = []
    comparisons: list[tuple[AgentRun, AgentRun]] = []
    for agent in agents:
        print(f"running {agent.name} ({agent.mode}) ...", flush=True)
        run = run_agent(agent, wstest, workdir, cases, exclude, timeout)
        runs.append(run)
        _progress(run)
        if args.compare_autobahn and agent.mode == "fuzzingclient":
            ref_agent = Agent(agent.mode, "autobahn", agent.runtime)
            print(f"running reference {ref_agent.name} ...", flush=True)
            ref = run_agent(ref_agent, wstest, workdir / "reference", cases, exclude, timeout)
            _progress(ref)
            comparisons.append((run, ref))
    total_s = time.monotonic() - started

    print(text_summary(runs))
    for ours, ref in comparisons:
        print()
        print(ratio_table(ours, ref))
    ok = all(run.ok for run in runs)
    print(f"\n{'PASSED' if ok else 'FAILED'}: {len(runs)} agents in {total_s:.0f}s")
    if args.write_docs:
        header = docs_header(args, argv, cases, exclude, wstest.version, total_s)
        body = markdown_summary(runs, header) + markdown_ratios(comparisons)
        docfile.write(args.write_docs, body)
        print(f"wrote {args.write_docs}")
    if args.outdir is None and ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"reports in {workdir}")
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
