"""``--workers N``: N processes on one port (SO_REUSEPORT), one parent that starts,
restarts and stops them, for ``wsproto-cb serve`` and ``twistd wsproto_cb``.

Each connection learns which process served it (the protocol below sends its
PID on open), so the tests see the kernel spread connections over the
workers, a killed worker replaced, and every connection closed with 1001
when the parent gets SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import protocol as twisted_protocol

from wsproto_cb.workers import (
    MIN_UPTIME_ENV,
    WORKER_ENV,
    RestartPolicy,
    current_worker,
    reuse_port_socket,
    run_workers,
    warn_without_backplane,
)

from .procs import (
    REPO,
    TIMEOUT,
    TWISTD,
    Proc,
    clean_env,
    free_port,
    kill_pids,
    no_traceback,
    python,
    run,
    wait_gone,
    ws_client,
)

try:
    from runtime.harness import TLSFiles
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import TLSFiles

CLI = ("-m", "wsproto_cb")
CLIENTS = 40

#: Runtime-neutral: the same class under both runtimes and under twistd.
PID_PROTOCOL = """\
import os

from wsproto_cb.server import WebSocketServerProtocol


class Pid(WebSocketServerProtocol):
    def onOpen(self):
        self.sendMessage(str(os.getpid()).encode())

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)
"""

NO_BACKPLANE = "2 workers without a backplane"


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "pidproto.py").write_text(PID_PROTOCOL)
    return tmp_path


class Workers:
    """A parent process with workers; every PID it reports is killed at the end."""

    def __init__(self, proc: Proc, started: str) -> None:
        self.proc = proc
        self.started = started  # regex: group 1 is a worker's PID
        self.seen: set[int] = set()

    def worker_pids(self, count: int, after: int = 0) -> list[int]:
        """PIDs of the first ``count`` workers started after output line ``after``."""
        pids = [int(pid) for pid in wait_lines(self.proc, self.started, count, after)]
        self.seen.update(pids)
        return pids

    def cleanup(self) -> None:
        self.proc.kill()
        kill_pids(sorted(self.seen))


def _all(proc: Proc, pattern: str, after: int = 0) -> list[str]:
    regex = re.compile(pattern)
    return [m.group(1) for line in proc.output.splitlines()[after:] if (m := regex.search(line))]


def wait_lines(proc: Proc, pattern: str, count: int, after: int = 0) -> list[str]:
    """Group 1 of the first ``count`` lines after line ``after`` matching ``pattern``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = _all(proc, pattern, after)
        if len(found) >= count:
            return found[:count]
        if time.monotonic() >= deadline or proc.popen.poll() is not None:
            raise AssertionError(f"{count} x {pattern!r} expected:\n{proc.output}")
        time.sleep(0.05)


def open_clients(
    stack: contextlib.ExitStack, server: Proc, url: str, count: int, **kwargs: Any
) -> list[tuple[Any, int]]:
    """``count`` connected clients (closed with ``stack``), each with the PID of the
    worker that served it."""
    from websockets.sync.client import connect

    clients: list[tuple[Any, int]] = []
    for n in range(count):
        started = time.monotonic()
        try:
            client = stack.enter_context(
                connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, **kwargs)
            )
            clients.append((client, int(client.recv(timeout=TIMEOUT))))
        except Exception as exc:
            raise AssertionError(
                f"client {n} failed after {time.monotonic() - started:.2f} s: {exc!r}\n"
                f"{server.output}"
            ) from exc
    return clients


def spread_then_sigterm(proc: Proc, url: str, pids: list[int]) -> None:
    """CLIENTS connections land on every worker and are served; SIGTERM to the
    parent closes every one with 1001, and the parent and all workers exit."""
    with contextlib.ExitStack() as stack:
        clients = open_clients(stack, proc, url, CLIENTS)
        served = [pid for _, pid in clients]
        assert set(served) == set(pids), served  # SO_REUSEPORT spread them
        clients[0][0].send("still served")
        assert clients[0][0].recv(timeout=TIMEOUT) == "still served"
        proc.signal(signal.SIGTERM)
        assert close_codes(clients) == [1001] * CLIENTS
    assert proc.wait() == 0, proc.output
    assert wait_gone(pids) == [], proc.output


def close_codes(clients: list[tuple[Any, int]]) -> list[int | None]:
    """The close code each client received from the server (None: none came)."""
    from websockets.exceptions import ConnectionClosed

    codes: list[int | None] = []
    deadline = time.monotonic() + TIMEOUT
    for client, _ in clients:
        try:
            while True:
                client.recv(timeout=max(0.1, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            codes.append(exc.rcvd.code if exc.rcvd is not None else None)
        except TimeoutError:
            codes.append(None)
    return codes


def served_by(port: int, wanted: set[int], path: str = "/", limit: int = 100) -> set[int]:
    """Connect (one at a time, at most ``limit`` times) until every PID of ``wanted``
    served one; the PIDs seen."""
    seen: set[int] = set()
    for _ in range(limit):
        with ws_client(f"ws://127.0.0.1:{port}{path}") as client:
            seen.add(int(client.recv(timeout=TIMEOUT)))
        if wanted <= seen:
            break
    return seen


# ---------------------------------------------------------------- wsproto-cb serve

ANNOUNCE = r"worker \d/2 \(pid (\d+)\): pidproto:Pid on ws"
STARTED = r"serve: worker \d/2 \(pid (\d+)\) started$"


def serve_workers(
    app_dir: Path, runtime: str, *args: str, env: dict[str, str] | None = None
) -> tuple[Workers, int]:
    port = free_port()
    # (a generous opening handshake timeout: this machine may be busy)
    proc = Proc(
        python(*CLI, "serve", "pidproto:Pid", "--workers", "2", "--port", str(port),
               "--runtime", runtime, "--open-handshake-timeout", "30", *args),
        cwd=app_dir,
        env=clean_env(**(env or {})),
    )  # fmt: skip
    return Workers(proc, STARTED), port


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_workers_share_the_port_and_all_close_with_1001(app_dir: Path, runtime: str) -> None:
    workers, port = serve_workers(app_dir, runtime)
    proc = workers.proc
    try:
        pids = workers.worker_pids(2)
        assert sorted(int(p) for p in wait_lines(proc, ANNOUNCE, 2)) == sorted(pids)
        assert proc.popen.pid not in pids
        spread_then_sigterm(proc, f"ws://127.0.0.1:{port}/", pids)
    finally:
        workers.cleanup()
    output = proc.output
    no_traceback(output)
    assert output.count(NO_BACKPLANE) == 1, output  # worker 1 only
    assert "SIGTERM: stopping 2 worker(s)" in output
    closing = re.findall(r"worker \d/2 \(pid \d+\): stopping, closing (\d+) connection", output)
    assert len(closing) == 2 and sum(map(int, closing)) == CLIENTS, output
    for pid in pids:
        assert f"(pid {pid}) exited with status 0" in output
    assert "all 2 worker(s) stopped" in output


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_replaces_a_killed_worker(app_dir: Path, runtime: str) -> None:
    workers, port = serve_workers(app_dir, runtime)
    proc = workers.proc
    try:
        first, second = workers.worker_pids(2)
        wait_lines(proc, ANNOUNCE, 2)
        mark = len(proc.output.splitlines())
        os.kill(first, signal.SIGKILL)
        proc.wait_for(rf"\(pid {first}\) exited with signal SIGKILL; restarting in")
        (new,) = workers.worker_pids(1, after=mark)
        assert wait_lines(proc, ANNOUNCE, 1, after=mark) == [str(new)]
        assert served_by(port, {second, new}) == {second, new}  # the port keeps answering
        proc.signal(signal.SIGINT)  # Ctrl-C: the same stop
        assert proc.wait() == 0, proc.output
        assert wait_gone([second, new]) == []
    finally:
        workers.cleanup()
    no_traceback(proc.output)


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_workers_over_tls(app_dir: Path, runtime: str) -> None:
    # (websocket-client here: websockets' threaded sync client now and then waits
    # for a TLS handshake response that a plain ssl socket gets at once)
    import websocket

    tls = TLSFiles.create(str(app_dir))
    workers, port = serve_workers(
        app_dir, runtime, "--certfile", tls.cert_file, "--keyfile", tls.key_file
    )
    clients: list[Any] = []
    try:
        pids = workers.worker_pids(2)
        wait_lines(workers.proc, r"worker \d/2 \(pid (\d+)\): pidproto:Pid on wss://", 2)
        for _ in range(16):
            clients.append(
                websocket.create_connection(
                    f"wss://localhost:{port}/",
                    timeout=TIMEOUT,
                    sslopt={"ca_certs": tls.cert_file},
                )
            )
            assert int(clients[-1].recv()) in pids
        workers.proc.signal(signal.SIGTERM)
        codes = []
        for client in clients:
            opcode, frame = client.recv_data_frame(control_frame=True)
            while opcode != websocket.ABNF.OPCODE_CLOSE:
                opcode, frame = client.recv_data_frame(control_frame=True)
            codes.append(int.from_bytes(frame.data[:2], "big"))
        assert codes == [1001] * 16
        assert workers.proc.wait() == 0, workers.proc.output
    finally:
        for client in clients:
            client.shutdown()  # (the closing handshake is done, or the test failed)
        workers.cleanup()


def test_serve_workers_command_line_errors(app_dir: Path) -> None:
    result = run(python(*CLI, "serve", "--workers", "2", "--port", "0"))
    assert result.returncode == 2
    assert result.stderr == "wsproto-cb serve: error: --workers needs a fixed --port (not 0)\n"
    for bad in ("0", "-1", "two"):
        result = run(python(*CLI, "serve", "--workers", bad))
        assert result.returncode == 2 and "--workers" in result.stderr, result.stderr
    result = run(python(*CLI, "serve", "--workers", "2", "--backplane", "carrier-pigeon://x"))
    assert result.returncode == 2
    assert result.stderr.startswith("wsproto-cb serve: error: --backplane: unknown backplane URL")
    assert result.stderr.count("\n") == 1
    # broadcast options are flags too, checked like the others
    result = run(python(*CLI, "serve", "--broadcast-overflow", "explode"))
    assert result.returncode == 2 and "is not one of drop, close, close-try-again" in result.stderr
    result = run(python(*CLI, "serve", "--broadcast-queue-limit", "0"))
    assert result.returncode == 2 and "must be >= 1" in result.stderr
    help_text = run(python(*CLI, "serve", "--help")).stdout
    for flag in ("--workers", "--backplane", "--broadcast-queue-limit", "--broadcast-overflow"):
        assert flag in help_text


def test_serve_one_worker_has_no_backplane_warning(app_dir: Path) -> None:
    proc = Proc(
        python(*CLI, "serve", "pidproto:Pid", "--port", "0", "--workers", "1",
               "--broadcast-overflow", "close", "--broadcast-queue-limit", "4096"),
        cwd=app_dir,
    )  # fmt: skip
    try:
        port = int(proc.wait_for(r"pidproto:Pid on ws://127\.0\.0\.1:(\d+) ").group(1))
        assert served_by(port, {proc.popen.pid}, limit=1) == {proc.popen.pid}  # no workers
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0, proc.output
    finally:
        proc.kill()
    assert "backplane" not in proc.output and "worker" not in proc.output, proc.output


def test_serve_workers_with_a_cross_process_backplane_do_not_warn(app_dir: Path) -> None:
    pytest.importorskip("wsproto_cb.backplane")
    nothing = free_port()  # (no Redis there: the workers serve locally and say so)
    workers, port = serve_workers(
        app_dir, "asyncio", "--backplane", f"redis://127.0.0.1:{nothing}/0"
    )
    try:
        pids = workers.worker_pids(2)
        wait_lines(workers.proc, ANNOUNCE, 2)
        assert served_by(port, set(pids)) == set(pids)
        workers.proc.signal(signal.SIGTERM)
        assert workers.proc.wait() == 0, workers.proc.output
    finally:
        workers.cleanup()
    assert NO_BACKPLANE not in workers.proc.output
    no_traceback(workers.proc.output)


# ---------------------------------------------------------------- twistd wsproto_cb

TWISTD_STARTED = r"wsproto_cb: worker \d/2 \(pid (\d+)\) started"
TWISTD_LISTENING = r"worker \d/2 \(pid (\d+)\): .*Site starting on \d+"


def twistd_workers(
    app_dir: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[Workers, int]:
    port = free_port()
    public = app_dir / "public"
    public.mkdir(exist_ok=True)
    (public / "index.html").write_text("<h1>static</h1>\n")
    proc = Proc(
        [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "wsproto_cb", "--workers", "2",
         "--listen", f"tcp:{port}:interface=127.0.0.1", "--protocol", "pidproto:Pid",
         "--static", str(public), "--ws-path", "/live/ws", *args],
        cwd=app_dir,
        env=clean_env(PYTHONPATH=str(REPO), **(env or {})),  # (the plugin, from the checkout)
    )  # fmt: skip
    return Workers(proc, TWISTD_STARTED), port


def test_twistd_workers_share_the_port_and_all_close_with_1001(app_dir: Path) -> None:
    workers, port = twistd_workers(app_dir)
    proc = workers.proc
    try:
        pids = workers.worker_pids(2)
        assert sorted(int(p) for p in wait_lines(proc, TWISTD_LISTENING, 2)) == sorted(pids)
        # the workers serve what one twistd would: the static site and the WebSocket path
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as page:
            assert page.read() == b"<h1>static</h1>\n"
        spread_then_sigterm(proc, f"ws://127.0.0.1:{port}/live/ws", pids)
    finally:
        workers.cleanup()
    output = proc.output
    no_traceback(output)
    assert output.count(NO_BACKPLANE) == 1, output
    assert "stopping 2 worker(s)" in output
    for pid in pids:
        assert f"(pid {pid}) exited with status 0" in output


def test_twistd_replaces_a_killed_worker(app_dir: Path) -> None:
    workers, port = twistd_workers(app_dir)
    proc = workers.proc
    try:
        first, second = workers.worker_pids(2)
        wait_lines(proc, TWISTD_LISTENING, 2)
        mark = len(proc.output.splitlines())
        os.kill(first, signal.SIGKILL)
        proc.wait_for(rf"\(pid {first}\) exited with signal SIGKILL; restarting in")
        (new,) = workers.worker_pids(1, after=mark)
        wait_lines(proc, TWISTD_LISTENING, 1, after=mark)
        assert served_by(port, {second, new}, path="/live/ws") == {second, new}
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0, proc.output
        assert wait_gone([second, new]) == []
    finally:
        workers.cleanup()
    no_traceback(proc.output)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--workers", "2", "--listen", "unix:/tmp/wsproto-cb-x.sock"],
            "only tcp:, tcp6: and ssl:",
        ),
        (["--workers", "2", "--listen", "tcp:0"], "need a fixed port, not 0"),
        (["--workers", "0"], "--workers: '0' must be >= 1"),
        (["--backplane", "carrier-pigeon://x"], "--backplane: unknown backplane URL"),
        (["--broadcast-overflow", "explode"], "--broadcast-overflow: 'explode' is not one of"),
    ],
    ids=["unix", "port-0", "workers-0", "backplane", "overflow"],
)
def test_twistd_worker_usage_errors(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run(
        [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "wsproto_cb", *args],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(REPO)),
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    no_traceback(output)
    assert expected in output.rstrip("\n").splitlines()[-1], output


#: The failed-start window the process tests give the parents: starting a
#: worker (an interpreter, Twisted) takes longer than the default second on a
#: loaded machine, and a worker that needs longer than the window to fail
#: counts as started, so the parent would restart it instead of giving up.
#: (Below RestartPolicy.stable_after: the rule under test stays the same.)
SLOW_START = "8"


def test_parents_give_up_when_the_port_is_taken(app_dir: Path) -> None:
    """Workers that cannot listen (a plain socket holds the port) exit at once,
    again and again: each parent stops after three tries, not in a loop."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        serve = run(
            python(*CLI, "serve", "--workers", "2", "--port", str(port)),
            cwd=app_dir,
            env=clean_env(**{MIN_UPTIME_ENV: SLOW_START}),
        )
        assert serve.returncode == 1, serve.stderr
        assert "cannot listen on 127.0.0.1:" in serve.stderr
        assert f"3 times in a row within {SLOW_START} s of starting: giving up" in serve.stderr
        twistd = run(
            [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "wsproto_cb", "--workers", "2",
             "--listen", f"tcp:{port}:interface=127.0.0.1"],
            cwd=app_dir,
            env=clean_env(PYTHONPATH=str(REPO), **{MIN_UPTIME_ENV: SLOW_START}),
        )  # fmt: skip
        assert twistd.returncode == -signal.SIGTERM, twistd.stdout  # (143: not a clean stop)
        assert "giving up, stopping the others" in twistd.stdout
        assert time.monotonic() - started < 2 * TIMEOUT
    no_traceback(serve.stderr)
    no_traceback(twistd.stdout + twistd.stderr)


# ---------------------------------------------------------------- the building blocks

GIVE_UP = """\
import sys
from wsproto_cb.workers import RestartPolicy, current_worker, run_workers

if current_worker() is None:
    sys.exit(run_workers(2, prefix="give-up", policy=RestartPolicy(first_delay=0.01)))
sys.exit(3)
"""


def test_run_workers_gives_up_when_workers_cannot_start(tmp_path: Path) -> None:
    script = tmp_path / "give_up.py"
    script.write_text(GIVE_UP)
    started = time.monotonic()
    result = run(python(str(script)), cwd=tmp_path, env=clean_env(**{MIN_UPTIME_ENV: SLOW_START}))
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 10
    assert f"3 times in a row within {SLOW_START} s of starting: giving up" in result.stderr
    assert result.stderr.count("exited with status 3") >= 3


SCRIPT = """\
import socket, sys, signal
from wsproto_cb.workers import current_worker, reuse_port_socket, run_workers

if current_worker() is None:
    sys.exit(run_workers(int(sys.argv[2])))
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
sock = reuse_port_socket("127.0.0.1", int(sys.argv[1]))
sys.stdout.write("ready\\n")  # (one write: print() may interleave with the others)
sys.stdout.flush()
signal.sigwait([signal.SIGTERM])
sys.exit(0)
"""


def test_run_workers_reruns_a_script_with_its_arguments(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(SCRIPT)
    port = free_port()
    proc = Proc(python(str(script), str(port), "3"), cwd=tmp_path)
    workers = Workers(proc, r"worker \d/3 \(pid (\d+)\) started")
    try:
        pids = workers.worker_pids(3)
        wait_lines(proc, r"^(ready)$", 3)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
            pass  # (one of them accepts: the kernel queues it on its socket)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0, proc.output
        assert wait_gone(pids) == []
    finally:
        workers.cleanup()
    assert "all 3 worker(s) stopped" in proc.output


def test_current_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKER_ENV, raising=False)
    assert current_worker() is None
    monkeypatch.setenv(WORKER_ENV, "2/4")
    assert current_worker() == (2, 4)
    for bad in ("5/4", "0/4", "x", "1-2"):
        monkeypatch.setenv(WORKER_ENV, bad)
        with pytest.raises(ValueError, match=WORKER_ENV):
            current_worker()
    with pytest.raises(RuntimeError, match="called in a worker"):
        monkeypatch.setenv(WORKER_ENV, "1/2")
        run_workers(2, ["true"])


def test_restart_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIN_UPTIME_ENV, raising=False)
    policy = RestartPolicy(first_delay=0.1, max_delay=1.0, max_quick_exits=3)
    # a worker that ran long enough comes back at once, every time
    assert [policy.restart_delay(1, 60.0) for _ in range(5)] == [0.1] * 5
    # one that keeps crashing after a few seconds backs off, up to max_delay
    assert [policy.restart_delay(1, 3.0) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert policy.restart_delay(1, 60.0) == 0.1  # (stable again: reset)
    # one that cannot start at all: give up at the third exit in a row
    assert policy.restart_delay(2, 0.2) == 0.1
    assert policy.restart_delay(2, 0.2) == 0.2
    assert policy.restart_delay(2, 0.2) is None
    # slots are counted apart; a run over min_uptime breaks the row
    assert policy.restart_delay(3, 0.2) == 0.1
    assert policy.restart_delay(3, 2.0) == 0.2
    assert policy.restart_delay(3, 0.2) == 0.4
    assert policy.restart_delay(3, 0.2) == 0.8


def test_reuse_port_socket_lets_two_sockets_listen_on_one_port() -> None:
    first = reuse_port_socket("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        assert first.getblocking() is False
        with reuse_port_socket("127.0.0.1", port) as second:
            assert second.getsockname() == ("127.0.0.1", port)
            # a socket without SO_REUSEPORT cannot join them
            with socket.socket() as plain, pytest.raises(OSError):
                plain.bind(("127.0.0.1", port))
        with reuse_port_socket("::1", 0) as six:
            assert six.family == socket.AF_INET6
    finally:
        first.close()


def test_warn_without_backplane(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plane:
        def __init__(self, cross: bool) -> None:
            self.crossProcess = cross

    class Factory:
        def __init__(self, plane: Any = None) -> None:
            self.backplane = plane

    said: list[str] = []
    monkeypatch.delenv(WORKER_ENV, raising=False)
    assert not warn_without_backplane(Factory(), said.append)  # a single process
    monkeypatch.setenv(WORKER_ENV, "2/3")
    assert not warn_without_backplane(Factory(), said.append)  # (worker 1 says it)
    monkeypatch.setenv(WORKER_ENV, "1/1")
    assert not warn_without_backplane(Factory(), said.append)
    monkeypatch.setenv(WORKER_ENV, "1/3")
    assert not warn_without_backplane(Factory(Plane(True)), said.append)
    assert said == []
    assert warn_without_backplane(Factory(Plane(False)), said.append)
    assert warn_without_backplane(object(), said.append)  # (a factory without backplanes)
    assert said[0].startswith("3 workers without a backplane: a broadcast reaches only")
    assert "--backplane redis://" in said[0]


# ---------------------------------------------------------------- Twisted, in process


@pytest_twisted.inlineCallbacks
def test_reuse_port_endpoint_two_listeners_one_port() -> Iterator[Any]:
    from twisted.internet import endpoints, reactor

    from wsproto_cb.twisted.reuseport import ReusePortEndpoint, reuse_port_endpoint

    port = free_port()
    parsed = endpoints.serverFromString(reactor, f"tcp:{port}:interface=127.0.0.1:backlog=7")
    endpoint = reuse_port_endpoint(reactor, parsed)
    assert (endpoint.port, endpoint.interface, endpoint.backlog) == (port, "127.0.0.1", 7)
    for bad in (f"unix:{port}.sock", "tcp:0"):
        with pytest.raises(ValueError):
            reuse_port_endpoint(reactor, endpoints.serverFromString(reactor, bad))

    factory = twisted_protocol.Factory.forProtocol(twisted_protocol.Protocol)
    ports = []
    try:
        for _ in range(2):
            listening = yield ReusePortEndpoint(reactor, port, "127.0.0.1").listen(factory)
            ports.append(listening)
            assert listening.getHost().port == port
    finally:
        for listening in ports:
            yield listening.stopListening()
    assert len(ports) == 2


def test_worker_module_refuses_to_run_alone() -> None:
    env = clean_env()
    env.pop(WORKER_ENV, None)
    result = subprocess.run(
        python("-m", "wsproto_cb.twisted.tap"),
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 2
    assert "run by twistd wsproto_cb --workers N only" in result.stderr


def test_restart_policy_failed_start_window_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MIN_UPTIME_ENV, raising=False)
    assert RestartPolicy().min_uptime == 1.0
    monkeypatch.setenv(MIN_UPTIME_ENV, "5")
    policy = RestartPolicy()
    assert policy.min_uptime == 5.0
    assert RestartPolicy(min_uptime=0.5).min_uptime == 0.5  # (an explicit value wins)
    # a worker that needed 3 s to fail is a failed start within a 5 s window
    assert [policy.restart_delay(1, 3.0) for _ in range(3)] == [0.1, 0.2, None]
    for bad in ("0", "-1", "soon", "inf", "nan"):
        monkeypatch.setenv(MIN_UPTIME_ENV, bad)
        with pytest.raises(ValueError, match=MIN_UPTIME_ENV):
            RestartPolicy()
