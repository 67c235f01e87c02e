"""``wsproto-cb serve``: one protocol class on asyncio or Twisted, with graceful shutdown.

Both runtimes behave the same: the first SIGINT/SIGTERM stops listening,
closes every connection with 1001, waits for the closing handshakes (at
most about ``--close-handshake-timeout``) and exits 0; a second one gives
up waiting.

With ``--workers N`` (N > 1) this process checks the command line, then
becomes the parent of N copies of itself (:func:`wsproto_cb.workers.run_workers`),
which get the backplane URL in their environment, never on their command
line (it may hold a password).
Each copy is a worker: it listens on the same ``--port`` with SO_REUSEPORT,
ignores SIGINT (a terminal's Ctrl-C reaches the parent, which sends SIGTERM
to every worker) and stops on SIGTERM exactly as a single process does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ..backplane.secrets import URL_ENV, backplane_url
from ..protocol_loader import ProtocolSpecError, load_protocol
from ..server_flags import PROTOCOL_FLAGS, protocol_options
from ..workers import (
    argv_without,
    become_worker,
    current_worker,
    own_command,
    run_workers,
    warn_without_backplane,
)
from .errors import CommandError
from .terminal import escape_controls

__all__ = ["serve"]

PREFIX = "wsproto-cb serve"


def serve(args: argparse.Namespace) -> int:
    if (args.keyfile or args.certfile) and not args.certfile:
        raise CommandError("--keyfile needs --certfile", status=2)
    if args.workers > 1 and args.port == 0:
        raise CommandError("--workers needs a fixed --port (not 0)", status=2)
    if args.reactor is not None:  # (before the protocol's module imports a reactor)
        _install_reactor(args)
    try:
        protocol = load_protocol(args.protocol, args.runtime)
    except ProtocolSpecError as exc:
        raise CommandError(str(exc), status=2) from None
    try:
        args.backplane = backplane_url(args.backplane, args.backplane_file)
    except ValueError as exc:
        raise CommandError(str(exc), status=2) from None
    if args.backplane is not None:
        _backplane(args)  # (checked here, before any worker starts)
    if args.workers > 1:
        if current_worker() is None:
            with _parent_metrics(args.metrics):
                return run_workers(
                    args.workers,
                    argv_without(own_command(), "--backplane", "--backplane-file"),
                    prefix=PREFIX,
                    env={URL_ENV: args.backplane} if args.backplane is not None else None,
                )
        become_worker()
    if args.verbose:
        protocol = _logging_connections(protocol)
    if args.runtime == "twisted":
        return _serve_twisted(args, protocol)
    return _serve_asyncio(args, protocol)


def _install_reactor(args: argparse.Namespace) -> None:
    """Install the ``--reactor`` Twisted reactor, or say why it cannot be."""
    if args.runtime != "twisted":
        raise CommandError("--reactor needs --runtime twisted", status=2)
    from twisted.application.reactors import NoSuchReactor

    from ..twisted.choosereactor import install_reactor

    try:
        install_reactor(args.reactor)
    except NoSuchReactor:
        raise CommandError(f"--reactor {args.reactor}: no such Twisted reactor", status=2) from None
    except ImportError as exc:
        raise CommandError(f"--reactor {args.reactor}: {exc}", status=2) from None


def _say(text: str) -> None:
    """One line on stderr, in one write (workers share the parent's stderr);
    escaped, as a peer address may come from an ``X-Forwarded-For`` header."""
    sys.stderr.write(escape_controls(text) + "\n")
    sys.stderr.flush()


def _logging_connections(protocol: type) -> type:
    """``protocol`` with a stderr line for each connection opened and closed."""

    class Logged(protocol):  # type: ignore[misc]
        def onOpen(self) -> Any:
            _say(f"{_prefix()}: open {self.peer}")
            return super().onOpen()

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> Any:
            _say(f"{_prefix()}: closed {self.peer} (code {code}, clean: {wasClean})")
            return super().onClose(wasClean, code, reason)

    Logged.__name__, Logged.__qualname__ = protocol.__name__, protocol.__qualname__
    Logged.__module__ = protocol.__module__
    return Logged


def _worker_mode(args: argparse.Namespace) -> bool:
    return args.workers > 1 and current_worker() is not None


def _prefix() -> str:
    worker = current_worker()
    if worker is None:
        return PREFIX
    return f"{PREFIX}: worker {worker[0]}/{worker[1]} (pid {os.getpid()})"


def _backplane(args: argparse.Namespace) -> Any:
    try:
        from ..backplane import backplane_from_url
    except ImportError as exc:
        raise CommandError(f"--backplane: not available ({exc})", status=2) from None
    try:
        return backplane_from_url(args.backplane, secretFile=args.backplane_secret_file)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"--backplane: {exc}", status=2) from None


def _configure(factory: Any, args: argparse.Namespace, protocol: type) -> None:
    values = {spec.flag: getattr(args, spec.flag.replace("-", "_")) for spec in PROTOCOL_FLAGS}
    try:
        factory.setProtocolOptions(**protocol_options(values, args.allowed_origin, args.compress))
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc), status=2) from None
    factory.protocol = protocol
    if args.backplane is not None:
        factory.setBackplane(_backplane(args))
    if args.workers > 1:
        warn_without_backplane(factory, _warn)


@contextlib.contextmanager
def _parent_metrics(address: str | None) -> Iterator[None]:
    """In the parent of workers: serve the sum of their metrics while they run."""
    if address is None:
        yield
        return
    from ..prometheus import worker_metrics_parent

    with _metrics_errors(), worker_metrics_parent(address) as served:
        _announce_metrics(served)
        yield


def _start_metrics(factory: Any, args: argparse.Namespace) -> Callable[[], None]:
    """This process's part of --metrics (:func:`~wsproto_cb.prometheus.start_process_metrics`)."""
    from ..prometheus import start_process_metrics

    with _metrics_errors():
        stop, served = start_process_metrics(factory, args.metrics)
    if served is not None:
        _announce_metrics(served)
    return stop


@contextlib.contextmanager
def _metrics_errors() -> Iterator[None]:
    try:
        yield
    except RuntimeError as exc:  # prometheus_client missing
        raise CommandError(f"--metrics: {exc}", status=2) from None
    except OSError as exc:
        raise CommandError(f"--metrics: cannot listen: {exc.strerror or exc}") from None


def _announce_metrics(served: tuple[str, int]) -> None:
    host, port = served
    host = f"[{host}]" if ":" in host else host
    _say(f"{_prefix()}: metrics on http://{host}:{port}/metrics")


def _warn(text: str) -> None:
    _say(f"{_prefix()}: warning: {text}")


def _url(args: argparse.Namespace, port: int) -> str:
    host = f"[{args.host}]" if ":" in args.host else args.host
    return f"{'wss' if args.certfile else 'ws'}://{host}:{port}"


def _announce(args: argparse.Namespace, port: int) -> None:
    _say(
        f"{_prefix()}: {args.protocol} on {_url(args, port)} ({args.runtime}); "
        "Ctrl-C or SIGTERM to stop"
    )


def _stopping(count: int) -> None:
    _say(f"{_prefix()}: stopping, closing {count} connection(s) with 1001")


def _factory_args(args: argparse.Namespace) -> tuple[str, list[str]]:
    for name in args.subprotocol:
        if not name:
            raise CommandError("--subprotocol must not be empty", status=2)
    return _url(args, args.port), list(args.subprotocol)


# ---------------------------------------------------------------- asyncio


def _serve_asyncio(args: argparse.Namespace, protocol: type) -> int:
    from ..asyncio import WebSocketServerFactory

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    url, subprotocols = _factory_args(args)
    try:
        factory = WebSocketServerFactory(url, protocols=subprotocols)
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc), status=2) from None
    _configure(factory, args, protocol)
    factory.gracefulShutdown = False  # (done below, after we stop listening)
    context = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.certfile, args.keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"cannot load the certificate: {exc}") from None
    return asyncio.run(_run_asyncio(args, factory, context))


async def _run_asyncio(args: argparse.Namespace, factory: Any, context: Any) -> int:
    from ..asyncio import shutdown

    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(
            factory,
            args.host,
            args.port,
            ssl=context,
            ssl_handshake_timeout=factory.ssl_handshake_timeout if context else None,
            reuse_port=_worker_mode(args) or None,
        )
    except (OSError, ValueError) as exc:  # (ValueError: no SO_REUSEPORT here)
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {text}") from None
    factory.startBackplane()  # (a wrong URL or a Redis that is down is logged now)
    stop = asyncio.Event()
    # (a worker ignores SIGINT: its parent sends SIGTERM)
    signals = (signal.SIGTERM,) if _worker_mode(args) else (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    _announce(args, server.sockets[0].getsockname()[1])
    stop_metrics = _start_metrics(factory, args)
    try:
        await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)  # a second signal: give up waiting
    server.close()
    _stopping(factory.countConnections)
    await shutdown(factory)
    stop_metrics()
    return 0


# ---------------------------------------------------------------- Twisted


def _serve_twisted(args: argparse.Namespace, protocol: type) -> int:
    from twisted.internet import defer
    from twisted.logger import LogLevel

    from ..twisted import WebSocketServerFactory
    from ..twisted.serving import (
        EndpointError,
        begin_logging,
        quote,
        server_endpoints,
        stop_gracefully,
    )

    # (Twisted's reactor is not typed for mypy)
    reactor: Any = importlib.import_module("twisted.internet.reactor")
    begin_logging(sys.stderr, LogLevel.info if args.verbose else LogLevel.warn)

    url, subprotocols = _factory_args(args)
    try:
        factory = WebSocketServerFactory(url, protocols=subprotocols)
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc), status=2) from None
    _configure(factory, args, protocol)
    factory.gracefulShutdown = False  # (done below, after we stop listening)

    description = f"tcp:{args.port}:interface={quote(args.host)}"
    if args.certfile:
        description = (
            f"ssl:{args.port}:interface={quote(args.host)}"
            f":certKey={quote(args.certfile)}"
            f":privateKey={quote(args.keyfile or args.certfile)}"
        )
    try:
        [(_, endpoint)] = server_endpoints(reactor, [description], reuse_port=_worker_mode(args))
    except EndpointError as exc:
        raise CommandError(f"cannot load the certificate: {exc}") from None

    outcome: dict[str, Any] = {"status": 0}
    ports: list[Any] = []

    stop_metrics: list[Callable[[], None]] = []

    def listening(port: Any) -> None:
        ports.append(port)
        _announce(args, port.getHost().port)
        try:
            stop_metrics.append(_start_metrics(factory, args))
        except CommandError as exc:
            outcome["error"] = str(exc)
            reactor.stop()

    def failed(failure: Any) -> None:
        outcome["error"] = f"cannot listen on {args.host}:{args.port}: {failure.value}"
        reactor.stop()

    def stopping() -> defer.Deferred[None] | None:
        if not ports:
            return None  # (never listened)

        def stop_listening() -> defer.Deferred[Any]:
            stopped = defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in ports])
            return stopped.addErrback(lambda _: None)  # (closing the connections matters more)

        return stop_gracefully(stop_listening, factory, reactor, _stopping)

    reactor.addSystemEventTrigger("before", "shutdown", stopping)
    reactor.callWhenRunning(lambda: endpoint.listen(factory).addCallbacks(listening, failed))
    reactor.run()
    for stop in stop_metrics:
        stop()
    if "error" in outcome:
        raise CommandError(outcome["error"])
    return int(outcome["status"])
