"""Run an Autobahn program as written and with its imports pointed at wsproto_cb.

Each program in this directory is a script written the way Autobahn's
documentation and examples write them, printing what its callbacks see on
lines that start with ``OUT:``.  A client program (``c_*``) talks to a
reference server (the ``websockets`` library) that the test starts; a server
program (``s_*``) is driven by a ``websockets`` client, one scenario per
program.  Both runs must print the same ``OUT:`` lines and the peer must see
the same things (:func:`compare`).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TIMEOUT = 20.0

IMPORTS = {
    "from autobahn.asyncio.websocket import": "from wsproto_cb.asyncio import",
    "from autobahn.twisted.websocket import": "from wsproto_cb.twisted import",
    "from autobahn.twisted.resource import": "from wsproto_cb.twisted import",
    "from autobahn.websocket.compress import": "from wsproto_cb.compress import",
    "from autobahn.websocket.types import": "from wsproto_cb.types import",
}


def port_ours(program: str) -> str:
    """The program with only its import lines changed."""
    for theirs, ours in IMPORTS.items():
        program = program.replace(theirs, ours)
    return program


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: what changes from run to run: ports, handshake keys, dates
_VARYING = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"('(?:sec-websocket-key|sec-websocket-accept|date)': )'[^']*'"), r"\1'...'"),
]


def normalise(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


#: Twisted's log prefix ("2026-01-01 10:00:00+0000 [-] "), where a program
#: sends stdout to twisted.python.log
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:.+-]+ \[[^\]]*\] ")


def printed_lines(lines: list[str]) -> list[str]:
    """The ``OUT:`` lines, each with the indented lines that continue it
    (``print(request)`` pretty-prints over several lines)."""
    out: list[str] = []
    continuing = False
    for line in lines:
        line = _LOG_PREFIX.sub("", line, count=1)
        if line.startswith("OUT:") and line != "OUT: listening":
            out.append(line)
            continuing = True
        elif continuing and line.startswith(" "):
            out[-1] += "\n" + line
        else:
            continuing = False
    return out


@dataclass
class Run:
    """What one run of a program printed, and what its peer saw."""

    out: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    output: str = ""

    def compared(self) -> tuple[list[str], list[str]]:
        return [normalise(line) for line in self.out], [normalise(s) for s in self.seen]


class Program:
    """One program file, run as ``python FILE PORT [ARGS...]`` in a subprocess."""

    def __init__(self, name: str, impl: str, workdir: Path) -> None:
        self.name = name
        text = (HERE / f"{name}.py").read_text()
        self.source = text if impl == "autobahn" else port_ours(text)
        self.path = workdir / f"{name}_{impl}.py"
        self.path.write_text(self.source)
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._listening = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._last_line_at = 0.0

    async def start(self, *args: str) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(self.path),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self.path.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            self._last_line_at = asyncio.get_running_loop().time()
            if _LOG_PREFIX.sub("", line, count=1).startswith("OUT: listening"):
                self._listening.set()

    async def listening(self) -> None:
        waiter = asyncio.ensure_future(self._listening.wait())
        assert self.proc is not None
        exited = asyncio.ensure_future(self.proc.wait())
        await asyncio.wait({waiter, exited}, timeout=TIMEOUT, return_when="FIRST_COMPLETED")
        waiter.cancel()
        exited.cancel()
        if not self._listening.is_set():
            raise AssertionError(f"{self.path.name} is not listening:\n{self.text()}")

    async def finish(self, interrupt: bool) -> Run:
        """Wait for the program to end (after SIGINT for a server); what it printed."""
        assert self.proc is not None
        if interrupt and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"{self.path.name} did not end:\n{self.text()}") from None
        if self._reader is not None:
            await self._reader
        run = Run(output=self.text())
        run.out = printed_lines(self.lines)
        return run

    async def quiet(self, quiet_for: float = 0.3, at_most: float = 5.0) -> None:
        """Wait until the program has printed nothing for ``quiet_for`` seconds
        (its last callbacks have run, however busy the machine), ``at_most`` long."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while loop.time() < start + at_most:
            if loop.time() - max(self._last_line_at, start) >= quiet_for:
                return
            await asyncio.sleep(0.05)

    def text(self) -> str:
        return "\n".join(self.lines)


Driver = Callable[[int, list[str]], Awaitable[None]]


async def run_client_program(
    name: str,
    impl: str,
    workdir: Path,
    serve: Callable[[int, list[str]], Awaitable[Any]],
    delay: float,
    args: tuple[str, ...] = (),
) -> Run:
    """Start the reference server (after ``delay``), run the client program to its end."""
    port = free_port()
    seen: list[str] = []
    program = Program(name, impl, workdir)
    await program.start(str(port), *args)
    server = None
    try:
        if delay:
            await asyncio.sleep(delay)
        server = await serve(port, seen)
        run = await program.finish(interrupt=False)
    finally:
        if program.proc is not None and program.proc.returncode is None:
            program.proc.kill()
        if server is not None:
            server.close()
            await server.wait_closed()
    run.seen = seen
    return run


async def run_server_program(
    name: str, impl: str, workdir: Path, drive: Driver, args: tuple[str, ...] = ()
) -> Run:
    """Start the server program, drive it, interrupt it."""
    port = free_port()
    seen: list[str] = []
    program = Program(name, impl, workdir)
    await program.start(str(port), *args)
    try:
        await program.listening()
        await asyncio.wait_for(drive(port, seen), TIMEOUT)
        await program.quiet()  # (let the last onClose print)
        run = await program.finish(interrupt=True)
    finally:
        if program.proc is not None and program.proc.returncode is None:
            program.proc.kill()
    run.seen = seen
    return run
