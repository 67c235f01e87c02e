"""The server under attack: ``wsproto-cb serve`` in a process of its own, and its gauges.

The server runs :class:`target.Target` (an echo server that also says whom
it thinks it is talking to) on 127.0.0.1, port 0, on the runtime asked
for, with the attack's command-line flags.  Its resident memory (current
and peak), CPU time and open file descriptors are read from
``/proc/<pid>``, so what an attack costs is measured in the process that
pays for it, not in the attacker.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "Gauges", "ServerProcess", "raise_fd_limit"]

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30.0
_TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one (10,000 idle connections need
    it, here and in the server, which inherits it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass(frozen=True)
class Gauges:
    """One reading of the server process."""

    rss_kib: int  # resident set now
    peak_kib: int  # resident set high-water mark (since start or the last reset)
    cpu_s: float  # user + system CPU time so far
    fds: int  # open file descriptors (sockets included)


class ServerProcess:
    """``python -m wsproto_cb serve target:Target --runtime RUNTIME --port 0 FLAGS``."""

    def __init__(self, runtime: str, flags: tuple[str, ...] = (), tree: Path | None = None) -> None:
        self.runtime = runtime
        self.flags = flags
        #: the checkout whose wsproto_cb is served (another one to measure "before")
        self.tree = tree or REPO
        self.port = 0
        self.popen: subprocess.Popen[bytes] | None = None
        #: the gauges at exit, after :meth:`terminate`
        self.final: Gauges | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="abuse-server-", suffix=".log")  # noqa: SIM115

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError("server not started")
        return self.popen.pid

    def start(self) -> None:
        raise_fd_limit()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [env.get("PYTHONPATH")])])
        args = [sys.executable, "-m", "wsproto_cb", "serve", "target:Target"]
        args += ["--runtime", self.runtime, "--port", "0", *self.flags]
        # (python -m puts the working directory first on sys.path: that tree is served;
        # the log goes to a file, which never fills up and blocks the server as a pipe can)
        self.popen = subprocess.Popen(
            args,
            cwd=self.tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"on ws://127\.0\.0\.1:(\d+) ", self.output())
            if match:
                self.port = int(match.group(1))
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not start: {args}\n{self.output()}")

    def output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def gauges(self) -> Gauges:
        status = Path(f"/proc/{self.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        ticks = stat[stat.rindex(")") + 2 :].split()
        # (fields 14 and 15 of stat, utime and stime, after pid, comm and state)
        cpu = (int(ticks[11]) + int(ticks[12])) / _TICKS
        return Gauges(
            rss_kib=int(fields["VmRSS"].split()[0]),
            peak_kib=int(fields["VmHWM"].split()[0]),
            cpu_s=cpu,
            fds=len(os.listdir(f"/proc/{self.pid}/fd")),
        )

    def reset_peak(self) -> None:
        """Start the resident high-water mark again from now (Linux clear_refs)."""
        with contextlib.suppress(OSError), open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a graceful stop), then wait; the exit status, or None if killed.

        The last gauges (:attr:`final`): memory just before the signal, CPU time
        as the kernel reports it for the reaped process.
        """
        popen = self.popen
        if popen is None or popen.returncode is not None:
            return None if popen is None else popen.returncode
        last = self.gauges()
        popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                popen.returncode = os.waitstatus_to_exitcode(status)
                # (not ru_maxrss: it counts the runner's forked copy before exec)
                self.final = Gauges(last.rss_kib, last.peak_kib, usage.ru_utime + usage.ru_stime, 0)
                return popen.returncode
            time.sleep(0.01)
        self.kill()
        return None

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def close(self) -> None:
        self.kill()
        self._log.close()
