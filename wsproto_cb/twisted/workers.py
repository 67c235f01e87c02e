"""The parent of ``twistd wsproto_cb --workers N``: starts, watches and stops the workers.

Each worker is ``python -m wsproto_cb.twisted.tap`` with the parent's options
(:func:`wsproto_cb.twisted.tap.main`), listening on the same ports with
SO_REUSEPORT.  A worker that exits on its own is started again, within the
limits of :class:`~wsproto_cb.workers.RestartPolicy`; stopping the parent
sends SIGTERM to every worker, and SIGKILL to those still running after
``stop_timeout``.  Worker output goes to the parent's log, line by line.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from ..workers import STOP_TIMEOUT, RestartPolicy, describe_status, worker_environment
from ._shutdown import graceful_exit

__all__ = ["WORKER_MODULE", "WorkerSupervisor"]

log = Logger(namespace="wsproto_cb")

WORKER_MODULE = "wsproto_cb.twisted.tap"


class _WorkerProcess:
    """One worker: its process, and its output relayed into twistd's log line by line."""

    def __init__(self, supervisor: WorkerSupervisor, index: int, started: float) -> None:
        self.supervisor = supervisor
        self.index = index
        self.started = started
        self.transport: Any = None
        self.pid: int | None = None
        self.status: int | None = None
        self._partial = {1: b"", 2: b""}

    @property
    def name(self) -> str:
        return f"worker {self.index}/{self.supervisor.count} (pid {self.pid})"

    # (IProcessProtocol, used by spawnProcess)

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.pid = transport.pid
        transport.closeStdin()

    def childDataReceived(self, fd: int, data: bytes) -> None:
        *lines, self._partial[fd] = (self._partial.get(fd, b"") + data).split(b"\n")
        for line in lines:
            self._relay(fd, line)

    def _relay(self, fd: int, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r")
        if text:
            emit = log.info if fd == 1 else log.warn
            emit("{worker}: {line}", worker=self.name, line=text)

    def childConnectionLost(self, fd: int) -> None:
        rest = self._partial.pop(fd, b"")
        if rest:
            self._relay(fd, rest)

    def processExited(self, reason: Any) -> None:
        pass

    def processEnded(self, reason: Any) -> None:
        for fd in list(self._partial):
            self.childConnectionLost(fd)
        value = reason.value
        signum = getattr(value, "signal", None)
        self.status = -signum if signum else int(getattr(value, "exitCode", 0) or 0)
        self.supervisor._ended(self)


class WorkerSupervisor(service.Service):
    """The parent of ``twistd wsproto_cb --workers N``: starts N workers, restarts
    one that exits on its own (:class:`~wsproto_cb.workers.RestartPolicy`, shared
    with ``wsproto-cb serve --workers``), and on stop sends SIGTERM to each and
    waits for all of them (SIGKILL after ``stop_timeout`` seconds)."""

    def __init__(
        self,
        count: int,
        argv: Sequence[str],
        summary: str = "",
        *,
        reactor: Any = None,
        policy: RestartPolicy | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.count = count
        #: added to each worker's environment (secrets go here, not in ``argv``)
        self.env = dict(env or {})
        self.argv = list(argv)
        self.summary = summary
        self.policy = policy or RestartPolicy()
        self.stop_timeout = stop_timeout
        self.command = list(command or [sys.executable, "-m", WORKER_MODULE])
        self._reactor = reactor
        self.workers: dict[int, _WorkerProcess] = {}
        self._restarts: dict[int, Any] = {}
        self._stopping = False
        self._gave_up = False
        self._stopped: defer.Deferred[None] | None = None

    @property
    def reactor(self) -> Any:
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        log.info("wsproto_cb: {count} workers: {summary}", count=self.count, summary=self.summary)
        for index in range(1, self.count + 1):
            self._spawn(index)

    def _alive(self) -> list[_WorkerProcess]:
        return [w for w in self.workers.values() if w.status is None]

    def _spawn(self, index: int) -> None:
        self._restarts.pop(index, None)
        worker = _WorkerProcess(self, index, self.reactor.seconds())
        self.workers[index] = worker
        args = [*self.command, *self.argv]
        try:
            self.reactor.spawnProcess(
                worker,
                args[0],
                args,
                env=worker_environment(index, self.count, extra=self.env),
                childFDs={0: "w", 1: "r", 2: "r"},
            )
        except OSError as exc:
            worker.status = 127
            log.critical("wsproto_cb: cannot start worker {index}: {exc}", index=index, exc=exc)
            self._give_up()
            return
        log.info("wsproto_cb: {worker} started", worker=worker.name)

    def _ended(self, worker: _WorkerProcess) -> None:
        status = describe_status(worker.status or 0)
        if self._stopping or self.workers.get(worker.index) is not worker:
            log.info("wsproto_cb: {worker} exited with {status}", worker=worker.name, status=status)
            if self._stopped is not None and not self._alive():
                self._stopped.callback(None)
            return
        delay = self.policy.restart_delay(worker.index, self.reactor.seconds() - worker.started)
        if delay is None:
            log.critical(
                "wsproto_cb: {worker} exited with {status}, {times} times in a row within "
                "{uptime:g} s of starting: giving up, stopping the others",
                worker=worker.name,
                status=status,
                times=self.policy.max_quick_exits,
                uptime=self.policy.min_uptime,
            )
            self._give_up()
            return
        log.warn(
            "wsproto_cb: {worker} exited with {status}; restarting in {delay:g} s",
            worker=worker.name,
            status=status,
            delay=delay,
        )
        self._restarts[worker.index] = self.reactor.callLater(delay, self._spawn, worker.index)

    def _give_up(self) -> None:
        if self._gave_up:
            return
        self._gave_up = True
        # twistd cannot exit with a status of its own: make it end as if terminated
        # (status 143), so that a process manager sees a failure.
        if getattr(self.reactor, "_exitSignal", None) is None:
            self.reactor._exitSignal = signal.SIGTERM
        self.reactor.callWhenRunning(self.reactor.stop)

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()  # type: ignore[no-untyped-call]
        self._stopping = True
        for call in self._restarts.values():
            if call.active():
                call.cancel()
        self._restarts.clear()
        stopped = self._stopped = defer.Deferred()
        running = self._alive()
        if running:
            log.info("wsproto_cb: stopping {count} worker(s)", count=len(running))
        else:
            stopped.callback(None)
        for worker in running:
            self._signal(worker, "TERM")
        timer = self.reactor.callLater(self.stop_timeout, self._kill_rest)

        def done(_: Any) -> None:
            if timer.active():
                timer.cancel()
            statuses = [w.status for w in self.workers.values()]
            if not self._gave_up and all(s == 0 for s in statuses):
                graceful_exit(self.reactor)

        stopped.addCallback(done)
        return stopped

    def _kill_rest(self) -> None:
        running = self._alive()
        if not running:
            return
        log.warn(
            "wsproto_cb: {count} worker(s) still running after {timeout:g} s: SIGKILL",
            count=len(running),
            timeout=self.stop_timeout,
        )
        for worker in running:
            self._signal(worker, "KILL")

    def _signal(self, worker: _WorkerProcess, name: str) -> None:
        from twisted.internet.error import ProcessExitedAlready

        with contextlib.suppress(ProcessExitedAlready, OSError):  # (processEnded follows)
            worker.transport.signalProcess(name)
