"""``python -m tests.abuse``: play the attacks against both runtimes and print the table.

Run from the repository root::

    python -m tests.abuse                         # every attack, full size, both runtimes
    python -m tests.abuse --quick                 # the small sizes (what .ci/run checks)
    python -m tests.abuse slowloris sigterm --runtime twisted
    python -m tests.abuse --tree /tmp/old         # serve another checkout's wsproto_cb
    python -m tests.abuse --list

The exit status is 1 when an attack found a hole or left the server unhealthy.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .catalog import ATTACKS, by_name
from .run import Result, format_table, run_attack
from .server import raise_fd_limit

RUNTIMES = ("asyncio", "twisted")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.abuse", description=__doc__.split("\n")[0]
    )
    parser.add_argument("attacks", nargs="*", metavar="ATTACK", help="attacks to play (all)")
    parser.add_argument("--runtime", choices=(*RUNTIMES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="the small sizes of .ci/run")
    parser.add_argument("--tree", type=Path, help="serve the wsproto_cb of this checkout")
    parser.add_argument("--list", action="store_true", help="list the attacks and exit")
    return parser


async def _play(args: argparse.Namespace) -> list[Result]:
    attacks = [by_name(name) for name in args.attacks] if args.attacks else list(ATTACKS)
    runtimes = RUNTIMES if args.runtime == "both" else (args.runtime,)
    results = []
    for attack in attacks:
        for runtime in runtimes:
            result = await run_attack(attack, runtime, args.quick, args.tree)
            verdict = "ok" if result.passed else "FAIL"
            print(
                f"{attack.name} on {runtime}: {verdict} ({result.seconds:.1f} s): "
                f"{result.outcome.text}",
                file=sys.stderr,
                flush=True,
            )
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        for attack in ATTACKS:
            full, quick = attack.sizes
            print(f"{attack.name:22} size {full} (quick {quick}); defence: {attack.defence}")
        return 0
    limit = raise_fd_limit()
    print(f"RLIMIT_NOFILE {limit}", file=sys.stderr)
    # Twisted clients (the wss-cleartext check) run on this asyncio loop.
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    try:
        results = loop.run_until_complete(_play(args))
    finally:
        loop.close()
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
