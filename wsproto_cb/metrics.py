"""Counters for running a server in service: what ``--metrics`` exposes to Prometheus.

Every factory has one :class:`ServerMetrics` (``factory.metrics``).  The
callback layer bumps it at a handful of rare events (a connection opened, a
handshake refused, a close, a callback error, an auto-ping timeout, a
broadcast drop); nothing is counted per message here.  Message and byte
counts come from each connection's ``trafficStats`` (which Autobahn programs
read too): a connection's figures are added to the factory's totals when it
closes, and the open connections' are summed when a snapshot is taken.  So
metrics cost nothing on the hot path beyond ``trafficStats`` itself, whether
or not anyone scrapes them.

A snapshot (:func:`snapshot`) is a list of :class:`Sample` values: plain
data, which :mod:`wsproto_cb.prometheus` turns into Prometheus metric
families.  With several worker processes every worker writes its snapshot to
a file in a shared directory once a second (:class:`SnapshotWriter`), and the
parent serves the sum of all of them (:func:`merge`), so one scrape shows
the whole server, as prometheus_client's multiprocess mode would, without
that mode's per-increment file writes.

This module imports neither runtime nor prometheus_client.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .stats import TrafficStats

if TYPE_CHECKING:
    from .contracts import ConnectionOwner
    from .protocol import WebSocketProtocol

_T = TypeVar("_T")

__all__ = [
    "FAMILIES",
    "METRICS_DIR_ENV",
    "Family",
    "Sample",
    "ServerMetrics",
    "SnapshotWriter",
    "merge",
    "parse_address",
    "read_snapshots",
    "snapshot",
]

#: The directory in which worker processes leave their snapshots.
METRICS_DIR_ENV = "WSPROTO_CB_METRICS_DIR"

PREFIX = "wsproto_cb_"


@dataclass(frozen=True)
class Family:
    """One metric: its name (without the prefix), type, help text and label names."""

    name: str
    kind: str  # "counter" or "gauge"
    help: str
    labels: tuple[str, ...] = ()


FAMILIES: tuple[Family, ...] = (
    Family("connections", "gauge", "TCP connections held, the opening handshake included."),
    Family("connections_open", "gauge", "WebSocket connections open (handshake done, not closed)."),
    Family("connections_opened", "counter", "WebSocket connections that completed the handshake."),
    Family(
        "handshakes_refused",
        "counter",
        "Opening handshakes answered with an HTTP error, by status code.",
        ("status",),
    ),
    Family("messages_received", "counter", "Data messages received."),
    Family("messages_sent", "counter", "Data messages sent."),
    Family("payload_bytes_received", "counter", "Message payload bytes received (inflated)."),
    Family("payload_bytes_sent", "counter", "Message payload bytes sent (before compression)."),
    Family("wire_bytes_received", "counter", "Bytes read from the sockets of open connections."),
    Family("wire_bytes_sent", "counter", "Bytes written to the sockets of open connections."),
    Family("close_codes_sent", "counter", "Close frames sent, by close code.", ("code",)),
    Family("close_codes_received", "counter", "Close frames received, by close code.", ("code",)),
    Family("callback_errors", "counter", "Exceptions from callbacks (the connection fails, 1011)."),
    Family("autoping_timeouts", "counter", "Connections dropped because a ping got no answer."),
    Family("broadcast_deliveries", "counter", "Messages broadcast, counted per recipient."),
    Family("broadcast_drops", "counter", "Broadcast messages a slow recipient did not get."),
    Family("backplane_up", "gauge", "1 while the cross-process backplane is connected, else 0."),
    Family("backplane_published", "counter", "Messages published to the backplane."),
    Family("backplane_received", "counter", "Messages received from other nodes."),
    Family("backplane_gaps", "counter", "Gaps seen in other nodes' message sequences."),
    Family("backplane_lost", "counter", "Times the backplane link was lost."),
    Family("backplane_reconnects", "counter", "Times a lost backplane link came back."),
    Family("workers", "gauge", "Processes whose figures this scrape adds up."),
)

_BY_NAME = {family.name: family for family in FAMILIES}

#: (family name, trafficStats attribute) for the per-connection traffic counts
TRAFFIC: tuple[tuple[str, str], ...] = (
    ("messages_received", "incomingWebSocketMessages"),
    ("messages_sent", "outgoingWebSocketMessages"),
    ("payload_bytes_received", "incomingOctetsAppLevel"),
    ("payload_bytes_sent", "outgoingOctetsAppLevel"),
    ("wire_bytes_received", "incomingOctetsWireLevel"),
    ("wire_bytes_sent", "outgoingOctetsWireLevel"),
)

_TRAFFIC_NAMES = tuple(name for name, _ in TRAFFIC)  # (TrafficStats.totals' order)


@dataclass(frozen=True)
class Sample:
    """One value of a family: ``labels`` pairs in the family's label order."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


class ServerMetrics:
    """A factory's event counters and the traffic of its closed connections."""

    __slots__ = (
        "_traffic_closed",
        "autoping_timeouts",
        "broadcast_deliveries",
        "broadcast_drops",
        "callback_errors",
        "close_codes_received",
        "close_codes_sent",
        "connections_opened",
        "handshakes_refused",
    )

    def __init__(self) -> None:
        self.connections_opened = 0
        self.callback_errors = 0
        self.autoping_timeouts = 0
        self.broadcast_deliveries = 0
        self.broadcast_drops = 0
        self.handshakes_refused: Counter[int] = Counter()
        self.close_codes_sent: Counter[int] = Counter()
        self.close_codes_received: Counter[int] = Counter()
        #: traffic counts of connections already closed, in TRAFFIC's order
        self._traffic_closed = [0] * len(TRAFFIC)

    @property
    def traffic_closed(self) -> Counter[str]:
        """Traffic counts of connections already closed, by family name."""
        return Counter(dict(zip(_TRAFFIC_NAMES, self._traffic_closed, strict=True)))

    def connection_closed(self, proto: WebSocketProtocol) -> None:
        """Fold a closed connection's close codes and traffic into the totals."""
        sent, received = proto._close_codes_sent_received()
        if sent is not None:
            self.close_codes_sent[sent] += 1
        if received is not None:
            self.close_codes_received[received] += 1
        stats = getattr(proto, "trafficStats", None)
        if stats is None:
            return
        # (every connection passes here: the six figures in one call, in
        # TRAFFIC's order, added to a list)
        if isinstance(stats, TrafficStats):
            counts = stats.totals()
        else:  # (an object the application put in its place)
            counts = tuple(getattr(stats, attribute) for _, attribute in TRAFFIC)
        totals = self._traffic_closed
        for index, count in enumerate(counts):
            totals[index] += count


def _traffic(proto: WebSocketProtocol) -> dict[str, int]:
    stats = getattr(proto, "trafficStats", None)
    if stats is None:
        return {}
    return {name: getattr(stats, attribute, 0) for name, attribute in TRAFFIC}


def _stable(items: Callable[[], Iterable[_T]]) -> list[_T]:
    """``list(items())``, retried if the event loop changed the set meanwhile.

    Snapshots are taken on the exposition's thread; the loop's thread may add
    or remove a connection at the same moment.
    """
    for _ in range(10):
        with contextlib.suppress(RuntimeError):
            return list(items())
    return []


def snapshot(factories: Iterable[ConnectionOwner]) -> list[Sample]:
    """The current figures of one process, summed over ``factories``."""
    values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    backplanes: dict[int, object] = {}
    for factory in factories:
        metrics: ServerMetrics = factory.metrics
        connections = _stable(factory._connections.__iter__)
        open_connections = _stable(factory._open_connections.__iter__)
        values["connections", ()] += len(connections)
        values["connections_open", ()] += len(open_connections)
        values["connections_opened", ()] += metrics.connections_opened
        values["callback_errors", ()] += metrics.callback_errors
        values["autoping_timeouts", ()] += metrics.autoping_timeouts
        values["broadcast_deliveries", ()] += metrics.broadcast_deliveries
        values["broadcast_drops", ()] += metrics.broadcast_drops
        for status, count in list(metrics.handshakes_refused.items()):
            values["handshakes_refused", (("status", str(status)),)] += count
        for code, count in list(metrics.close_codes_sent.items()):
            values["close_codes_sent", (("code", str(code)),)] += count
        for code, count in list(metrics.close_codes_received.items()):
            values["close_codes_received", (("code", str(code)),)] += count
        for name, count in metrics.traffic_closed.items():
            values[name, ()] += count
        for proto in connections:
            for name, count in _traffic(proto).items():
                values[name, ()] += count
        backplane = getattr(factory, "backplane", None)
        if backplane is not None and getattr(backplane, "crossProcess", False):
            backplanes[id(backplane)] = backplane
    for backplane in backplanes.values():
        stats = getattr(backplane, "stats", None)
        values["backplane_up", ()] += 1 if getattr(backplane, "connected", False) else 0
        if stats is not None:
            values["backplane_published", ()] += stats.published
            values["backplane_received", ()] += stats.received
            values["backplane_gaps", ()] += stats.gaps
            values["backplane_lost", ()] += stats.lost
            values["backplane_reconnects", ()] += getattr(stats, "reconnects", 0)
    values["workers", ()] = 1
    return [Sample(name, labels, float(value)) for (name, labels), value in values.items()]


def merge(snapshots: Iterable[list[Sample]]) -> list[Sample]:
    """Add up several processes' snapshots, sample by sample."""
    total: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for samples in snapshots:
        for sample in samples:
            key = (sample.name, sample.labels)
            total[key] = total.get(key, 0.0) + sample.value
    return [Sample(name, labels, value) for (name, labels), value in total.items()]


def parse_address(text: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``":PORT"``, ``"[::1]:PORT"``) -> ``(host, port)``; ValueError if not."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"metrics address {text!r} is not HOST:PORT (like 127.0.0.1:9100)")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


def _encode(samples: list[Sample]) -> str:
    return json.dumps([[s.name, [list(pair) for pair in s.labels], s.value] for s in samples])


def _decode(text: str) -> list[Sample]:
    samples = []
    for name, labels, value in json.loads(text):
        if name in _BY_NAME:  # (a file from another version may know other names)
            samples.append(Sample(name, tuple((k, v) for k, v in labels), float(value)))
    return samples


def read_snapshots(directory: Path) -> list[list[Sample]]:
    """Every worker's last snapshot in ``directory`` (files being replaced are skipped)."""
    out = []
    for path in sorted(directory.glob("worker-*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError):
            out.append(_decode(path.read_text()))
    return out


class SnapshotWriter:
    """In a worker: write this process's snapshot to ``directory`` every ``interval`` s.

    A daemon thread, so it needs no event loop of either runtime; each file is
    replaced atomically (write, then rename), and removed when stopped.
    """

    def __init__(
        self,
        factories: Callable[[], Iterable[ConnectionOwner]],
        directory: Path,
        name: str,
        interval: float,
    ) -> None:
        self._factories = factories
        self.path = directory / f"worker-{name}.json"
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wsproto_cb-metrics", daemon=True)

    def start(self) -> None:
        """Write the first snapshot now, then keep writing in the background."""
        self.write()
        self._thread.start()

    def write(self) -> None:
        """Replace the file with the current snapshot."""
        text = _encode(snapshot(self._factories()))
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".snapshot-")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temporary, self.path)

    def stop(self) -> None:
        """Stop writing and remove the file (a stopped worker counts no more)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(OSError):
                self.write()
