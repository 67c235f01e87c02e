"""``--profile DIR``: where our servers spend their CPU in S2 and S4.

py-spy samples the server process from outside (pinned to the driver's
core) while the driver keeps a scenario running; without py-spy the server
runs under cProfile (``WSBENCH_CPROFILE``) instead.  Each profile is saved
in DIR with a summary: self time by function, by file, and inclusive time.
"""

from __future__ import annotations

import io
import json
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .runner import RUNS, Session, driver_cfg
from .servers import DRIVER_CORE, ROOT, SERVERS, ServerProcess, child_env, pin_command

__all__ = ["profile_ours", "summarize_raw"]

PROFILE_RUNS = ("S2", "S3", "S4-deflate", "S4-plain")
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.", str(ROOT) + "/"):
        i = path.find(marker)
        if i >= 0:
            rest = path[i + len(marker) :]
            return rest.split("/", 1)[1] if marker == "/lib/python3." else rest
    return path


def _name(frame: str) -> tuple[str, str, str]:
    """``(function (file), file, file:line)`` of one py-spy frame."""
    m = _FRAME.match(frame)
    if not m:
        return frame, "?", frame
    file = _short(m.group("file"))
    return f"{m.group('func')} ({file})", file, f"{file}:{m.group('line')} {m.group('func')}"


def summarize_raw(text: str, top: int = 25) -> str:
    """Self and inclusive sample shares from py-spy's raw (collapsed stack) output."""
    self_fn: Counter[str] = Counter()
    self_file: Counter[str] = Counter()
    self_line: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_name(f) for f in stack.split(";")]
        leaf, leaf_file, leaf_line = frames[-1]
        self_fn[leaf] += count
        self_file[leaf_file] += count
        self_line[leaf_line] += count
        for fn in {f for f, _, _ in frames}:
            incl[fn] += count
    if not total:
        return "no samples (the server was idle?)"
    out = [f"{total} samples of the server's busy time (idle time is not sampled)", ""]
    for title, counter in (
        ("self time by file", self_file),
        ("self time by function", self_fn),
        ("self time by line (time in C code counts on the calling line)", self_line),
        ("inclusive time by function", incl),
    ):
        out.append(title)
        for key, count in counter.most_common(top):
            out.append(f"  {count / total:6.1%}  {key}")
        out.append("")
    return "\n".join(out)


def _py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else None


def _drive(cfg: dict[str, Any]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "benchmarks.e2e.driver", json.dumps(cfg)]
    return subprocess.Popen(
        pin_command(DRIVER_CORE, argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=child_env(),
    )


def _finish_driver(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": "driver timed out"}
    lines = out.decode(errors="replace").strip().splitlines()
    if not lines:
        return {"error": err.decode(errors="replace")[-500:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def profile_ours(
    session: Session,
    outdir: Path,
    names: list[str],
    quick: bool,
    run_ids: list[str] | None,
    native: bool = False,
) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    spy = _py_spy()
    ours = [n for n in names if n.startswith("ours-")]
    seconds = 4.0 if quick else 10.0
    for name in ours:
        spec = SERVERS[name]
        for run in (r for r in RUNS if r.id in (run_ids or PROFILE_RUNS)):
            stem = outdir / f"{name}-{run.id}"
            env = None if spy else {"WSBENCH_CPROFILE": str(stem) + ".prof"}
            srv = ServerProcess(spec, session.logdir, 600, env=env)
            session.live.append(srv)
            try:
                srv.wait_ready()
                srv.prime()
                cfg = driver_cfg(run, spec, srv, quick)
                cfg.update(warmup=1.0, duration=seconds + 1.0, max_ops=10**8)
                cfg["timeout"] = int(seconds + 60)
                driver = _drive(cfg)
                if spy:
                    time.sleep(1.5)
                    subprocess.run(
                        pin_command(
                            DRIVER_CORE,
                            [
                                spy,
                                "record",
                                "-p",
                                str(srv.pid),
                                "-d",
                                str(int(seconds - 1)),
                                "-r",
                                "250",
                                "-f",
                                "raw",
                                "-o",
                                str(stem) + ".txt",
                                *(["--native"] if native else []),
                            ],
                        ),
                        capture_output=True,
                        timeout=seconds + 30,
                    )
                result = _finish_driver(driver, seconds + 90)
            finally:
                session.stop(srv)  # (cProfile writes its file on SIGTERM)
            if spy:
                summary = summarize_raw(Path(str(stem) + ".txt").read_text())
            else:
                buf = io.StringIO()
                stats = pstats.Stats(str(stem) + ".prof", stream=buf)
                stats.sort_stats("tottime").print_stats(30)
                summary = buf.getvalue()
            rate = result.get("rate")
            head = f"{name} {run.id}: {run.title}\n"
            if rate:
                head += (
                    f"under the profiler: {rate:,.0f} {run.unit}, server "
                    f"{result['server_us_per_op']:.1f} us/{run.op}\n"
                )
            else:
                head += f"driver: {result.get('error')}\n"
            text = head + ("(py-spy)\n" if spy else "(cProfile)\n") + summary
            Path(str(stem) + "-summary.txt").write_text(text)
            print(text, flush=True)
    return 0
