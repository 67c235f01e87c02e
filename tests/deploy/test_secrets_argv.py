"""Secrets stay off command lines: ``ps`` shows every process's arguments to every user.

A Redis URL may carry a password.  The user may give it to the parent in a
file (``--backplane-file``) or the environment (``WSPROTO_CB_BACKPLANE_URL``),
which no other user can read; and whichever way the parent got it, the worker
processes of ``--workers N`` get it in their environment, never in their
arguments.  The tests read ``/proc/PID/cmdline`` of the parent and of every
worker while the workers are connected to a real redis-server as an ACL user
with that password (so the URL did reach them).
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wsproto_cb.backplane.secrets import URL_ENV
from wsproto_cb.workers import argv_without

from .procs import TIMEOUT, python, run
from .test_workers import (
    ANNOUNCE,
    CLI,
    PID_PROTOCOL,
    TWISTD_LISTENING,
    Workers,
    serve_workers,
    served_by,
    twistd_workers,
    wait_lines,
)

try:
    from backplane.redisproc import RedisServer, running_redis
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.backplane.redisproc import RedisServer, running_redis

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/PID/cmdline"
)

PASSWORD = "pw-" + secrets.token_hex(8)
USER = "wsnode"


@pytest.fixture
def redis_with_password() -> Iterator[RedisServer]:
    """A redis-server with an ACL user that has PASSWORD (the default user stays
    open for the test's own look at CLIENT LIST)."""
    with running_redis() as server:
        server.command("ACL", "SETUSER", USER, "on", f">{PASSWORD}", "~*", "&*", "+@all")
        yield server


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "pidproto.py").write_text(PID_PROTOCOL)
    return tmp_path


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def url_of(redis: RedisServer) -> str:
    return f"redis://{USER}:{PASSWORD}@127.0.0.1:{redis.port}/0"


def how_given(form: str, redis: RedisServer, app_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The parent's arguments and extra environment for giving it the URL one way."""
    url = url_of(redis)
    if form == "flag":
        return ["--backplane", url], {}
    if form == "flag=":
        return [f"--backplane={url}"], {}
    if form == "file":
        path = app_dir / "backplane-url"
        path.write_text(url + "\n")
        path.chmod(0o600)
        return ["--backplane-file", str(path)], {}
    return [], {URL_ENV: url}


def nodes_logged_in(redis: RedisServer, count: int) -> list[dict[str, str]]:
    """Until ``count`` backplane links are connected as USER (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        links = [c for c in redis.clients() if c.get("name", "").startswith("wsproto_cb-")]
        if len(links) >= count or time.monotonic() > deadline:
            return links
        time.sleep(0.05)


def check_workers(workers: Workers, listening: str, port: int, redis: RedisServer) -> list[int]:
    """The workers are up, connected to Redis with the password; their PIDs."""
    pids = workers.worker_pids(2)
    wait_lines(workers.proc, listening, 2)
    assert served_by(port, set(pids)) == set(pids)  # (a connection each: links start)
    links = nodes_logged_in(redis, 4)
    assert len(links) == 4 and {c["user"] for c in links} == {USER}, links
    return pids


def assert_hidden(parent: int, children: list[int], typed_by_user: bool) -> None:
    for pid in children:
        assert PASSWORD not in cmdline(pid), cmdline(pid)
    if not typed_by_user:  # (what the user typed, the parent shows: the docs say so)
        assert PASSWORD not in cmdline(parent), cmdline(parent)


FORMS = ["flag", "flag=", "file", "env"]


@pytest.mark.parametrize(
    ("form", "runtime"),
    [*((form, "asyncio") for form in FORMS), ("flag", "twisted"), ("env", "twisted")],
)
def test_serve_workers_never_carry_the_password_in_argv(
    redis_with_password: RedisServer, app_dir: Path, form: str, runtime: str
) -> None:
    given, env = how_given(form, redis_with_password, app_dir)
    workers, port = serve_workers(app_dir, runtime, *given, env=env)
    run_and_check(workers, ANNOUNCE, port, redis_with_password, "flag" in form)


@pytest.mark.parametrize("form", ["flag", "file", "env"])
def test_twistd_workers_never_carry_the_password_in_argv(
    redis_with_password: RedisServer, app_dir: Path, form: str
) -> None:
    given, env = how_given(form, redis_with_password, app_dir)
    workers, port = twistd_workers(app_dir, *given, env=env)
    run_and_check(workers, TWISTD_LISTENING, port, redis_with_password, "flag" in form, "/live/ws")


def run_and_check(
    workers: Workers,
    listening: str,
    port: int,
    redis: RedisServer,
    typed_by_user: bool,
    path: str = "/",
) -> None:
    proc = workers.proc
    try:
        pids = workers.worker_pids(2)
        wait_lines(proc, listening, 2)
        assert served_by(port, set(pids), path) == set(pids)  # (a connection each: the links start)
        links = nodes_logged_in(redis, 4)  # (so the URL with its password did reach them)
        assert len(links) == 4 and {c["user"] for c in links} == {USER}, links
        for pid in pids:
            assert PASSWORD not in cmdline(pid), cmdline(pid)
        if not typed_by_user:  # (what the user typed, the parent shows: the docs say so)
            assert PASSWORD not in cmdline(proc.popen.pid), cmdline(proc.popen.pid)
        proc.signal()
        assert proc.wait() == 0, proc.output
    finally:
        workers.cleanup()
    assert PASSWORD not in proc.output


def test_a_bad_url_error_does_not_show_the_password() -> None:
    for url in (
        f"redis://{USER}:{PASSWORD}@127.0.0.1:notaport/0",
        f"redis://{USER}:{PASSWORD}@127.0.0.1:6379/zero",
        f"carrier-pigeon://{USER}:{PASSWORD}@coop",
    ):
        result = run(python(*CLI, "serve", "--backplane", url))
        assert result.returncode == 2, result.stderr
        assert "--backplane" in result.stderr and f"{USER}:***@" in result.stderr
        assert PASSWORD not in result.stderr


def test_backplane_and_backplane_file_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "url"
    path.write_text("memory://\n")
    result = run(python(*CLI, "serve", "--backplane", "memory://", "--backplane-file", str(path)))
    assert result.returncode == 2 and "not both" in result.stderr
    result = run(python(*CLI, "serve", "--backplane-file", str(tmp_path / "missing")))
    assert result.returncode == 2 and "cannot read the backplane URL file" in result.stderr


def test_argv_without() -> None:
    argv = ["py", "-m", "x", "serve", "--backplane", "redis://:pw@h", "--port", "1",
            "--backplane=redis://:pw@h", "--backplane-file", "/f", "--backplane-files", "k",
            "--", "--backplane", "positional"]  # fmt: skip
    assert argv_without(argv, "--backplane", "--backplane-file") == [
        "py", "-m", "x", "serve", "--port", "1", "--backplane-files", "k",
        "--", "--backplane", "positional",
    ]  # fmt: skip
    assert argv_without(["--backplane"], "--backplane") == []  # (a value missing: nothing left)
