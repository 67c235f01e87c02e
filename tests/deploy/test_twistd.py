"""``twistd wsproto_cb`` from an installed wheel, and the ``.tac`` example.

The plugin must work where users get it: from a wheel installed into a
fresh virtualenv, with this checkout nowhere on ``sys.path``.  The venv
reuses the test environment's installed packages (Twisted ...) through a
``.pth`` file, so nothing is downloaded; only the wheel is installed.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .procs import (
    REACTOR_REPORTER,
    REPO,
    TWISTD,
    Proc,
    clean_env,
    close_code_after,
    dropped_without_a_word,
    no_traceback,
    run,
    ws_client,
)

try:
    from runtime.harness import TLSFiles
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import TLSFiles

BUILD_TIMEOUT = 180

#: Every option `twistd wsproto_cb --help` must document.
OPTIONS = (
    "--listen",
    "--protocol",
    "--url",
    "--subprotocol",
    "--compress",
    "--static",
    "--ws-path",
    "--allowed-origin",
    "--max-message-size",
    "--max-frame-size",
    "--auto-ping-interval",
    "--auto-ping-timeout",
    "--open-handshake-timeout",
    "--close-handshake-timeout",
    "--max-connections",
    "--trust-x-forwarded-for",
    "--broadcast-queue-limit",
    "--broadcast-overflow",
    "--workers",
    "--backplane",
    "--metrics",
)


class Venv:
    def __init__(self, root: Path, workdir: Path) -> None:
        self.root = root
        self.python = str(root / "bin" / "python")
        self.workdir = workdir  # an empty directory: the checkout is not importable

    def twistd(self, *args: str) -> list[str]:
        return [self.python, "-c", TWISTD, *args]


def _build_isolation_needed() -> bool:
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return True
    return int(version.split(".")[0]) < 77  # pyproject.toml's build requirement


def _checked(cmd: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=env or clean_env()
    )
    assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "dropin.cache")
    for name in ("wsproto_cb", "twisted"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    # A pure-Python wheel is enough here (.ci/run checks the compiled one).
    env = clean_env(WSPROTO_CB_NO_EXTENSIONS="1", PIP_NO_INPUT="1")
    isolation = [] if _build_isolation_needed() else ["--no-build-isolation"]
    _checked(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            *isolation,
            "-w",
            str(base / "dist"),
            str(src),
        ],
        env=env,
    )
    (wheel,) = (base / "dist").glob("wsproto_cb-*.whl")

    root = base / "venv"
    _checked([sys.executable, "-m", "venv", "--without-pip", str(root)])
    target = subprocess.run(
        [
            str(root / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    # This environment's installed packages (Twisted, websockets ...), not the checkout:
    # a plain path line in a .pth file does not run the editable install's own .pth hooks.
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    ours.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    Path(target, "_test_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _checked(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(root / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--ignore-installed",  # (the checkout's editable install is visible too)
            str(wheel),
        ],
        env=env,
    )
    workdir = base / "work"
    workdir.mkdir()
    venv = Venv(root, workdir)
    where = run(
        [
            venv.python,
            "-c",
            "import wsproto_cb, twisted.plugins.wsproto_cb_plugin as p;"
            "print(wsproto_cb.__file__); print(p.__file__)",
        ],
        cwd=workdir,
    )
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(root), f"imported from outside the venv: {path}"
    yield venv


def test_twistd_help_lists_the_plugin(venv: Venv) -> None:
    result = run(venv.twistd("--help"), cwd=venv.workdir)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "wsproto_cb" in line)
    assert line.split()[:2] == ["wsproto_cb", "A"], line


def test_plugin_help_documents_every_option(venv: Venv) -> None:
    result = run(venv.twistd("wsproto_cb", "--help"), cwd=venv.workdir)
    assert result.returncode == 0, result.stderr
    for option in OPTIONS:
        assert option in result.stdout, option
    assert "twistd -n wsproto_cb --listen tcp:9000" in result.stdout


def test_console_script_installed(venv: Venv) -> None:
    result = run([str(venv.root / "bin" / "wsproto-cb"), "--version"], cwd=venv.workdir)
    assert result.returncode == 0 and result.stdout.startswith("wsproto-cb "), result


def test_twistd_echo_then_sigterm_closes_with_1001_and_exits_0(venv: Venv) -> None:
    proc = Proc(
        venv.twistd("-n", "--pidfile=", "wsproto_cb", "--listen", "tcp:0:interface=127.0.0.1"),
        cwd=venv.workdir,
    )
    try:
        port = int(proc.wait_for(r"WebSocketServerFactory starting on (\d+)").group(1))
        with ws_client(f"ws://127.0.0.1:{port}/any/path") as client:
            client.send("hello twistd")
            assert client.recv(timeout=5) == "hello twistd"
            client.send(b"\x01\x02")
            assert client.recv(timeout=5) == b"\x01\x02"
            code, reason = close_code_after(client, lambda: proc.signal(signal.SIGTERM))
        assert (code, reason) == (1001, "going away")
        assert proc.wait() == 0, proc.output
    finally:
        proc.kill()
    no_traceback(proc.output)
    assert "closing 1 WebSocket connection(s) with 1001" in proc.output


def ask_then_stop(proc: Proc, message: str) -> str:
    """Send ``message`` to the twistd server in ``proc`` and return its answer,
    after SIGTERM closed the connection with 1001 and twistd exited 0."""
    port = int(proc.wait_for(r"WebSocketServerFactory starting on (\d+)").group(1))
    with ws_client(f"ws://127.0.0.1:{port}/") as client:
        client.send(message)
        answer = client.recv(timeout=5)
        code, _ = close_code_after(client, lambda: proc.signal(signal.SIGTERM))
    assert code == 1001
    assert proc.wait() == 0, proc.output
    return str(answer)


def test_twistd_reactor_uvloop_from_the_plugin(venv: Venv, tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    (tmp_path / "reporter.py").write_text(REACTOR_REPORTER)
    proc = Proc(
        venv.twistd(
            "-n",
            "--pidfile=",
            "--reactor",
            "uvloop",
            "wsproto_cb",
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--protocol",
            "reporter:Reporter",
        ),
        cwd=tmp_path,
    )
    try:
        assert ask_then_stop(proc, "which?") == "AsyncioSelectorReactor uvloop.Loop"
    finally:
        proc.kill()
    no_traceback(proc.output)


GREETER = """\
from wsproto_cb.server import WebSocketServerProtocol


class Greeter(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        self.sendMessage(b"hi " + payload, isBinary)
"""


def test_twistd_static_directory_beside_the_websocket(venv: Venv, tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("<h1>static</h1>\n")
    (tmp_path / "greeter.py").write_text(GREETER)
    proc = Proc(
        venv.twistd(
            "-n",
            "--pidfile=",
            "wsproto_cb",
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--protocol",
            "greeter:Greeter",  # imported from the current directory
            "--static",
            str(public),
            "--ws-path",
            "/live/ws",
        ),
        cwd=tmp_path,
    )
    try:
        port = int(proc.wait_for(r"Site starting on (\d+)").group(1))
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/index.html", timeout=5) as page:
            assert page.read() == b"<h1>static</h1>\n"
        with pytest.raises(urllib.error.HTTPError) as plain_get:
            urllib.request.urlopen(f"{base}/live/ws", timeout=5)
        assert plain_get.value.code == 426  # a plain GET at the WebSocket path
        with ws_client(f"ws://127.0.0.1:{port}/live/ws") as client:
            client.send("there")
            assert client.recv(timeout=5) == "hi there"
            code, _ = close_code_after(client, lambda: proc.signal(signal.SIGTERM))
        assert code == 1001
        assert proc.wait() == 0, proc.output
    finally:
        proc.kill()
    no_traceback(proc.output)


def _static_tree(tmp_path: Path) -> Path:
    """A directory to publish, with everything that must not leave it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside secret\n")
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("<h1>home</h1>\n")
    (public / "app.js").write_text("console.log(1)\n")
    (public / "data.unknownext").write_bytes(b"<script>alert(1)</script>")
    (public / ".env").write_text("PASSWORD=hunter2\n")
    (public / ".git").mkdir()
    (public / ".git" / "config").write_text("[core]\n")
    (public / "docs").mkdir()
    (public / "docs" / "index.html").write_text("<h1>docs</h1>\n")
    (public / "docs" / "guide.txt").write_text("guide\n")
    (public / "empty").mkdir()  # no index.html: no listing either
    (public / "leak.txt").symlink_to(outside / "secret.txt")
    (public / "leakdir").symlink_to(outside, target_is_directory=True)
    (public / "env.txt").symlink_to(public / ".env")
    (public / "alias.js").symlink_to(public / "app.js")  # inside the tree: fine
    os.mkfifo(public / "pipe")
    return public


def _get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent exactly as given (no client normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def test_twistd_static_serves_files_only(venv: Venv, tmp_path: Path) -> None:
    public = _static_tree(tmp_path)
    proc = Proc(
        venv.twistd(
            "-n",
            "--pidfile=",
            "wsproto_cb",
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--static",
            str(public),
        ),
        cwd=tmp_path,
    )
    try:
        port = int(proc.wait_for(r"Site starting on (\d+)").group(1))
        served = {
            "/": b"<h1>home</h1>\n",
            "/index.html": b"<h1>home</h1>\n",
            "/app.js": b"console.log(1)\n",
            "/alias.js": b"console.log(1)\n",
            "/docs/": b"<h1>docs</h1>\n",
            "/docs/guide.txt": b"guide\n",
            "/docs/guide.txt?x=1": b"guide\n",
        }
        for path, body in served.items():
            status, headers, data = _get(port, path)
            assert (status, data) == (200, body), path
            assert headers["x-content-type-options"] == "nosniff", path
        status, headers, data = _get(port, "/data.unknownext")
        assert status == 200 and headers["content-type"] == "application/octet-stream"
        status, headers, data = _get(port, "/app.js", method="HEAD")
        assert (status, data, headers["content-length"]) == (200, b"", "15")
        # a directory without its slash: redirected to it, never elsewhere
        status, headers, _ = _get(port, "/docs")
        assert (status, headers["location"]) == (302, "/docs/")
        refused = [
            "/.env",
            "/.git/config",
            "/.git/",
            "/docs/.",
            "/empty/",  # no listing
            "/leak.txt",  # symlink out of the tree
            "/leakdir/secret.txt",
            "/env.txt",  # symlink onto a dotfile
            "/pipe",  # not a regular file (and never blocks the server)
            "/../outside/secret.txt",
            "/%2e%2e/outside/secret.txt",
            "/docs/..%2f..%2foutside%2fsecret.txt",
            "/docs%2f..%2f.env",
            "/%2e%65nv",
            "//index.html",
            "/docs//guide.txt",
            "/index.html%00.js",
            "/%ff",
            "/nothing-here",
        ]
        for path in refused:
            status, _, data = _get(port, path)
            assert status == 404, (path, status, data)
            assert b"hunter2" not in data and b"secret" not in data and b"[core]" not in data
        assert _get(port, "/app.js", method="POST")[0] == 405
        # still alive and serving after all that
        assert _get(port, "/")[0] == 200
    finally:
        proc.kill()
    no_traceback(proc.output)


def test_twistd_static_over_tls_drops_a_silent_client(venv: Venv, tmp_path: Path) -> None:
    """With --static, Twisted Web's Site holds the connection until the request:
    its idle timeout is --open-handshake-timeout, so a client stuck before the
    TLS handshake goes as it would on a WebSocket-only port."""
    tls = TLSFiles.create(str(tmp_path))
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("hi\n")
    proc = Proc(
        venv.twistd(
            "-n",
            "--pidfile=",
            "wsproto_cb",
            "--listen",
            f"ssl:0:interface=127.0.0.1:privateKey={tls.key_file}:certKey={tls.cert_file}",
            "--static",
            str(public),
            "--open-handshake-timeout",
            "0.3",
        ),
        cwd=tmp_path,
    )
    try:
        port = int(proc.wait_for(r"Site \(TLS\) starting on (\d+)").group(1))
        assert dropped_without_a_word(port)
    finally:
        proc.kill()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--protocol", "nosuchmodule_xyz:Echo"], "no module named 'nosuchmodule_xyz'"),
        (["--protocol", "wsproto_cb.echo:Missing"], "has no attribute 'Missing'"),
        (["--protocol", "wsproto_cb.url:WebSocketURL"], "not a WebSocketServerProtocol subclass"),
        (["--listen", "nosuch:9000"], "Unknown endpoint type: 'nosuch'"),
        (["--listen", "tcp:notaport"], "--listen 'tcp:notaport'"),
        (["--max-message-size", "-1"], "--max-message-size: '-1' must be >= 0"),
    ],
    ids=[
        "missing-module",
        "missing-class",
        "not-a-protocol",
        "endpoint-type",
        "endpoint-port",
        "option",
    ],
)
def test_twistd_usage_errors_are_one_line(venv: Venv, args: list[str], expected: str) -> None:
    result = run(venv.twistd("-n", "--pidfile=", "wsproto_cb", *args), cwd=venv.workdir)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    no_traceback(output)
    matching = [line for line in output.splitlines() if expected in line]
    assert len(matching) == 1, output
    assert matching[0] == output.rstrip("\n").splitlines()[-1]  # the last line says why


def test_tac_example_with_twistd_ny(tmp_path: Path) -> None:
    tac = REPO / "examples" / "deploy" / "echo.tac"
    proc = Proc(
        [sys.executable, "-c", TWISTD, "-n", "--pidfile=", "-y", str(tac)],
        cwd=tmp_path,
        env=clean_env(ECHO_LISTEN="tcp:0:interface=127.0.0.1"),
    )
    try:
        assert ask_then_stop(proc, "tac") == "tac"
    finally:
        proc.kill()
    no_traceback(proc.output)
