"""Prometheus metrics: scraped over HTTP from a running server, parsed with
prometheus_client's own parser, on both runtimes, from a script, from
``wsproto-cb serve`` (one process and ``--workers 2``) and from twistd."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from wsproto_cb.metrics import Sample, merge, parse_address

from .procs import (
    REPO,
    TIMEOUT,
    TWISTD,
    Proc,
    clean_env,
    free_port,
    no_traceback,
    python,
    run,
    ws_client,
)

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families

try:
    from runtime.harness import RuntimeHarness
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import RuntimeHarness

CLI = ("-m", "wsproto_cb")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, keyed by (name, sorted labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as reply:
        text = reply.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get(("wsproto_cb_" + name, tuple(sorted(labels.items()))), 0.0)


def scrape_until(port: int, name: str, expected: float, **labels: str) -> dict[Any, float]:
    """Scrape until ``name`` reaches ``expected`` (workers' snapshots lag by up to 1 s)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        samples = scrape(port)
        if value(samples, name, **labels) == expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.2)


# ---------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:9100", ("127.0.0.1", 9100)), (":0", ("127.0.0.1", 0)), ("[::1]:80", ("::1", 80))],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["9100", "host:", "host:port", "h:70000", ""])
def test_parse_address_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(text)


def test_merge_adds_up_samples_by_name_and_labels() -> None:
    one = [Sample("connections_open", (), 2), Sample("close_codes_sent", (("code", "1000"),), 1)]
    two = [Sample("connections_open", (), 3), Sample("close_codes_sent", (("code", "1001"),), 4)]
    merged = {(s.name, s.labels): s.value for s in merge([one, two])}
    assert merged == {
        ("connections_open", ()): 5,
        ("close_codes_sent", (("code", "1000"),)): 1,
        ("close_codes_sent", (("code", "1001"),)): 4,
    }


# ------------------------------------------------------- a script, both runtimes


class EchoOrFail:
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if payload == b"boom":
            raise RuntimeError("the application failed on purpose")
        self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]


@pytest.mark.asyncio_task
async def test_a_script_serves_what_happened(runtime: RuntimeHarness) -> None:
    from wsproto_cb.prometheus import serve_metrics

    factory = runtime.server_factory(EchoOrFail, allowedOrigins=["https://good.example"])
    port = await runtime.listen(factory)
    server, metrics_port = serve_metrics(factory, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}/"
    try:
        async with connect(url, origin="https://good.example") as ws:  # type: ignore[arg-type]
            for text in ("hello", "héllo"):
                await ws.send(text)
                assert await ws.recv() == text
            await ws.close(4000, "done")
        async with connect(url, origin="https://good.example") as ws:  # type: ignore[arg-type]
            await ws.send("boom")
            with pytest.raises(ConnectionClosedError) as failed:
                await ws.recv()
            assert failed.value.rcvd is not None and failed.value.rcvd.code == 1011
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, origin="https://evil.example")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        await runtime.wait(_closed_all(factory))
        samples = await asyncio.get_running_loop().run_in_executor(None, scrape, metrics_port)
    finally:
        server.shutdown()
        server.server_close()
    assert value(samples, "connections_opened_total") == 2
    assert value(samples, "connections_open") == 0
    assert value(samples, "handshakes_refused_total", status="403") == 1
    assert value(samples, "callback_errors_total") == 1
    assert value(samples, "close_codes_received_total", code="4000") == 1
    assert value(samples, "close_codes_sent_total", code="1000") == 1  # the answer (not an echo)
    assert value(samples, "close_codes_sent_total", code="1011") == 1
    assert value(samples, "messages_received_total") == 3
    assert value(samples, "messages_sent_total") == 2
    assert (
        value(samples, "payload_bytes_received_total") == len("hello") + len("héllo".encode()) + 4
    )
    assert value(samples, "wire_bytes_received_total") > value(
        samples, "payload_bytes_received_total"
    )
    assert value(samples, "workers") == 1


async def _closed_all(factory: Any) -> None:
    while factory.countConnections:
        await asyncio.sleep(0.02)


# ------------------------------------------------------------ the command line


@pytest.fixture
def metrics_port() -> Iterator[int]:
    yield free_port()


@pytest.mark.parametrize("runtime_name", ["asyncio", "twisted"])
def test_serve_with_workers_adds_up_every_worker(runtime_name: str, metrics_port: int) -> None:
    port = free_port()
    server = Proc(
        [
            *python(),
            *CLI,
            "serve",
            "--runtime",
            runtime_name,
            "--port",
            str(port),
            "--workers",
            "2",
            "--backplane",
            "memory://",
            "--metrics",
            f"127.0.0.1:{metrics_port}",
        ]
    )
    try:
        server.wait_for(r"metrics on http://127\.0\.0\.1:\d+/metrics")
        server.wait_for(r"worker 2/2 .*on ws://")
        server.wait_for(r"worker 1/2 .*on ws://")
        clients = 12
        for _ in range(clients):
            with ws_client(f"ws://127.0.0.1:{port}") as ws:
                ws.send("x")
                assert ws.recv(timeout=TIMEOUT) == "x"
        samples = scrape_until(metrics_port, "connections_opened_total", clients)
        assert value(samples, "workers") == 2
        assert value(samples, "connections_opened_total") == clients
        samples = scrape_until(metrics_port, "messages_received_total", clients)
        assert value(samples, "messages_received_total") == clients
        server.signal()
        assert server.wait() == 0
    finally:
        server.kill()
    no_traceback(server.output)


@pytest.mark.parametrize("workers", [1, 2])
def test_twistd_serves_metrics(tmp_path: Path, metrics_port: int, workers: int) -> None:
    port = free_port()
    server = Proc(
        [
            *python(),
            "-c",
            TWISTD,
            "-n",
            "--pidfile=",
            "wsproto_cb",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
            "--workers",
            str(workers),
            "--backplane",
            "memory://",
            "--metrics",
            f"127.0.0.1:{metrics_port}",
        ],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(REPO)),  # (the plugin, from the checkout)
    )
    try:
        server.wait_for(r"metrics (of all workers )?on http://127\.0\.0\.1:\d+/metrics")
        if workers == 1:
            server.wait_for(r"WebSocketServerFactory starting on \d+")
        for index in range(1, workers + 1 if workers > 1 else 1):
            server.wait_for(rf"worker {index}/{workers} .*WebSocketServerFactory starting on")
        clients = 4 * workers
        for _ in range(clients):
            with ws_client(f"ws://127.0.0.1:{port}") as ws:
                ws.send("x")
                assert ws.recv(timeout=TIMEOUT) == "x"
        samples = scrape_until(metrics_port, "connections_opened_total", clients)
        assert value(samples, "connections_opened_total") == clients
        assert value(samples, "workers") == workers
        server.signal()
        assert server.wait() == 0
    finally:
        server.kill()


@pytest.mark.parametrize("command", ["serve", "twistd"])
def test_a_bad_metrics_address_is_a_usage_error(tmp_path: Path, command: str) -> None:
    if command == "serve":
        done = run([*python(), *CLI, "serve", "--metrics", "nine-thousand"], cwd=tmp_path)
    else:
        done = run(
            [*python(), "-c", TWISTD, "-n", "--pidfile=", "wsproto_cb", "--metrics", "x:y"],
            cwd=tmp_path,
            env=clean_env(PYTHONPATH=str(REPO)),
        )
    assert done.returncode != 0
    assert "HOST:PORT" in done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)


def test_every_metric_is_documented() -> None:
    from wsproto_cb.metrics import FAMILIES, PREFIX

    text = (REPO / "docs" / "deployment.md").read_text()
    missing = [family.name for family in FAMILIES if f"`{PREFIX}{family.name}" not in text]
    assert not missing, f"docs/deployment.md does not list {missing}"
