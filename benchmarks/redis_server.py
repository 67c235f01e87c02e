"""The tests' real redis-server and 3-master cluster (tests/backplane), for the benchmarks.

tests/ is not a package but tests/backplane is: it goes on sys.path here, once,
as it does for the tests themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if TESTS not in sys.path:
    sys.path.append(TESTS)

from backplane.rediscluster import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    RedisCluster,
    redis_cli_path,
)
from backplane.redisproc import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    RedisServer,
    redis_server_path,
)

__all__ = ["RedisCluster", "RedisServer", "redis_cli_path", "redis_server_path"]
