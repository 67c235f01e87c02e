"""Autobahn|Testsuite quick set for the four agents (marker ``conformance``).

Plus fast unit tests of the runner (report parsing, docs regeneration, the
loopback wrapper, wstest discovery), which run without wstest.

One test per agent (server-asyncio, server-twisted, client-asyncio,
client-twisted), each failing with the list of FAILED cases. Skipped when
no wstest can be found or installed (no Python 2.7), or when the
implementation's runtime modules do not exist yet. ``CONFORMANCE_IMPL=autobahn``
runs the same checks against Autobahn|Python.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(_REPO_ROOT))

from tests.conformance import docfile, wstest_local  # noqa: E402
from tests.conformance.agents import (  # noqa: E402
    Agent,
    _is_loopback,
    check_loopback,
    listening_addresses,
    run_agent,
)
from tests.conformance.discovery import (  # noqa: E402
    WRAPPER,
    Wstest,
    WstestUnavailable,
    discover,
    from_command,
)
from tests.conformance.report import (  # noqa: E402
    AgentRun,
    CaseResult,
    load_cases,
    markdown_summary,
    ratios,
    status_of,
)
from tests.conformance.run import (  # noqa: E402
    QUICK_CASES,
    QUICK_EXCLUDE,
    QUICK_TIMEOUT,
    patterns,
    select_agents,
)

IMPL = os.environ.get("CONFORMANCE_IMPL", "wsproto_cb")

# Registers the `conformance` marker and puts it on these tests (so they run
# under --strict-markers even where the pytest configuration does not list it).
pytest_plugins = ("tests.conformance.pytest_plugin",)


@pytest.fixture(scope="module")
def wstest() -> Wstest:
    try:
        return discover(install_missing=True)
    except WstestUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("agent", select_agents(IMPL, "all", "all"), ids=lambda a: a.id)
def test_quick_conformance(agent: Agent, wstest: Wstest, tmp_path: Path) -> None:
    module = f"{agent.impl}.{agent.runtime}"
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    run = run_agent(agent, wstest, tmp_path, QUICK_CASES, QUICK_EXCLUDE, QUICK_TIMEOUT)
    where = f"(reports in {run.report_dir})"
    assert run.error is None, f"{agent.name}: {run.error} {where}"
    # The quick set has about 300 cases; far fewer means wstest stopped early.
    assert len(run.cases) > 250, f"{agent.name}: only {len(run.cases)} cases reported {where}"
    failed = [
        f"{c.case_id}: behavior={c.behavior} close={c.behavior_close} | {c.description}"
        f" | {c.result}"
        for c in run.failed
    ]
    assert not failed, f"{agent.name}: {len(failed)} FAILED {where}\n" + "\n".join(failed)


# Fast checks of the runner itself (no wstest needed).


def _write_report(root: Path, agent: str, cases: dict[str, tuple[str, str]]) -> None:
    index: dict[str, dict[str, object]] = {}
    for case_id, (behavior, close) in cases.items():
        name = f"case_{case_id.replace('.', '_')}.json"
        detail = {"description": f"about {case_id}", "result": "r " * 200, "resultClose": "rc"}
        (root / name).write_text(json.dumps(detail))
        index[case_id] = {
            "behavior": behavior,
            "behaviorClose": close,
            "duration": 7,
            "remoteCloseCode": 1000,
            "reportfile": name,
        }
    (root / "index.json").write_text(json.dumps({agent: index}))


def test_status_rules() -> None:
    assert status_of("OK", "OK") == "OK"
    assert status_of("OK", "WRONG CODE") == "NON-STRICT"
    assert status_of("OK", "UNCLEAN") == "FAILED"
    assert status_of("INFORMATIONAL", "FAILED") == "FAILED"
    assert status_of("NO_CLOSE", "OK") == "FAILED"
    assert status_of("UNIMPLEMENTED", "UNCLEAN") == "UNIMPLEMENTED"


def test_load_cases_counts_groups_and_details(tmp_path: Path) -> None:
    _write_report(
        tmp_path,
        "a",
        {
            "1.1.1": ("OK", "OK"),
            "9.1.2": ("OK", "OK"),
            "12.1.10": ("FAILED", "OK"),
            "12.1.9": ("NON-STRICT", "OK"),
            "7.13.1": ("INFORMATIONAL", "INFORMATIONAL"),
        },
    )
    run = AgentRun("a", "fuzzingclient", "autobahn", "asyncio", cases=load_cases(tmp_path, "a"))
    assert [c.case_id for c in run.cases] == ["1.1.1", "7.13.1", "9.1.2", "12.1.9", "12.1.10"]
    counts = run.counts()
    assert counts["12"]["FAILED"] == 1 and counts["12"]["NON-STRICT"] == 1
    assert counts["9.1"]["OK"] == 1 and counts["total"]["OK"] == 2
    assert run.durations_by_group()["12"] == 14
    failed = run.failed
    assert [c.case_id for c in failed] == ["12.1.10"] and not run.ok
    assert failed[0].description == "about 12.1.10" and len(failed[0].result) <= 160
    assert run.cases[0].description == ""  # clean OK cases skip the detail file
    assert "12.1.10" in markdown_summary([run], ["head"])


def test_ratios_per_group() -> None:
    ours = AgentRun("o", "fuzzingclient", "x", "asyncio")
    ref = AgentRun("r", "fuzzingclient", "autobahn", "asyncio")
    ours.cases = [CaseResult("9.1.1", "OK", "OK", 30), CaseResult("9.1.2", "OK", "OK", 10)]
    ref.cases = [CaseResult("9.1.1", "OK", "OK", 20), CaseResult("9.2.1", "OK", "OK", 5)]
    assert ratios(ours, ref) == [("9.1", 30, 20, 1.5)]


def test_docs_keep_explanations(tmp_path: Path) -> None:
    path = tmp_path / "conformance.md"
    docfile.write(path, "first run")
    text = path.read_text().replace("(Nothing here yet.)", "7.13.1: we answer 1002.")
    path.write_text(text)
    docfile.write(path, "second run")
    text = path.read_text()
    assert "second run" in text and "first run" not in text
    assert "7.13.1: we answer 1002." in text


def test_wstest_wrapper_forces_loopback_and_no_web_port() -> None:
    calls: list[tuple[object, ...]] = []

    class FakeReactor:
        def listenTCP(self, *args: object) -> None:
            calls.append(args)

        def listenSSL(self, *args: object) -> None:
            calls.append(args)

    reactor = FakeReactor()
    wstest_local.force_loopback(reactor)
    reactor.listenTCP(9001, "factory")
    reactor.listenSSL(9002, "factory", "ctx", 50, "0.0.0.0")
    reactor.listenTCP(9003, "factory", 50, "::1")
    assert [c[-1] for c in calls] == ["127.0.0.1", "127.0.0.1", "::1"]
    assert wstest_local.with_web_port_off(["-m", "fuzzingserver"])[-2:] == ["-u", "0"]
    assert wstest_local.with_web_port_off(["-u", "8080"]) == ["-u", "8080"]


def test_wstest_command_forms(tmp_path: Path) -> None:
    (tmp_path / "autobahntestsuite").mkdir()
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "wstest"
    script.write_text("#!/usr/bin/env python2.7\nfrom autobahntestsuite.wstest import run\n")
    wrapped = from_command(str(script))
    assert wrapped.argv == ("python2.7", str(WRAPPER))
    assert wrapped.env["PYTHONPATH"] == str(tmp_path) and wrapped.loopback_enforced
    explicit = from_command(f"PYTHONPATH=/x python2 {script}")
    assert explicit.argv == ("python2", str(WRAPPER)) and explicit.env["PYTHONPATH"] == "/x"
    raw = from_command("docker run --rm autobahn wstest")
    assert raw.argv[0] == "docker" and not raw.loopback_enforced


def test_loopback_check_sees_listeners() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert listening_addresses(port) == ["0100007F"]
        check_loopback(port)
    assert not _is_loopback("00000000")


def test_agents_and_patterns() -> None:
    ids = [a.id for a in select_agents("autobahn", "all", "all")]
    assert ids == ["server-asyncio", "server-twisted", "client-asyncio", "client-twisted"]
    assert [a.name for a in select_agents("wsproto_cb", "twisted", "client")] == [
        "wsproto_cb-twisted-client"
    ]
    assert patterns("1.*, 12.1.*,all") == ("1.*", "12.1.*", "*")
