"""What every benchmark echo server shares: arguments, readiness, profiling, exit.

A server binds 127.0.0.1 on the given port (0: any free port), prints
``READY <port>`` on stdout once it listens, and runs until SIGTERM/SIGINT
or ``--max-seconds``.  Set ``WSBENCH_CPROFILE=FILE`` to run it under
cProfile and write the stats to FILE when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

HOST = "127.0.0.1"
MAX_MESSAGE = 16 * 1024 * 1024  # every server: 1 MiB messages must pass

_profiler: cProfile.Profile | None = None


def parse_args(
    doc: str | None,
    loops: bool = True,
    autobahn_accept: bool = False,
    metrics: bool = False,
    reactors: bool = False,
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--compress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="accept permessage-deflate when a client offers it (default: yes)",
    )
    if loops:
        parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    if reactors:
        parser.add_argument(
            "--reactor",
            choices=["epoll", "asyncio", "uvloop"],
            default="epoll",
            help="Twisted reactor: epoll, asyncio (stock loop), uvloop (asyncio reactor on uvloop)",
        )
    if autobahn_accept:
        parser.add_argument(
            "--autobahn-accept",
            action="store_true",
            help="accept deflate as Autobahn's examples do: PerMessageDeflateOfferAccept(offer)",
        )
    if metrics:
        parser.add_argument(
            "--metrics",
            action="store_true",
            help="serve Prometheus metrics and scrape them once a second, in this process",
        )
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args()
    _start()
    return args


def _start() -> None:
    global _profiler
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if os.environ.get("WSBENCH_CPROFILE"):
        _profiler = cProfile.Profile()
        _profiler.enable()


def ready(port: int) -> None:
    print(f"READY {port}", flush=True)


def finish() -> None:
    """Write the profile (if any) and leave at once (no teardown of connections)."""
    if _profiler is not None:
        _profiler.disable()
        _profiler.dump_stats(os.environ["WSBENCH_CPROFILE"])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_asyncio(
    start: Callable[[argparse.Namespace], Awaitable[Any]], args: argparse.Namespace
) -> None:
    """Run ``start(args)`` (it returns the port) on the chosen loop until told to stop."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.call_later(args.max_seconds, stop.set)
        port = await start(args)
        ready(port)
        await stop.wait()

    factory = None
    if getattr(args, "loop", "asyncio") == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())
    finish()


def run_twisted(listen: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> None:
    """Run the reactor (installed by the caller first) until SIGTERM/SIGINT."""
    from twisted.internet import reactor

    def started() -> None:
        ready(listen(args))

    reactor.callWhenRunning(started)  # type: ignore[attr-defined]
    reactor.callLater(args.max_seconds, reactor.stop)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]  # stops on SIGTERM/SIGINT
    finish()
