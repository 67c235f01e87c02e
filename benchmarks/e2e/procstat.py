"""CPU time, memory and load from /proc (Linux only)."""

from __future__ import annotations

import os
import resource

__all__ = ["TICKS", "cpu_seconds", "cpu_times", "loadavg", "raise_nofile", "rss_bytes"]

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (all its threads), from /proc/PID/stat.

    Clock ticks are 10 ms here; the timed windows are seconds long, so
    that is well under 1 %.
    """
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    # the command name is in parentheses and may contain spaces
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads): see :func:`cpu_times`."""
    return sum(cpu_times(pid))


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of a process."""
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def raise_nofile(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
