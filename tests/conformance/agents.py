"""Run one conformance agent: wstest plus our echo server or testee client.

Every process is started in its own session with a time limit and killed
(its whole process group) when the agent ends, however it ends. Servers bind
127.0.0.1, and each listening port is checked for that before use.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from tests.conformance.discovery import Wstest
from tests.conformance.report import AgentRun, load_cases

REPO_ROOT = Path(__file__).resolve().parents[2]
MODES = ("fuzzingclient", "fuzzingserver")
SIDES = {"fuzzingclient": "server", "fuzzingserver": "client"}
START_TIMEOUT = 30.0
STOP_GRACE = 5.0


class AgentError(Exception):
    """The agent could not run to the end (crash, timeout, missing report)."""


@dataclass(frozen=True)
class Agent:
    """What to test: our server (wstest fuzzingclient) or client (fuzzingserver)."""

    mode: str
    impl: str
    runtime: str

    @property
    def side(self) -> str:
        return SIDES[self.mode]

    @property
    def id(self) -> str:
        """Short id used on the command line and in pytest: "server-asyncio"."""
        return f"{self.side}-{self.runtime}"

    @property
    def name(self) -> str:
        """Agent name in wstest's reports: "autobahn-asyncio-server"."""
        return f"{self.impl}-{self.runtime}-{self.side}"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, _, hexport = fields[1].partition(":")
            if fields[3] == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def _is_loopback(hex_address: str) -> bool:
    if len(hex_address) == 8:  # IPv4, little-endian: 127.x.x.x ends in "7F"
        return hex_address.upper().endswith("7F")
    return hex_address.upper() in (
        "00000000000000000000000001000000",
        "0000000000000000FFFF00000100007F",
    )


def check_loopback(port: int) -> None:
    """Raise AgentError if anything listens on ``port`` beyond loopback."""
    wide = [a for a in listening_addresses(port) if not _is_loopback(a)]
    if wide:
        raise AgentError(f"port {port} is listening beyond 127.0.0.1 ({wide}); stopped")


class Processes:
    """Child processes of one agent; all killed (process group) on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for _, proc, log in reversed(self.children):
            stop(proc)
            log.close()

    def start(
        self, label: str, argv: Sequence[str], env: dict[str, str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{label}.log").open("wb")
        log.write((" ".join(argv) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.children.append((label, proc, log))
        return proc

    def log_tail(self, label: str, lines: int = 15) -> str:
        path = self.log_dir / f"{label}.log"
        try:
            text = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(text)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, then SIGKILL after a grace period."""
    if proc.poll() is not None:
        return
    for signum, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, STOP_GRACE)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_listening(
    port: int,
    proc: subprocess.Popen[bytes],
    label: str,
    procs: Processes,
    timeout: float = START_TIMEOUT,
) -> None:
    """Wait until something accepts on 127.0.0.1:``port`` (or the child dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AgentError(
                f"{label} exited with {proc.returncode} before listening:\n" + procs.log_tail(label)
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    raise AgentError(f"{label} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def wait_exit(proc: subprocess.Popen[bytes], label: str, procs: Processes, timeout: float) -> None:
    """Wait for a child to finish within ``timeout``; AgentError otherwise."""
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired as exc:
        stop(proc)
        raise AgentError(f"{label} still running after {timeout:.0f}s; killed") from exc
    if code != 0:
        raise AgentError(f"{label} exited with {code}:\n" + procs.log_tail(label))


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _spec(
    agent: Agent, port: int, report_dir: Path, cases: Sequence[str], exclude: Sequence[str]
) -> dict[str, object]:
    spec: dict[str, object] = {
        "outdir": str(report_dir),
        "cases": list(cases),
        "exclude-cases": list(exclude),
        "exclude-agent-cases": {},
    }
    if agent.mode == "fuzzingclient":
        spec["servers"] = [{"agent": agent.name, "url": f"ws://127.0.0.1:{port}"}]
    else:
        spec["url"] = f"ws://127.0.0.1:{port}"
    return spec


def run_agent(
    agent: Agent,
    wstest: Wstest,
    workdir: Path,
    cases: Sequence[str],
    exclude: Sequence[str],
    timeout: float,
) -> AgentRun:
    """Run one agent to the end; errors end up in ``AgentRun.error``, never raised."""
    run = AgentRun(agent.name, agent.mode, agent.impl, agent.runtime)
    agent_dir = workdir / agent.name
    report_dir = agent_dir / "reports"
    agent_dir.mkdir(parents=True, exist_ok=True)
    run.report_dir = report_dir
    port = free_port()
    spec_path = agent_dir / "spec.json"
    spec_path.write_text(json.dumps(_spec(agent, port, report_dir, cases, exclude), indent=2))
    wstest_argv = wstest.command(["-m", agent.mode, "-s", str(spec_path), "-u", "0"])
    ours = ["--impl", agent.impl, "--runtime", agent.runtime]
    started = time.monotonic()
    try:
        with Processes(agent_dir) as procs:
            if agent.mode == "fuzzingclient":
                server = procs.start(
                    "echo_server",
                    [
                        sys.executable,
                        "-m",
                        "tests.conformance.echo_server",
                        *ours,
                        "--port",
                        str(port),
                        "--max-seconds",
                        str(timeout + 60),
                    ],
                    _python_env(),
                    REPO_ROOT,
                )
                wait_listening(port, server, "echo_server", procs)
                check_loopback(port)
                client = procs.start("wstest", wstest_argv, wstest.environ(), agent_dir)
                wait_exit(client, "wstest", procs, timeout)
                if server.poll() is not None:
                    raise AgentError(
                        "echo_server died during the run:\n" + procs.log_tail("echo_server")
                    )
            else:
                server = procs.start("wstest", wstest_argv, wstest.environ(), agent_dir)
                wait_listening(port, server, "wstest", procs)
                check_loopback(port)
                client = procs.start(
                    "testee_client",
                    [
                        sys.executable,
                        "-m",
                        "tests.conformance.testee_client",
                        *ours,
                        "--url",
                        f"ws://127.0.0.1:{port}",
                        "--agent",
                        agent.name,
                    ],
                    _python_env(),
                    REPO_ROOT,
                )
                wait_exit(client, "testee_client", procs, timeout)
        run.cases = load_cases(report_dir, agent.name)
    except AgentError as exc:
        run.error = str(exc)
    except (OSError, KeyError, ValueError) as exc:
        run.error = f"no usable report in {report_dir}: {exc}"
    finally:
        run.duration_s = time.monotonic() - started
    return run
