"""Prometheus exposition of :mod:`wsproto_cb.metrics` (the ``metrics`` extra).

One call from a script::

    from wsproto_cb.prometheus import serve_metrics
    serve_metrics(factory, "127.0.0.1", 9100)   # http://127.0.0.1:9100/metrics

``wsproto-cb serve --metrics HOST:PORT`` and ``twistd wsproto_cb --metrics
HOST:PORT`` do the same; with ``--workers N`` the parent process serves the
sum of every worker's figures (see :mod:`wsproto_cb.metrics`).  The HTTP
endpoint is prometheus_client's own, on a thread of its own: a scrape never
waits for the event loop, and the event loop never waits for a scrape.

Only this module imports prometheus_client, and only when asked for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.core import Metric

    from .contracts import ConnectionOwner

from .metrics import (
    FAMILIES,
    METRICS_DIR_ENV,
    PREFIX,
    Sample,
    SnapshotWriter,
    merge,
    parse_address,
    read_snapshots,
    snapshot,
)
from .workers import current_worker

__all__ = [
    "SampleCollector",
    "serve_metrics",
    "serve_worker_metrics",
    "start_process_metrics",
    "worker_metrics_parent",
]

#: How often a worker replaces its snapshot file (seconds): the parent's
#: figures lag the workers' by at most this much.
SNAPSHOT_INTERVAL = 1.0


def _require_client() -> ModuleType:
    try:
        import prometheus_client
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "metrics need prometheus_client: pip install 'wsproto_cb[metrics]'"
        ) from exc
    return prometheus_client


class SampleCollector:
    """A prometheus_client collector that reads samples at scrape time."""

    def __init__(self, samples: Callable[[], Sequence[Sample]]) -> None:
        self._samples = samples

    def collect(self) -> Iterator[Metric]:
        """Yield one metric family per entry of :data:`~wsproto_cb.metrics.FAMILIES`."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        by_name: dict[str, list[Sample]] = {}
        for sample in self._samples():
            by_name.setdefault(sample.name, []).append(sample)
        for family in FAMILIES:
            kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
            metric = kind(PREFIX + family.name, family.help, labels=list(family.labels))
            samples = by_name.get(family.name, [])
            if not samples and not family.labels:
                samples = [Sample(family.name, (), 0.0)]
            for sample in sorted(samples, key=lambda s: s.labels):
                metric.add_metric([value for _, value in sample.labels], sample.value)
            yield metric


def _start(collector: SampleCollector, host: str, port: int) -> tuple[WSGIServer, int]:
    client = _require_client()
    registry = client.CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, _thread = client.start_http_server(port, addr=host, registry=registry)
    return server, server.server_address[1]


def serve_metrics(
    factories: ConnectionOwner | Iterable[ConnectionOwner],
    host: str = "127.0.0.1",
    port: int = 9100,
) -> tuple[WSGIServer, int]:
    """Serve ``/metrics`` for one factory (or several) of this process.

    Returns the HTTP server (``.shutdown()`` stops it) and the port it
    listens on (useful with ``port=0``).
    """
    if isinstance(factories, list | tuple | set):
        group: list[ConnectionOwner] = list(factories)
    else:  # (one factory)
        group = [cast("ConnectionOwner", factories)]
    return _start(SampleCollector(lambda: snapshot(group)), host, port)


def serve_worker_metrics(directory: Path, host: str, port: int) -> tuple[WSGIServer, int]:
    """In a parent of workers: serve the sum of the snapshots the workers leave in ``directory``."""
    return _start(SampleCollector(lambda: merge(read_snapshots(directory))), host, port)


@contextlib.contextmanager
def worker_metrics_parent(address: str) -> Iterator[tuple[str, int]]:
    """In the parent of ``--workers N``: serve every worker's figures while the block runs.

    The workers, started inside the block, inherit :data:`METRICS_DIR_ENV`
    and write their snapshots there (:func:`start_process_metrics`).
    Yields the address served.
    """
    host, port = parse_address(address)
    directory = tempfile.mkdtemp(prefix="wsproto_cb-metrics-")
    os.environ[METRICS_DIR_ENV] = directory
    try:
        server, bound = serve_worker_metrics(Path(directory), host, port)
        try:
            yield host, bound
        finally:
            server.shutdown()
            server.server_close()
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def start_process_metrics(
    factory: ConnectionOwner, address: str | None
) -> tuple[Callable[[], None], tuple[str, int] | None]:
    """Metrics for this process's ``factory``; returns ``(stop, address served or None)``.

    A worker whose parent serves metrics writes snapshots for it; otherwise,
    with an ``address``, this process serves ``/metrics`` itself; without
    one, nothing happens.
    """
    directory = os.environ.get(METRICS_DIR_ENV)
    worker = current_worker()
    if directory and worker is not None:
        writer = SnapshotWriter(
            lambda: [factory], Path(directory), str(worker[0]), SNAPSHOT_INTERVAL
        )
        writer.start()
        return writer.stop, None
    if address is None:
        return (lambda: None), None
    host, port = parse_address(address)
    server, bound = serve_metrics(factory, host, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop, (host, bound)
