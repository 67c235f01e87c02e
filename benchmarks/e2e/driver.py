"""The load driver: one scenario against one running server, result as JSON.

    python -m benchmarks.e2e.driver '{"scenario": "S2", "port": 9000, "pid": 1234, ...}'

The runner starts it under ``taskset -c 1`` (the servers are on core 0).
Settings: ``scenario``, ``port``, ``pid`` (the server's, for its CPU time
and memory), ``raw`` (a plain TCP echo: no handshake, the echo is the
masked frame itself), ``variant`` ("plain"/"deflate" for S4/S6),
``conns``, ``warmup``, ``duration``, ``max_ops`` and ``timeout`` (a hard
limit for the whole process: SIGALRM ends it).
"""

from __future__ import annotations

import json
import signal
import sys
import traceback

from .procstat import raise_nofile
from .scenarios import SCENARIOS


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    signal.alarm(int(cfg.get("timeout", 120)))  # default action: terminate
    raise_nofile(int(cfg.get("conns", 1)) + 256)
    try:
        result = SCENARIOS[cfg["scenario"]](cfg)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
