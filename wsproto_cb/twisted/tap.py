"""``twistd wsproto_cb``: a WebSocket server from the command line.

The plugin (``twisted/plugins/wsproto_cb_plugin.py``) names this module
lazily, so ``twistd --help`` imports nothing of wsproto_cb.  Every command
line problem (an endpoint string Twisted cannot parse, a ``--protocol`` that
names no server protocol, a bad option value) is a ``UsageError``: twistd
prints the usage and one line saying what is wrong, never a traceback.

On shutdown (SIGTERM, SIGINT, ``twistd`` stopping) the service stops
listening, closes every WebSocket connection with 1001 and waits for the
closing handshakes, at most about ``--close-handshake-timeout``.

With ``--workers N`` (N > 1) twistd is only the parent
(:class:`~wsproto_cb.twisted.workers.WorkerSupervisor`): it runs N workers, ``python -m
wsproto_cb.twisted.tap`` with the same options (not twistd: one pidfile,
one log), which listen on the same ``tcp:``/``ssl:`` ports with SO_REUSEPORT
(:mod:`wsproto_cb.twisted.reuseport`).  Their output goes to twistd's log;
stopping twistd sends SIGTERM to each, which then stops as described above.
The backplane URL (it may hold a password) reaches them in their
environment, never on their command line.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, ClassVar

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger, LogLevel
from twisted.python import usage

from ..backplane.secrets import URL_ENV, backplane_url
from ..protocol_loader import DEFAULT_PROTOCOL, ProtocolSpecError, load_protocol
from ..server_flags import (
    METRICS_HELP,
    PROTOCOL_FLAGS,
    ProtocolFlag,
    flag_help,
    metrics_address,
    protocol_options,
    workers,
)
from ..workers import argv_without, become_worker, current_worker, warn_without_backplane
from . import WebSocketServerFactory
from .serving import EndpointError, begin_logging, server_endpoints, stop_gracefully
from .workers import WORKER_MODULE, WorkerSupervisor

__all__ = ["Options", "WebSocketService", "WorkerSupervisor", "main", "makeService"]

log = Logger(namespace="wsproto_cb")

# (not typed for mypy: used through Any)
_internet: Any = importlib.import_module("twisted.application.internet")

DEFAULT_LISTEN = "tcp:9000:interface=127.0.0.1"
DEFAULT_WS_PATH = "/ws"


EXAMPLES = """
Examples:
  twistd -n wsproto_cb --listen tcp:9000:interface=127.0.0.1
  twistd -n wsproto_cb --listen tcp:9000 --protocol myapp.server:ChatProtocol
  twistd -n wsproto_cb --listen ssl:9443:privateKey=key.pem:certKey=cert.pem
  twistd -n wsproto_cb --listen tcp:8080 --static ./public --ws-path /ws
  twistd -n wsproto_cb --listen tcp:9000 --workers 4 --backplane redis://127.0.0.1:6379/0
  WSPROTO_CB_BACKPLANE_URL=redis://:PASSWORD@10.0.0.5:6379/0 twistd -n wsproto_cb --workers 4
  twistd wsproto_cb ...    (without -n: daemonize, log to twistd.log)
"""


def _named(flag: str, parse: Any) -> Any:
    """``parse``, with the flag named in its error (Twisted's message does not)."""

    def named(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise ValueError(f"--{flag}: {exc}") from None

    return named


def _flag(spec: ProtocolFlag) -> list[Any]:
    return [spec.flag, None, None, flag_help(spec), _named(spec.flag, spec.parse)]


class Options(usage.Options):
    synopsis = "[wsproto_cb options]"
    longdesc = f"""\
Serve WebSocket connections with a wsproto_cb server protocol class.  Without
--protocol it echoes every message ({DEFAULT_PROTOCOL}).  --protocol takes
MODULE:CLASS: MODULE is imported from the current directory or sys.path, and
CLASS derives from wsproto_cb.twisted.WebSocketServerProtocol (or from the
runtime-neutral wsproto_cb.server.WebSocketServerProtocol).  On SIGTERM or
SIGINT every connection is closed with 1001 (going away) before the process
exits."""

    optFlags: ClassVar[list[list[Any]]] = [
        ["compress", "c", "Accept permessage-deflate (RFC 7692) when a client offers it."],
    ]

    optParameters: ClassVar[list[list[Any]]] = [
        [
            "protocol",
            "p",
            DEFAULT_PROTOCOL,
            "Server protocol class, as MODULE:CLASS.",
        ],
        [
            "url",
            "u",
            None,
            "WebSocket URL the server is reached at (ws:// or wss://). [default: ws://localhost]",
        ],
        [
            "static",
            "s",
            None,
            "Serve the files of this directory over HTTP, with the WebSocket at --ws-path.",
        ],
        [
            "ws-path",
            None,
            None,
            f"Path of the WebSocket when --static is given. [default: {DEFAULT_WS_PATH}]",
        ],
        [
            "workers",
            None,
            1,
            "Run N worker processes listening on the same tcp:/ssl: ports (SO_REUSEPORT); "
            "twistd itself only starts, restarts and stops them.",
            _named("workers", workers),
        ],
        [
            "backplane",
            None,
            None,
            "Deliver broadcasts across processes through this backplane: "
            "redis://HOST:PORT/DB (one Redis, or any node of a Redis Cluster), "
            "redis+sentinel://HOST:PORT/MASTER (needed with --workers > 1), or memory://.  "
            "A URL with a password shows in ps: use --backplane-file or "
            "$WSPROTO_CB_BACKPLANE_URL for it.",
        ],
        [
            "backplane-file",
            None,
            None,
            "Read the --backplane URL from this file. [default: $WSPROTO_CB_BACKPLANE_URL]",
        ],
        [
            "backplane-secret-file",
            None,
            None,
            "Sign backplane messages with the secret in this file and drop any not signed "
            "with it. [default: $WSPROTO_CB_BACKPLANE_SECRET, else unsigned]",
        ],
        ["metrics", None, None, METRICS_HELP, _named("metrics", metrics_address)],
        *(_flag(spec) for spec in PROTOCOL_FLAGS),
    ]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self["listen"] = []
        self["subprotocols"] = []
        self["allowed-origins"] = []

    def getUsage(self, width: int | None = None) -> str:
        return str(super().getUsage(width)) + EXAMPLES

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        # (kept for the workers, which parse the same options again)
        self["argv"] = list(sys.argv[1:] if options is None else options)
        super().parseOptions(options)  # type: ignore[no-untyped-call]

    # (the option help is the method's __doc__, printed as is: one line each)

    def opt_listen(self, description: str) -> None:
        self["listen"].append(description)

    opt_listen.__doc__ = (
        "Listen on this Twisted endpoint: tcp:PORT:interface=ADDR, "
        "ssl:PORT:privateKey=KEY:certKey=CERT, unix:PATH ...  Repeat to listen on several. "
        f"[default: {DEFAULT_LISTEN}]"
    )
    opt_l = opt_listen

    def opt_subprotocol(self, name: str) -> None:
        self["subprotocols"].append(name)

    opt_subprotocol.__doc__ = (
        "Speak this WebSocket subprotocol when a client offers it.  "
        "Repeat for several, in order of preference."
    )

    def opt_allowed_origin(self, pattern: str) -> None:
        self["allowed-origins"].append(pattern)

    opt_allowed_origin.__doc__ = (
        "Accept browsers from this Origin only ('*' is a wildcard, as in "
        "https://*.example.com).  Repeat for several. [default: any origin]"
    )

    def postOptions(self) -> None:
        """Check everything now: a mistake is a usage error, not a traceback at startup."""
        from twisted.internet import reactor

        descriptions = self["listen"] or [DEFAULT_LISTEN]
        sharing = self["workers"] > 1
        try:
            self["endpoints"] = server_endpoints(reactor, descriptions, reuse_port=sharing)
        except EndpointError as exc:
            where = f"--listen {exc.description!r}"
            if exc.reuse_port:
                where += f" with --workers {self['workers']}"
            raise usage.UsageError(f"{where}: {exc}") from None
        try:
            protocol = load_protocol(self["protocol"], "twisted")
        except ProtocolSpecError as exc:
            raise usage.UsageError(f"--protocol: {exc}") from None
        if self["static"] is not None and not os.path.isdir(self["static"]):
            raise usage.UsageError(f"--static: {self['static']!r} is not a directory")
        if self["ws-path"] is not None and self["static"] is None:
            raise usage.UsageError("--ws-path needs --static (without it every path is WebSocket)")
        path = self["ws-path"] or DEFAULT_WS_PATH
        segments = [s for s in path.split("/") if s]
        if not path.startswith("/") or not segments:
            raise usage.UsageError(f"--ws-path must be a path below /, like /ws, not {path!r}")
        self["ws-segments"] = segments
        try:
            factory = WebSocketServerFactory(self["url"], protocols=self["subprotocols"])
            factory.setProtocolOptions(
                **protocol_options(self, self["allowed-origins"], self["compress"])
            )
        except (TypeError, ValueError) as exc:
            raise usage.UsageError(str(exc)) from None
        try:
            self["backplane"] = backplane_url(self["backplane"], self["backplane-file"])
        except ValueError as exc:
            raise usage.UsageError(str(exc)) from None
        if self["backplane"] is not None:
            backplane = _backplane(self["backplane"], self["backplane-secret-file"])
            if self["workers"] == 1 or current_worker() is not None:
                factory.setBackplane(backplane)  # (a parent only checks it: its workers use it)
        factory.protocol = protocol
        factory.gracefulShutdown = False  # WebSocketService does it, in order
        self["factory"] = factory


def _backplane(url: str, secret_file: str | None) -> Any:
    try:
        from ..backplane import backplane_from_url
    except ImportError as exc:
        raise usage.UsageError(f"--backplane: not available ({exc})") from None
    try:
        return backplane_from_url(url, secretFile=secret_file)
    except (TypeError, ValueError) as exc:
        raise usage.UsageError(f"--backplane: {exc}") from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class WebSocketService(service.MultiService):
    """Listens on every endpoint; on stop, stops listening, then closes every
    connection with 1001 and waits (bounded by ``closeHandshakeTimeout``)."""

    def __init__(self, factory: WebSocketServerFactory, summary: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.factory = factory
        self.summary = summary

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        log.info("wsproto_cb: {summary}", summary=self.summary)

    def stopService(self) -> defer.Deferred[None]:
        from twisted.internet import reactor

        def closing(count: int) -> None:
            if count:
                log.info(
                    "wsproto_cb: closing {count} WebSocket connection(s) with 1001", count=count
                )

        return stop_gracefully(super().stopService, self.factory, reactor, closing)


class MetricsService(service.Service):
    """``--metrics`` for one process: serves ``/metrics``, or, in a worker,
    leaves snapshots for the parent (:func:`wsproto_cb.prometheus.start_process_metrics`)."""

    def __init__(self, factory: WebSocketServerFactory, address: str | None) -> None:
        self.factory = factory
        self.address = address
        self._stop: Any = None

    def startService(self) -> None:
        from ..prometheus import start_process_metrics

        super().startService()  # type: ignore[no-untyped-call]
        self._stop, served = start_process_metrics(self.factory, self.address)
        if served is not None:
            log.info(
                "wsproto_cb: metrics on http://{host}:{port}/metrics",
                host=served[0],
                port=served[1],
            )

    def stopService(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
        super().stopService()  # type: ignore[no-untyped-call]


class ParentMetricsService(service.Service):
    """``--metrics`` in the parent of workers: serves the sum of their snapshots.

    Started before the workers, so that they inherit where to write them.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._served: Any = None

    def startService(self) -> None:
        from ..prometheus import worker_metrics_parent

        super().startService()  # type: ignore[no-untyped-call]
        self._served = worker_metrics_parent(self.address)
        host, port = self._served.__enter__()
        log.info(
            "wsproto_cb: metrics of all workers on http://{host}:{port}/metrics",
            host=host,
            port=port,
        )

    def stopService(self) -> None:
        if self._served is not None:
            self._served.__exit__(None, None, None)
            self._served = None
        super().stopService()  # type: ignore[no-untyped-call]


def makeService(options: Options) -> service.Service:
    factory: WebSocketServerFactory = options["factory"]
    site: Any = factory
    where = "every path"
    if options["static"] is not None:
        site, where = _static_site(factory, options["static"], options["ws-segments"])
    summary = (
        f"{factory.protocol.__module__}.{factory.protocol.__qualname__} "
        f"on {', '.join(d for d, _ in options['endpoints'])} (WebSocket at {where})"
    )
    worker = current_worker()
    if options["workers"] > 1:
        if worker is None:
            url = options["backplane"]
            supervisor = WorkerSupervisor(
                options["workers"],
                argv_without(options["argv"], "--backplane", "--backplane-file"),
                summary,
                env={URL_ENV: url} if url is not None else None,
            )
            if options["metrics"] is None:
                return supervisor
            parent = service.MultiService()  # type: ignore[no-untyped-call]
            ParentMetricsService(options["metrics"]).setServiceParent(parent)  # type: ignore[no-untyped-call]
            supervisor.setServiceParent(parent)  # type: ignore[no-untyped-call]
            return parent
        # (the parent's log names the worker on every line it relays)
        warn_without_backplane(factory, lambda text: log.warn("wsproto_cb: {text}", text=text))
    top = WebSocketService(factory, summary)
    if options["metrics"] is not None or worker is not None:
        MetricsService(factory, options["metrics"]).setServiceParent(top)  # type: ignore[no-untyped-call]
    for description, endpoint in options["endpoints"]:
        listener: Any = _internet.StreamServerEndpointService(endpoint, site)
        listener._raiseSynchronously = True  # a busy port fails startup, as strports does
        listener.setName(description)
        listener.setServiceParent(top)
    return top


def _static_site(factory: WebSocketServerFactory, directory: str, segments: list[str]) -> Any:
    """A Site serving the files of ``directory``, with the WebSocket at ``/seg/ments``.

    The Site's idle timeout (Twisted's default: 60 s) is the factory's
    ``openHandshakeTimeout`` unless that is 0 (off): it bounds how long a
    connection may sit without sending its request, whether it is stuck in
    the TLS handshake, in the request head or between keep-alive requests,
    as it is on a port that serves the WebSocket alone.  (A WebSocket
    connection leaves it behind once upgraded.)
    """
    from .resource import WebSocketResource
    from .static import StaticFiles

    web: Any = importlib.import_module("twisted.web.server")
    Resource: Any = importlib.import_module("twisted.web.resource").Resource
    root = StaticFiles(directory)
    parent: Any = root
    for segment in segments[:-1]:
        name = segment.encode("utf-8")
        child = parent.children.get(name)
        if child is None:
            child = Resource()
            parent.putChild(name, child)
        parent = child
    parent.putChild(segments[-1].encode("utf-8"), WebSocketResource(factory))
    where = "/" + "/".join(segments) + f", files from {root.root}"
    timeout: float = factory.openHandshakeTimeout
    return web.Site(root, **({"timeout": timeout} if timeout > 0 else {})), where


def main(argv: Sequence[str] | None = None) -> int:
    """A worker of ``twistd wsproto_cb --workers N``: the same options, one process,
    no twistd around it (run by :class:`WorkerSupervisor` as ``python -m``)."""
    if current_worker() is None:
        print(f"{WORKER_MODULE}: run by twistd wsproto_cb --workers N only", file=sys.stderr)
        return 2
    become_worker()
    # (plain lines: the parent adds the time and the worker's name)
    begin_logging(sys.stdout, LogLevel.info, timestamps=False)
    options = Options()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else list(argv))
    except usage.UsageError as exc:
        print(f"{WORKER_MODULE}: {exc}", file=sys.stderr)
        return 2
    top: Any = makeService(options)
    reactor: Any = importlib.import_module("twisted.internet.reactor")
    failed: list[BaseException] = []

    def start() -> None:
        try:
            top.privilegedStartService()
            top.startService()
        except Exception as exc:
            failed.append(exc)
            log.critical("wsproto_cb: cannot start: {exc}", exc=_describe(exc))
            reactor.stop()

    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.callWhenRunning(start)
    reactor.run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
