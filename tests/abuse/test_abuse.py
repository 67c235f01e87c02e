"""The quick subset of the abuse suite, on both runtimes: the server survives each attack,
defends itself as designed, and its memory stays bounded.

Each test starts its own ``wsproto-cb serve`` process (see :mod:`.run`); the
full-size run, with the table, is ``python -m tests.abuse``.
"""

from __future__ import annotations

import sys

import pytest

from .catalog import QUICK, by_name
from .run import run_attack

RUNTIMES = ("asyncio", "twisted")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="measures the server through Linux's /proc"
)

#: the most the server's resident memory may grow during one quick attack, and keep after
PEAK_GROWTH_KIB = 64 * 1024
KEPT_GROWTH_KIB = 24 * 1024


@pytest.mark.asyncio_task(timeout=90)
@pytest.mark.parametrize("attack", QUICK)
@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_server_survives(runtime: str, attack: str) -> None:
    result = await run_attack(by_name(attack), runtime, quick=True)
    assert result.outcome.ok, result.outcome.text
    assert result.healthy is not False, "a normal client got no echo after the attack"
    if result.baseline is not None and result.after is not None:
        assert result.after.peak_kib - result.baseline.rss_kib < PEAK_GROWTH_KIB, result
        assert result.after.rss_kib - result.baseline.rss_kib < KEPT_GROWTH_KIB, result
