"""Find (or install) a runnable Autobahn|Testsuite ``wstest``.

Order, first match wins:

1. ``WSTEST_PYTHON`` + ``WSTEST_PATH``: a Python 2.7 interpreter and the
   directory holding the ``autobahntestsuite`` package (put on PYTHONPATH).
2. ``WSTEST``: a command, e.g. ``/opt/wstest/bin/wstest`` or
   ``PYTHONPATH=/x python2 /x/bin/wstest`` (leading ``NAME=value`` words set
   the environment). When it is a Python script, it is run through
   ``wstest_local.py`` so its servers bind 127.0.0.1; any other command (a
   container, say) is run as given and its listeners are checked afterwards.
3. A cached install in ``WSTEST_CACHE`` (default
   ``$XDG_CACHE_HOME/wsproto_cb/wstest``), installed there with pip by the
   first Python 2.7 found (``PY27``, pyenv's ``versions/2.7*``, or
   ``python2.7`` on PATH) when ``install=True``.

Otherwise the testsuite is unavailable, with a message naming what is missing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

WRAPPER = Path(__file__).with_name("wstest_local.py")
INSTALL_TIMEOUT = 900.0
PROBE_TIMEOUT = 60.0


class WstestUnavailable(Exception):
    """No wstest could be found or installed; the message says what is missing."""


@dataclass(frozen=True)
class Wstest:
    """How to start wstest: argv prefix (wstest arguments go after it) and env."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    loopback_enforced: bool = True
    origin: str = ""
    version: str = ""

    def command(self, args: Sequence[str]) -> list[str]:
        """Full argv for running wstest with ``args``."""
        return [*self.argv, *args]

    def environ(self) -> dict[str, str]:
        """Process environment for wstest: ours plus the configured additions."""
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        return env


def _wrapped(python: str, pythonpath: str | None, origin: str) -> Wstest:
    env = {"PYTHONPATH": pythonpath} if pythonpath else {}
    return Wstest(argv=(python, str(WRAPPER)), env=env, origin=origin)


def _split_assignments(words: list[str]) -> tuple[dict[str, str], list[str]]:
    env: dict[str, str] = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


def _shebang(path: Path) -> list[str] | None:
    try:
        with path.open("rb") as f:
            first = f.readline(256).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if words and Path(words[0]).name == "env":
        words = words[1:]
    if words and Path(words[0]).name.startswith("python"):
        return words
    return None


def _package_root(script: Path) -> str | None:
    """DIR for a ``pip install --target DIR`` layout (DIR/bin/wstest)."""
    root = script.resolve().parent.parent
    if (root / "autobahntestsuite").is_dir():
        return str(root)
    return None


def from_command(command: str) -> Wstest:
    """Interpret the ``WSTEST`` variable (see module docstring)."""
    env, words = _split_assignments(shlex.split(command))
    if not words:
        raise WstestUnavailable(f"WSTEST={command!r} names no program")
    python: list[str] | None = None
    script: Path | None = None
    rest: list[str] = []
    first = Path(words[0]).expanduser()
    if Path(words[0]).name.startswith("python") and len(words) > 1:
        python, script, rest = [words[0]], Path(words[1]).expanduser(), words[2:]
    elif first.is_file():
        shebang = _shebang(first)
        if shebang is not None:
            python, script, rest = shebang, first, words[1:]
    if python is not None and script is not None and script.is_file() and not rest:
        pythonpath = env.get("PYTHONPATH") or _package_root(script)
        extra = {**env, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
        return Wstest(argv=(*python, str(WRAPPER)), env=extra, origin=f"WSTEST={command} (wrapped)")
    return Wstest(argv=tuple(words), env=env, loopback_enforced=False, origin=f"WSTEST={command}")


def cache_dir() -> Path:
    """Where an auto-installed testsuite lives (``WSTEST_CACHE`` overrides)."""
    if os.environ.get("WSTEST_CACHE"):
        return Path(os.environ["WSTEST_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wsproto_cb" / "wstest"


def _pyenv_root() -> Path:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            out = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            return Path(out)
    return Path.home() / ".pyenv"


def find_python27() -> str | None:
    """First Python 2.7 interpreter found: ``PY27``, pyenv, then PATH."""
    if os.environ.get("PY27"):
        return os.environ["PY27"]
    versions = sorted((_pyenv_root() / "versions").glob("2.7*/bin/python"), reverse=True)
    for candidate in versions:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("python2.7")


def install(python27: str, target: Path) -> None:
    """``pip install --target`` the testsuite, atomically (temp dir, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        python27,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--target",
        str(staging),
        "autobahntestsuite",
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise WstestUnavailable(
                f"installing autobahntestsuite with {python27} failed: " + " | ".join(tail)
            )
        # A --target install leaves zope/ without __init__.py (it is a
        # namespace package made by a .pth file that --target ignores).
        (staging / "zope" / "__init__.py").touch()
        if target.exists():
            shutil.rmtree(staging)
        else:
            staging.rename(target)
    except subprocess.TimeoutExpired as exc:
        raise WstestUnavailable(f"installing autobahntestsuite timed out: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def probe(wstest: Wstest) -> str:
    """Run ``wstest -a``; return its version text or raise WstestUnavailable."""
    try:
        done = subprocess.run(
            wstest.command(["-a"]),
            env=wstest.environ(),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WstestUnavailable(f"wstest ({wstest.origin}) does not start: {exc}") from exc
    text = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or "Autobahn" not in text:
        raise WstestUnavailable(
            f"wstest ({wstest.origin}) does not run: exit {done.returncode}: {text[-500:]}"
        )
    return " ".join(text.split())


def discover(install_missing: bool = True) -> Wstest:
    """Return a working wstest, installing it into the cache if allowed."""
    python, path = os.environ.get("WSTEST_PYTHON"), os.environ.get("WSTEST_PATH")
    if python and path:
        found = _wrapped(python, path, f"WSTEST_PYTHON={python} WSTEST_PATH={path}")
    elif os.environ.get("WSTEST"):
        found = from_command(os.environ["WSTEST"])
    else:
        target = cache_dir()
        python27 = find_python27()
        if python27 is None:
            raise WstestUnavailable(
                "Autobahn|Testsuite unavailable: set WSTEST (a wstest command), or "
                "WSTEST_PYTHON + WSTEST_PATH, or install Python 2.7 (pyenv install "
                "2.7.18, or python2.7 on PATH) so it can be installed into "
                f"{target}"
            )
        if not (target / "autobahntestsuite" / "wstest.py").is_file():
            if not install_missing:
                raise WstestUnavailable(
                    f"Autobahn|Testsuite not installed in {target} (install not allowed)"
                )
            install(python27, target)
        found = _wrapped(python27, str(target), f"{python27} with {target}")
    return replace(found, version=probe(found))
