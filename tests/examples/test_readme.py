"""Every code block in README.md is run (or, where running it here makes no
sense, checked) by this test, so a README command that breaks fails it.

Convention: an HTML comment on the line before a fenced block says how to
test it (invisible on GitHub).  A block without one fails the test.

``<!-- test: run -->``
    Run the block (``python``: the code with this interpreter; ``sh``: with
    bash); it must exit with 0 within the timeout.
``<!-- test: server [expect="..."] [probe=echo] -->``
    Start the block in the background, on a free port: ``9000`` in the
    block becomes that port; a ``sh`` server command without ``9000`` gets
    ``--port N`` appended.  It must listen on the port, print a line
    containing ``expect`` (if given; ``9000`` substituted there too) and,
    with ``probe=echo``, echo a WebSocket message (examples/echo's client).
    It runs until the next server block or the end of the README.
``<!-- test: client [stdin="..."] [expect="..."] -->``
    Run against the last server (``9000`` substituted), feeding ``stdin``
    (``\\n`` for newlines); it must exit with 0 and print ``expect``.
``<!-- test: check NAME -->``
    Not run here, for a reason given in ``check_NAME`` below, which checks
    the block against the repository instead (e.g. ``bash .ci/run`` would
    run this very test suite from inside itself).

``.venv/bin/`` in a block means the environment running this test (the
README creates ``.venv``; the test runs in an equivalent one, where the
package is installed editable), and blocks run as a person would type
them: from the repository root, with no PYTHONPATH of the test's.
A server command preceded by install steps (``python3 -m venv .venv &&
.venv/bin/pip install ... && SERVER``) has the install steps checked (the
extra exists, the venv is ``.venv``) and only SERVER run: a real install
needs PyPI and a minute.  WSPROTO_CB_TEST_README_INSTALL=1 runs the whole
command, install included, in a fresh copy of the tree instead.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .procs import ROOT, Proc, free_port, run, user_env, wait_listening

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
FULL_INSTALL = os.environ.get("WSPROTO_CB_TEST_README_INSTALL") == "1"
TIMEOUT = 30.0

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*test:\s*(.*?)\s*-->")


@dataclass
class Block:
    lang: str
    code: str
    line: int
    kind: str
    options: dict[str, str]
    name: str = ""
    clients: list[Block] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"README.md:{self.line} ({self.lang} {self.kind})"


def parse(text: str) -> list[Block]:
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        marker = _MARKER.fullmatch(before.strip())
        if marker is None:
            raise AssertionError(
                f"README.md:{line}: code block without a <!-- test: ... --> marker"
            )
        words = shlex.split(marker.group(1))
        kind, rest = words[0], words[1:]
        name = rest.pop(0) if kind == "check" and rest else ""
        options = dict(word.split("=", 1) for word in rest)
        blocks.append(Block(match.group(1), match.group(2), line, kind, options, name))
    return blocks


def units(blocks: list[Block]) -> list[Block]:
    """Blocks to test one by one; client blocks ride along with their server."""
    out: list[Block] = []
    server: Block | None = None
    for block in blocks:
        if block.kind == "client":
            if server is None:
                raise AssertionError(f"{block!r}: a client block needs a server block before it")
            server.clients.append(block)
            continue
        if block.kind not in ("run", "server", "check"):
            raise AssertionError(f"{block!r}: unknown test kind {block.kind!r}")
        if block.kind == "server":
            server = block
        out.append(block)
    return out


BLOCKS = parse(README.read_text())
UNITS = units(BLOCKS)


def localize(code: str, port: int | None = None) -> str:
    """Point ``.venv/bin/`` at this interpreter's environment; a free port for 9000."""
    code = code.replace(".venv/bin/", f"{BIN}/")
    if port is not None:
        code = code.replace("9000", str(port))
    return code


def unescape(value: str) -> str:
    return value.replace("\\n", "\n")


# ------------------------------------------------------------------ install


def extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


_VENV = re.compile(r"python3 -m venv \.venv")
_INSTALL = re.compile(r"\.venv/bin/pip install (?:-q )?-e '\.\[([\w,]+)\]'")


def split_install(command: str) -> tuple[list[str], str]:
    """``venv && pip install && server`` -> (checked install steps, server)."""
    *steps, server = command.strip().split(" && ")
    for step in steps:
        if _VENV.fullmatch(step):
            continue
        match = _INSTALL.fullmatch(step)
        if match is None:
            raise AssertionError(f"unexpected install step in the README: {step!r}")
        unknown = set(match.group(1).split(",")) - extras()
        assert not unknown, f"{step!r}: no such extra in pyproject.toml: {unknown}"
    return steps, server


def fresh_copy(tmp: Path) -> Path:
    """The tree as a clone would have it: tracked and new files, nothing ignored."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    dest = tmp / "clone"
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


# ------------------------------------------------------------------ runners


def start(block: Block, port: int, cwd: Path = ROOT, localize_venv: bool = True) -> Proc:
    if block.lang == "python":
        return Proc([sys.executable, "-c", localize(block.code, port)], cwd=cwd, env=user_env())
    command = block.code.strip()
    if localize_venv:
        _steps, command = split_install(command)
        command = localize(command, port)
    else:
        command = command.replace("9000", str(port))
    if str(port) not in command:
        command += f" --port {port}"
    return Proc(command, cwd=cwd, env=user_env())


def run_client(block: Block, port: int, cwd: Path = ROOT, localize_venv: bool = True) -> None:
    code = localize(block.code, port) if localize_venv else block.code.replace("9000", str(port))
    args = [sys.executable, "-c", code] if block.lang == "python" else ["bash", "-c", code]
    status, out = subprocess_run(args, cwd, unescape(block.options.get("stdin", "")))
    assert status == 0, f"{block!r} failed:\n{out}"
    expect = block.options.get("expect")
    if expect:
        assert expect.replace("9000", str(port)) in out, f"{block!r}: no {expect!r} in\n{out}"


def subprocess_run(args: list[str], cwd: Path, stdin: str) -> tuple[int, str]:
    result = subprocess.run(
        args,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=user_env(),
    )
    return result.returncode, result.stdout


def probe_echo(port: int) -> None:
    status, out = run([sys.executable, "examples/echo/client_asyncio.py", f"ws://127.0.0.1:{port}"])
    assert status == 0 and "'Hello, world!'" in out, out


def exercise_server(block: Block, cwd: Path = ROOT, localize_venv: bool = True) -> None:
    port = free_port()
    proc = start(block, port, cwd, localize_venv)
    try:
        wait_listening(port, proc, timeout=600 if not localize_venv else TIMEOUT)
        expect = block.options.get("expect")
        if expect:
            proc.expect(expect.replace("9000", str(port)))
        if block.options.get("probe") == "echo":
            probe_echo(port)
        for client in block.clients:
            run_client(client, port, cwd, localize_venv)
    finally:
        proc.stop()


# ------------------------------------------------------------------- checks


def check_ci(block: Block) -> None:
    """``bash .ci/run`` runs the whole suite, this test included: running it
    here would recurse.  CI runs exactly that command; check it is the one."""
    assert block.code.strip() == "bash .ci/run"
    status, out = run(["bash", "-n", ".ci/run"])
    assert status == 0, out
    assert os.access(ROOT / ".ci/run", os.R_OK)


def check_dev(block: Block) -> None:
    """Installing ``.[dev]`` and running tox environments takes minutes and
    PyPI; check that the extra and every tox environment named exist."""
    lines = [line.split("#")[0].strip() for line in block.code.splitlines()]
    lines = [line for line in lines if line]
    install = next(line for line in lines if "pip install" in line)
    match = re.search(r"-e '\.\[(\w+)\]'", install)
    assert match is not None and match.group(1) in extras(), install
    envs = [line.split("-e", 1)[1].split()[0] for line in lines if line.startswith("tox -e")]
    assert envs, block.code
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    known = set(tox["tox"]["env_list"].replace(",", " ").split())
    known |= {name.split(":", 1)[1] for name in tox.sections() if name.startswith("testenv:")}
    assert set(envs) <= known, (envs, known)


CHECKS: dict[str, Callable[[Block], None]] = {"ci": check_ci, "dev": check_dev}


# -------------------------------------------------------------------- tests


def test_readme_blocks_are_all_marked() -> None:
    assert len(BLOCKS) >= 5
    for block in BLOCKS:
        if block.kind == "check":
            assert block.name in CHECKS, f"{block!r}: no check named {block.name!r}"


@pytest.fixture(params=UNITS, ids=repr)
def unit(request: pytest.FixtureRequest) -> Iterator[Block]:
    yield request.param


def test_readme_block(unit: Block, tmp_path: Path) -> None:
    if unit.kind == "check":
        CHECKS[unit.name](unit)
    elif unit.kind == "run":
        args = (
            [sys.executable, "-c", localize(unit.code)]
            if unit.lang == "python"
            else [
                "bash",
                "-c",
                localize(unit.code),
            ]
        )
        status, out = subprocess_run(args, ROOT, "")
        assert status == 0, f"{unit!r} failed:\n{out}"
    elif FULL_INSTALL and " && " in unit.code:
        exercise_server(unit, cwd=fresh_copy(tmp_path), localize_venv=False)
    else:
        exercise_server(unit)


def test_readme_paths_exist() -> None:
    """Files and directories the README names (in backticks) are in the tree."""
    text = README.read_text()
    paths = set(re.findall(r"`((?:examples|docs|tests|twisted|wsproto_cb|\.ci)/[\w./-]*)`", text))
    assert len(paths) >= 5, paths
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"README.md names paths that do not exist: {missing}"
