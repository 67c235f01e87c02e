"""Playing one attack against a fresh server, and the table of results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .base import Attack, Context, Outcome, masked
from .peer import Peer
from .server import Gauges, ServerProcess

__all__ = ["Result", "format_table", "healthy", "run_attack"]


@dataclass(frozen=True)
class Result:
    attack: Attack
    runtime: str
    outcome: Outcome
    #: a normal client still gets its echo afterwards (None: no server, or it was stopped)
    healthy: bool | None
    baseline: Gauges | None
    after: Gauges | None
    seconds: float

    @property
    def passed(self) -> bool:
        return self.outcome.ok and self.healthy is not False


async def healthy(port: int) -> bool:
    """A normal client connects, gets its message echoed and closes."""
    try:
        peer = await Peer.connect(port)
    except OSError:
        return False
    try:
        if not (await peer.handshake()).startswith(b"HTTP/1.1 101"):
            return False
        await peer.send(masked(0x1, b"still there?"))
        return await peer.message(10.0) == b"still there?"
    except (TimeoutError, OSError):
        return False
    finally:
        peer.close()


async def run_attack(attack: Attack, runtime: str, quick: bool, tree: Path | None = None) -> Result:
    """Start a server for ``attack`` on ``runtime``, measure it, attack, measure again."""
    start = time.monotonic()
    if attack.client_side:
        ctx = Context(runtime, quick)
        outcome = await _bounded(attack, ctx)
        return Result(attack, runtime, outcome, None, None, None, time.monotonic() - start)
    server = ServerProcess(runtime, attack.server_flags(quick), tree)
    server.start()
    try:
        if not await healthy(server.port):  # (also pays for first-connection imports)
            raise RuntimeError(f"the server does not echo before the attack:\n{server.output()}")
        server.reset_peak()
        ctx = Context(runtime, quick, server, server.gauges())
        outcome = await _bounded(attack, ctx)
        if attack.stops_server:
            return Result(
                attack, runtime, outcome, None, ctx.baseline, server.final, time.monotonic() - start
            )
        await ctx.connections_gone(5.0)
        alive = server.alive()
        ok = alive and await healthy(server.port)
        after = server.gauges() if alive else None
        return Result(attack, runtime, outcome, ok, ctx.baseline, after, time.monotonic() - start)
    finally:
        server.terminate(10.0)
        server.close()


async def _bounded(attack: Attack, ctx: Context) -> Outcome:
    try:
        async with asyncio.timeout(attack.limit):
            return await attack.run(ctx, attack.size(ctx.quick))
    except TimeoutError:
        return Outcome(f"did not finish within {attack.limit:g} s", False)
    except Exception as exc:  # (reported in the table, never hidden)
        return Outcome(f"the attack itself failed: {exc!r}", False)


def _mib(kib: float) -> str:
    return f"{kib / 1024:+.1f}"


def format_table(results: Sequence[Result]) -> str:
    """A Markdown table: attack, runtime, memory, CPU, health and what happened."""
    rows = [
        "| attack | runtime | RSS MiB | peak Δ MiB | after Δ MiB | CPU s | healthy | outcome |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        base, after = r.baseline, r.after
        if base is None or after is None:
            cells = ["-", "-", "-", "-"]
        else:
            cells = [
                f"{base.rss_kib / 1024:.1f}",
                _mib(after.peak_kib - base.rss_kib),
                _mib(after.rss_kib - base.rss_kib),
                f"{after.cpu_s - base.cpu_s:.2f}",
            ]
        health = {True: "yes", False: "NO", None: "-"}[r.healthy]
        outcome = r.outcome.text.replace("|", "/")
        if not r.outcome.ok:
            outcome = "**FAIL** " + outcome
        rows.append(
            f"| {r.attack.name} | {r.runtime} | {' | '.join(cells)} | {health} | {outcome} |"
        )
    return "\n".join(rows)
