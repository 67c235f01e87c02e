"""The tests' real redis-server (tests/backplane/redisproc.py), for the benchmarks that need one.

tests/ is not a package but tests/backplane is: it goes on sys.path here, once,
as it does for the tests themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if TESTS not in sys.path:
    sys.path.append(TESTS)

from backplane.redisproc import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    RedisServer,
    redis_server_path,
)

__all__ = ["RedisServer", "redis_server_path"]
