"""Worker processes on one machine: N copies of a server sharing one port.

Every worker listens on the same address with ``SO_REUSEPORT`` (Linux, the
BSDs, macOS), so the kernel spreads new connections over them; a parent
process starts, watches and stops them.  This module is runtime-neutral (no
asyncio, no Twisted): :func:`run_workers` is the blocking parent for the
command line and for scripts, :class:`RestartPolicy` is the restart rule it
shares with the Twisted parent of ``twistd wsproto_cb --workers N``.

A worker finds out that it is one from the environment (:data:`WORKER_ENV`,
read by :func:`current_worker`), so a script needs only::

    if args.workers > 1 and current_worker() is None:
        sys.exit(run_workers(args.workers))      # the parent: this same script, N times
    sock = reuse_port_socket("127.0.0.1", 9000)  # each worker
    ...

Stopping: SIGTERM or SIGINT to the parent sends SIGTERM to every worker,
which closes its connections with 1001 as a single process does; the parent
exits 0 once all of them exited 0.  A worker that exits while nobody asked
it to is restarted (with backoff); workers that keep failing within
:attr:`RestartPolicy.min_uptime` of their start make the parent give up.

Broadcast (``factory.broadcast``) reaches the connections of one process
only: several workers need a cross-process backplane, see
:func:`warn_without_backplane`.

Secrets never go to a worker's command line, which every user of the
machine can read (``ps``): :func:`argv_without` takes an option such as
``--backplane URL`` out of the workers' arguments, and the value goes to
them in their environment (``run_workers(..., env=...)``) instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from types import FrameType

__all__ = [
    "MIN_UPTIME_ENV",
    "WORKER_ENV",
    "RestartPolicy",
    "argv_without",
    "current_worker",
    "die_with_parent",
    "own_command",
    "reuse_port_socket",
    "run_workers",
    "warn_without_backplane",
    "worker_environment",
]

#: "INDEX/COUNT" (1-based) in the environment of every worker.
WORKER_ENV = "WSPROTO_CB_WORKER"

#: How long the parent waits for its workers after SIGTERM before SIGKILL.
STOP_TIMEOUT = 30.0

#: Seconds (a number) in the parent's environment: how soon after its start a
#: worker's exit counts as a failed start (:attr:`RestartPolicy.min_uptime`,
#: default 1).  Widen it where starting a worker takes longer than that (a
#: loaded machine, a slow container): otherwise a worker that can never
#: listen is restarted forever instead of making the parent give up.
MIN_UPTIME_ENV = "WSPROTO_CB_WORKER_MIN_UPTIME"

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def current_worker() -> tuple[int, int] | None:
    """``(index, count)`` in a worker process (index from 1), else ``None``."""
    value = os.environ.get(WORKER_ENV)
    if not value:
        return None
    index, sep, count = value.partition("/")
    try:
        pair = int(index), int(count)
    except ValueError:
        pair = (0, 0)
    if not sep or not 1 <= pair[0] <= pair[1]:
        raise ValueError(f"{WORKER_ENV}={value!r} is not INDEX/COUNT (like 1/4)")
    return pair


def worker_environment(
    index: int,
    count: int,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of worker ``index`` of ``count``: ``base`` (default ours), ``extra``
    and :data:`WORKER_ENV`."""
    env = dict(os.environ if base is None else base)
    env.update(extra or {})
    env[WORKER_ENV] = f"{index}/{count}"
    return env


def own_command() -> list[str]:
    """This process's command line, to start it again: ``sys.orig_argv`` with
    ``sys.executable`` (``python -m pkg``, a console script, ``python script.py``)."""
    return [sys.executable, *sys.orig_argv[1:]]


def argv_without(argv: Sequence[str], *options: str) -> list[str]:
    """``argv`` without ``OPTION VALUE`` and ``OPTION=VALUE`` for each of ``options``
    (long options, spelled out in full), up to a ``--`` that ends the options.

    For values that must not reach a worker's command line; pass them in its
    environment.  (Both wsproto_cb parsers refuse an abbreviation of these:
    ``--backplane`` shares its start with ``--backplane-file``.)
    """
    kept: list[str] = []
    skip_value = False
    for position, arg in enumerate(argv):
        if skip_value:
            skip_value = False
        elif arg == "--":
            kept.extend(argv[position:])
            break
        elif arg in options:
            skip_value = True
        elif not any(arg.startswith(option + "=") for option in options):
            kept.append(arg)
    return kept


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent dies.

    A worker whose parent was killed (SIGKILL, OOM) then shuts down
    gracefully instead of holding the port forever.  Returns False where
    this does not exist (not Linux): there an orphaned worker keeps running.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # (libc's, no subprocess: fork-safe)
        return bool(prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def become_worker() -> None:
    """Set up this process as a worker: a terminal's Ctrl-C reaches the parent,
    which sends SIGTERM to every worker, so SIGINT is ignored here; and a
    parent that dies takes its workers with it (:func:`die_with_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


# ------------------------------------------------------------------ sockets


def reuse_port_socket(
    host: str, port: int, backlog: int = 1024, family: int | None = None
) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` with SO_REUSEADDR and
    SO_REUSEPORT, so that several processes can listen on the same port.

    The address family follows ``host`` (an IPv6 address or a name that
    resolves to one: IPv6) unless ``family`` is given.  Raises ``OSError``
    where the system has no SO_REUSEPORT.
    """
    option = getattr(socket, "SO_REUSEPORT", None)
    if option is None:
        raise OSError(f"SO_REUSEPORT is not available on {sys.platform}: run one process")
    if family is None:
        infos = socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
        family, _, _, _, address = infos[0]
    else:
        address = (host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
        except OSError as exc:
            raise OSError(exc.errno, f"SO_REUSEPORT refused here: {exc.strerror}") from None
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


# ------------------------------------------------------------------ backplane warning


def warn_without_backplane(factory: object, warn: Callable[[str], object]) -> bool:
    """Warn (with ``warn(text)``) when this is worker 1 of several and ``factory``
    has no cross-process backplane.  True if it warned.

    Only the first worker warns, so the message appears once per start.
    """
    worker = current_worker()
    if worker is None or worker[1] < 2 or worker[0] != 1:
        return False
    backplane = getattr(factory, "backplane", None)
    if backplane is not None and getattr(backplane, "crossProcess", False):
        return False
    warn(
        f"{worker[1]} workers without a backplane: a broadcast reaches only the clients "
        "of the worker that sent it; pass --backplane redis://..."
    )
    return True


# ------------------------------------------------------------------ restart policy


class RestartPolicy:
    """When to restart a worker that exited while nobody stopped it, and when to give up.

    A worker that ran for ``stable_after`` seconds or more is restarted after
    ``first_delay``.  Each exit sooner than that doubles the delay (up to
    ``max_delay``), so a worker that crashes every few seconds does not spin.
    After ``max_quick_exits`` exits in a row, each within ``min_uptime`` of
    its start, the worker cannot start at all (port taken, broken code):
    :meth:`restart_delay` returns None and the parent gives up.
    ``min_uptime`` not given: :data:`MIN_UPTIME_ENV`, else 1 s.
    """

    def __init__(
        self,
        *,
        min_uptime: float | None = None,
        max_quick_exits: int = 3,
        stable_after: float = 10.0,
        first_delay: float = 0.1,
        max_delay: float = 5.0,
    ) -> None:
        self.min_uptime = _min_uptime_from_environment() if min_uptime is None else min_uptime
        self.max_quick_exits = max_quick_exits
        self.stable_after = stable_after
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._quick: dict[int, int] = {}
        self._early: dict[int, int] = {}

    def restart_delay(self, index: int, uptime: float) -> float | None:
        """Seconds to wait before restarting worker ``index``, which ran ``uptime``
        seconds; None: give up."""
        if uptime >= self.stable_after:
            self._quick[index] = self._early[index] = 0
            return self.first_delay
        early = self._early[index] = self._early.get(index, 0) + 1
        if uptime < self.min_uptime:
            quick = self._quick[index] = self._quick.get(index, 0) + 1
            if quick >= self.max_quick_exits:
                return None
        else:
            self._quick[index] = 0
        return float(min(self.max_delay, self.first_delay * 2 ** (early - 1)))


def _min_uptime_from_environment() -> float:
    """:data:`MIN_UPTIME_ENV` as seconds; 1.0 when it is not set."""
    text = os.environ.get(MIN_UPTIME_ENV, "").strip()
    if not text:
        return 1.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{MIN_UPTIME_ENV} must be a positive number of seconds, not {text!r}")
    return seconds


def describe_status(status: int) -> str:
    """A ``Popen.returncode`` in words: "status 1", "signal SIGKILL"."""
    if status < 0:
        try:
            return f"signal {signal.Signals(-status).name}"
        except ValueError:
            return f"signal {-status}"
    return f"status {status}"


# ------------------------------------------------------------------ the blocking parent


class _Worker:
    __slots__ = ("index", "popen", "restart_at", "started", "status")

    def __init__(self, index: int) -> None:
        self.index = index
        self.popen: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.status: int | None = None


class _Supervisor:
    """The state of :func:`run_workers` (one per call)."""

    def __init__(
        self,
        count: int,
        argv: list[str],
        restart: bool,
        policy: RestartPolicy,
        prefix: str,
        stop_timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.count = count
        self.env = dict(env or {})
        self.argv = argv
        self.restart = restart
        self.policy = policy
        self.prefix = prefix
        self.stop_timeout = stop_timeout
        self.workers = [_Worker(i) for i in range(1, count + 1)]
        self.stopping = False
        self.stop_deadline = 0.0
        self.killed = False
        self.failed = False
        self.parent = os.getpid()

    def say(self, text: str) -> None:
        sys.stderr.write(f"{self.prefix}: {text}\n")  # (one write: workers share stderr)
        sys.stderr.flush()

    def name(self, worker: _Worker) -> str:
        pid = worker.popen.pid if worker.popen is not None else "-"
        return f"worker {worker.index}/{self.count} (pid {pid})"

    def start(self, worker: _Worker) -> None:
        worker.restart_at = None
        worker.status = None
        try:
            worker.popen = subprocess.Popen(
                self.argv,
                env=worker_environment(worker.index, self.count, extra=self.env),
                process_group=0,  # Ctrl-C in a terminal reaches the parent only
                preexec_fn=self._in_child,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.say(f"cannot start worker {worker.index}/{self.count}: {exc}")
            worker.popen = None
            self.failed = True
            self.stop()
            return
        worker.started = time.monotonic()
        self.say(f"{self.name(worker)} started")

    def _in_child(self) -> None:
        die_with_parent()
        if os.getppid() != self.parent:  # the parent died before prctl
            os._exit(1)

    def running(self) -> list[tuple[_Worker, subprocess.Popen[bytes]]]:
        return [(w, w.popen) for w in self.workers if w.popen is not None and w.status is None]

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if not self.stopping:
            self.stopping = True
            self.stop_deadline = time.monotonic() + self.stop_timeout
        for worker in self.workers:
            worker.restart_at = None
        for _, popen in self.running():
            with contextlib.suppress(OSError):  # (just exited: reaped below)
                popen.send_signal(signum)

    def reap(self) -> None:
        now = time.monotonic()
        for worker, popen in self.running():
            status = popen.poll()
            if status is None:
                continue
            worker.status = status
            if self.stopping:
                self.say(f"{self.name(worker)} exited with {describe_status(status)}")
                continue
            if not self.restart:
                self.say(f"{self.name(worker)} exited with {describe_status(status)}; stopping")
                self.failed = self.failed or status != 0
                self.stop()
                continue
            delay = self.policy.restart_delay(worker.index, now - worker.started)
            if delay is None:
                self.say(
                    f"{self.name(worker)} exited with {describe_status(status)}, "
                    f"{self.policy.max_quick_exits} times in a row within "
                    f"{self.policy.min_uptime:g} s of starting: giving up, stopping the others"
                )
                self.failed = True
                self.stop()
                continue
            self.say(
                f"{self.name(worker)} exited with {describe_status(status)}; "
                f"restarting in {delay:g} s"
            )
            worker.restart_at = now + delay

    def timeout(self) -> float:
        """How long the main loop may sleep (bounded, so nothing is missed for long)."""
        now = time.monotonic()
        moments = [w.restart_at for w in self.workers if w.restart_at is not None]
        if self.stopping and not self.killed:
            moments.append(self.stop_deadline)
        return max(0.0, min([now + 1.0, *moments]) - now)

    def tick(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.restart_at is not None and worker.restart_at <= now:
                self.start(worker)
        if self.stopping and not self.killed and now >= self.stop_deadline and self.running():
            self.say(f"workers still running after {self.stop_timeout:g} s: SIGKILL")
            self.killed = True
            self.stop(signal.SIGKILL)

    def result(self) -> int:
        if self.failed or self.killed:
            return 1
        return 0 if all(w.status == 0 for w in self.workers if w.popen is not None) else 1


def run_workers(
    count: int,
    argv: Sequence[str] | None = None,
    *,
    restart: bool = True,
    prefix: str = "wsproto_cb",
    policy: RestartPolicy | None = None,
    stop_timeout: float = STOP_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``count`` copies of this program as workers until SIGTERM/SIGINT; the exit status.

    ``argv`` defaults to this process's own command line (``sys.orig_argv``
    with ``sys.executable``), so ``python -m pkg``, a console script and
    ``python script.py`` all start themselves again; each copy sees
    :data:`WORKER_ENV` and ``env`` added to this process's environment (the
    place for secrets: not ``argv``).  Workers inherit stdout and stderr and run in their
    own process group: a terminal's Ctrl-C reaches the parent, which sends
    SIGTERM to each.  Returns 0 when every worker exited 0 after the stop,
    1 otherwise (a worker that needed SIGKILL after ``stop_timeout``, or
    workers that could not start).  With ``restart=False`` the first worker
    that exits on its own stops all of them.  Must run in the main thread.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, not {count}")
    if current_worker() is not None:
        raise RuntimeError(f"run_workers() called in a worker ({WORKER_ENV} is set)")
    command = list(argv) if argv is not None else own_command()
    supervisor = _Supervisor(
        count, command, restart, policy or RestartPolicy(), prefix, stop_timeout, env
    )

    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)
    previous = {signum: signal.getsignal(signum) for signum in handled}
    old_fd = signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    selector = selectors.DefaultSelector()
    selector.register(wake_r, selectors.EVENT_READ)

    def note(signum: int, frame: FrameType | None) -> None:
        pass  # (the wakeup fd carries the signal number to the loop below)

    try:
        for signum in handled:
            signal.signal(signum, note)
        for worker in supervisor.workers:
            if not supervisor.stopping:
                supervisor.start(worker)
        while supervisor.running() or (
            not supervisor.stopping and any(w.restart_at is not None for w in supervisor.workers)
        ):
            if selector.select(supervisor.timeout()):
                try:
                    received = wake_r.recv(256)
                except BlockingIOError:
                    received = b""
                for number in received:
                    if number in (signal.SIGINT, signal.SIGTERM):
                        if not supervisor.stopping:
                            supervisor.say(
                                f"{signal.Signals(number).name}: stopping "
                                f"{len(supervisor.running())} worker(s)"
                            )
                        supervisor.stop()  # (a second signal: SIGTERM again, no waiting)
            supervisor.reap()
            supervisor.tick()
    finally:
        for _, popen in supervisor.running():  # (an exception above: leave no orphans)
            popen.kill()
            popen.wait()
        selector.close()
        signal.set_wakeup_fd(old_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        wake_r.close()
        wake_w.close()
    status = supervisor.result()
    if status == 0:
        supervisor.say(f"all {count} worker(s) stopped")
    return status
