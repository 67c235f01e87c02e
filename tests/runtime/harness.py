"""One way to run a scenario on either runtime over real sockets.

Tests take the ``runtime`` fixture (parametrised ``asyncio`` / ``twisted``)
or ``runtime_pair`` (every server/client combination) and are
``@pytest.mark.asyncio_task`` coroutines: both runtimes share the one
asyncio loop (Twisted runs on the asyncio reactor), so a test can await
either side's results through :meth:`RuntimeHarness.wait`.

Behaviour is written once as a mixin and bound to a runtime's base class
with :meth:`RuntimeHarness.server_class` / :meth:`RuntimeHarness.client_class`.
:class:`RawPeer` (from :meth:`RuntimeHarness.raw`) is a hand-driven
WebSocket client and :meth:`RuntimeHarness.raw_server` a hand-driven server
(asyncio streams plus the core's
:class:`~wsproto_cb.core.connection.Connection`), for peers that misbehave
on purpose: never answer, never close.  :class:`Recorder` records what a
protocol receives (``opened``/``closed`` futures, ``messages``/``pongs``
queues); :func:`captured_errors` collects what either runtime logs as an
error; :class:`TLSFiles` makes a throwaway certificate for ``wss://``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from wsproto_cb.core.connection import Connection
from wsproto_cb.core.events import Event
from wsproto_cb.core.http import accept_key

RUNTIMES = ("asyncio", "twisted")
TIMEOUT = 5.0


class Gate:
    """``await gate.waiter`` in a callback (a Future on asyncio, a Deferred on
    Twisted) returns once the test calls :meth:`open`."""

    def __init__(self, runtime_name: str) -> None:
        self.waiter: Any
        if runtime_name == "asyncio":
            self.waiter = asyncio.get_running_loop().create_future()
        else:
            self.waiter = Deferred()

    def open(self) -> None:
        if isinstance(self.waiter, Deferred):
            if not self.waiter.called:
                self.waiter.callback(None)
        elif not self.waiter.done():
            self.waiter.set_result(None)


class RuntimeHarness:
    """Servers on ``server_name``'s runtime, clients on ``client_name``'s."""

    def __init__(self, name: str, client_name: str | None = None) -> None:
        self.name = name
        self.client_name = client_name or name
        self.module: ModuleType = importlib.import_module(f"wsproto_cb.{name}")
        self.client_module: ModuleType = importlib.import_module(f"wsproto_cb.{self.client_name}")
        self._listeners: list[tuple[str, Any]] = []
        self._clients: list[Any] = []
        self._raw: list[RawPeer] = []

    def __repr__(self) -> str:
        return f"<RuntimeHarness server={self.name} client={self.client_name}>"

    # classes and factories

    def server_class(self, mixin: type | None = None) -> type:
        base = self.module.WebSocketServerProtocol
        if mixin is None:
            return base  # type: ignore[no-any-return]
        return type(f"{mixin.__name__}_{self.name}", (mixin, base), {})

    def client_class(self, mixin: type | None = None) -> type:
        base = self.client_module.WebSocketClientProtocol
        if mixin is None:
            return base  # type: ignore[no-any-return]
        return type(f"{mixin.__name__}_{self.client_name}", (mixin, base), {})

    def server_factory(
        self,
        mixin: type | None = None,
        url: str = "ws://127.0.0.1",
        protocols: list[str] | None = None,
        **options: Any,
    ) -> Any:
        factory = self.module.WebSocketServerFactory(url, protocols=protocols)
        factory.protocol = self.server_class(mixin)
        options.setdefault("autoPingInterval", 0)
        factory.setProtocolOptions(**options)
        return factory

    def client_factory(
        self,
        mixin: type | None = None,
        url: str = "ws://127.0.0.1/",
        protocols: list[str] | None = None,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Any:
        factory = self.client_module.WebSocketClientFactory(
            url, origin=origin, protocols=protocols, headers=headers
        )
        factory.protocol = self.client_class(mixin)
        options.setdefault("autoPingInterval", 0)
        factory.setProtocolOptions(**options)
        return factory

    # sockets

    async def listen(self, factory: Any, tls: TLSFiles | None = None) -> int:
        """Serve ``factory`` on 127.0.0.1 (server runtime); returns the port."""
        if self.name == "asyncio":
            loop = asyncio.get_running_loop()
            kwargs: dict[str, Any] = {}
            if tls is not None:  # (as a program should: see ssl_handshake_timeout)
                kwargs = {
                    "ssl": tls.server_context(),
                    "ssl_handshake_timeout": factory.ssl_handshake_timeout,
                }
            server = await loop.create_server(factory, "127.0.0.1", 0, **kwargs)
            self._listeners.append(("asyncio", server))
            return int(server.sockets[0].getsockname()[1])
        from twisted.internet import reactor

        if tls is not None:
            port = reactor.listenSSL(  # type: ignore[attr-defined]
                0, factory, tls.twisted_server_options(), interface="127.0.0.1"
            )
        else:
            port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        self._listeners.append(("twisted", port))
        return int(port.getHost().port)

    async def connect(self, factory: Any, port: int, tls: TLSFiles | None = None) -> Any:
        """Connect ``factory`` to 127.0.0.1:port (client runtime); returns the protocol.

        With ``tls`` the URL is ``wss://localhost:port`` (the certificate's name).
        """
        scheme, host = ("wss", "localhost") if tls is not None else ("ws", "127.0.0.1")
        # (like Autobahn's, setSessionParameters resets what it is not given)
        factory.setSessionParameters(
            f"{scheme}://{host}:{port}{factory.resource}",
            factory.origin,
            factory.protocols,
            factory.useragent,
            factory.headers,
        )
        if self.client_name == "asyncio":
            loop = asyncio.get_running_loop()
            transport, proto = await loop.create_connection(
                factory,
                "127.0.0.1",
                port,
                ssl=tls.client_context() if tls is not None else None,
                server_hostname="localhost" if tls is not None else None,
                ssl_handshake_timeout=factory.ssl_handshake_timeout if tls is not None else None,
            )
            self._clients.append(transport)
            return proto
        from twisted.internet import reactor
        from twisted.internet.endpoints import SSL4ClientEndpoint, TCP4ClientEndpoint

        if tls is not None:
            endpoint: Any = SSL4ClientEndpoint(
                reactor, "127.0.0.1", port, tls.twisted_client_options()
            )
        else:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        proto = await self.wait(endpoint.connect(factory))
        self._clients.append(proto.transport)
        return proto

    async def raw(self, port: int) -> RawPeer:
        """A plain TCP connection to the server, driven by hand."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = RawPeer(reader, writer, port)
        self._raw.append(peer)
        return peer

    async def raw_server(self, handle: Callable[[RawServerPeer], Awaitable[None]]) -> int:
        """A hand-driven server for our clients (closed with the harness); its port."""
        server, port = await raw_server(handle)
        self._listeners.append(("asyncio", server))
        return port

    async def wait(self, awaitable: Any, timeout: float = TIMEOUT) -> Any:
        """Await an asyncio awaitable or a Deferred, failing after ``timeout``."""
        if isinstance(awaitable, Deferred):
            awaitable = awaitable.asFuture(asyncio.get_running_loop())
        return await asyncio.wait_for(_ensure(awaitable), timeout)

    def sleep(self, delay: float, side: str = "server") -> Any:
        """Something a callback on ``side``'s runtime can await to sleep.

        A coroutine callback on Twisted is driven by Twisted and can await
        Deferreds only; on asyncio it awaits asyncio awaitables.
        """
        name = self.name if side == "server" else self.client_name
        if name == "asyncio":
            return asyncio.sleep(delay)
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        return deferLater(reactor, delay, lambda: None)  # type: ignore[arg-type]

    def gate(self, side: str = "server") -> Gate:
        """Something a callback on ``side``'s runtime awaits until the test opens it."""
        name = self.name if side == "server" else self.client_name
        return Gate(name)

    async def close(self) -> None:
        for transport in self._clients:
            with contextlib.suppress(Exception):
                abort_transport(transport)
        for peer in self._raw:
            peer.abort()
        for kind, listener in self._listeners:
            if kind == "asyncio":
                listener.close()
            else:
                d = listener.stopListening()
                if d is not None:
                    await self.wait(d)
        # let connection_lost/connectionLost callbacks run before the next test
        for _ in range(3):
            await asyncio.sleep(0)


async def _ensure(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def future() -> asyncio.Future[Any]:
    """A future on the shared loop, for a callback to resolve."""
    return asyncio.get_running_loop().create_future()


def resolve(fut: asyncio.Future[Any], value: Any = None) -> None:
    """Set a result unless one is set already (callbacks may fire twice)."""
    if not fut.done():
        fut.set_result(value)


# ------------------------------------------------------------- transports


def is_asyncio_transport(transport: Any) -> bool:
    return isinstance(transport, asyncio.BaseTransport)


def write_buffer_size(transport: Any) -> int:
    """Bytes queued in user space by a transport of either runtime."""
    if is_asyncio_transport(transport):
        return int(transport.get_write_buffer_size())
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen  # type: ignore[no-any-return]


def pause_transport_reading(transport: Any) -> None:
    if is_asyncio_transport(transport):
        transport.pause_reading()
    else:
        transport.pauseProducing()


def resume_transport_reading(transport: Any) -> None:
    if is_asyncio_transport(transport):
        transport.resume_reading()
    else:
        transport.resumeProducing()


def transport_socket(transport: Any) -> Any:
    if is_asyncio_transport(transport):
        return transport.get_extra_info("socket")
    return transport.getHandle()


def abort_transport(transport: Any) -> None:
    if is_asyncio_transport(transport):
        transport.abort()
    else:
        transport.abortConnection()


def set_socket_buffer(transport: Any, option: int, size: int) -> None:
    """Fix a socket buffer size (no autotuning), so kernel buffers stay small."""
    transport_socket(transport).setsockopt(socket.SOL_SOCKET, option, size)


class TLSFiles:
    """A self-signed certificate for ``localhost``, as PEM, and contexts for both runtimes."""

    def __init__(self, cert_pem: bytes, key_pem: bytes, directory: str) -> None:
        import os

        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.cert_file = os.path.join(directory, "cert.pem")
        self.key_file = os.path.join(directory, "key.pem")
        with open(self.cert_file, "wb") as f:
            f.write(cert_pem)
        with open(self.key_file, "wb") as f:
            f.write(key_pem)

    @classmethod
    def create(cls, directory: str) -> TLSFiles:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256())
        )
        return cls(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            directory,
        )

    def server_context(self) -> Any:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> Any:
        import ssl

        return ssl.create_default_context(cafile=self.cert_file)

    def twisted_server_options(self) -> Any:
        from twisted.internet.ssl import PrivateCertificate

        return PrivateCertificate.loadPEM(self.key_pem + self.cert_pem).options()

    def twisted_client_options(self) -> Any:
        from twisted.internet.ssl import Certificate, optionsForClientTLS

        return optionsForClientTLS("localhost", trustRoot=Certificate.loadPEM(self.cert_pem))


# ------------------------------------------------------------- raw peer


class RawPeer:
    """A WebSocket client written by hand: it answers nothing unless told to."""

    KEY = "dGhlIHNhbXBsZSBub25jZQ=="

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int):
        self.reader = reader
        self.writer = writer
        self.port = port
        self.conn = Connection(False)
        self.response_head = b""

    async def handshake(
        self, path: str = "/", headers: tuple[str, ...] = (), then: bytes = b""
    ) -> bytes:
        """Send a valid upgrade request (and ``then``, in the same write); read the
        response head."""
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.KEY}",
            "Sec-WebSocket-Version: 13",
            *headers,
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + then)
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        self.response_head = head
        return head

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def next_event(self, timeout: float = TIMEOUT) -> Event | None:
        """The next WebSocket event from the server; None on EOF."""
        return await _next_event(self.conn, self.reader, timeout)

    async def closed_within(self, timeout: float) -> bool:
        """Read (and discard) until the server closes TCP; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    data = await self.reader.read(65536)
                    if not data:
                        return True
                    self.conn.receive_data(data)
        except TimeoutError:
            return False
        except ConnectionError:
            return True

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()  # type: ignore[attr-defined]


class RawServerPeer:
    """One connection to a hand-written server (see :func:`raw_server`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = Connection(True)

    async def accept(
        self, extra: str = "", status_line: str = "HTTP/1.1 101 Switching Protocols"
    ) -> None:
        """Read the request and answer it (``extra``: more header lines, CRLF-terminated)."""
        head = await self.reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        self.writer.write(
            (
                f"{status_line}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n{extra}Content-Length: 0\r\n\r\n"
            ).encode()
        )

    async def next_event(self, timeout: float = TIMEOUT) -> Event | None:
        """The next WebSocket event from the client; None on EOF."""
        return await _next_event(self.conn, self.reader, timeout)


async def raw_server(
    handle: Callable[[RawServerPeer], Awaitable[None]],
) -> tuple[asyncio.Server, int]:
    """A hand-driven server on 127.0.0.1; ``handle`` runs for each connection."""

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(RawServerPeer(reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()  # type: ignore[attr-defined]

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def _next_event(conn: Connection, reader: asyncio.StreamReader, timeout: float) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            event = conn.next_event()
            if event is not None:
                return event
            data = await reader.read(65536)
            if not data:
                return None
            conn.receive_data(data)


# ------------------------------------------------------------- error logs


class LoggedError:
    """One error logged by either runtime: message and the traceback text."""

    def __init__(self, message: str, exc: BaseException | None, traceback: str) -> None:
        self.message = message
        self.exc = exc
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"LoggedError({self.message!r}, {self.exc!r})"


class _Handler(logging.Handler):
    def __init__(self, out: list[LoggedError], levels: tuple[int, ...]) -> None:
        super().__init__()
        self.out = out
        self.levels = levels

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno not in self.levels:
            return
        exc = record.exc_info[1] if record.exc_info else None
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.out.append(LoggedError(record.getMessage(), exc, trace))


@contextlib.contextmanager
def captured_errors() -> Iterator[list[LoggedError]]:
    """Errors logged by wsproto_cb on either runtime (stdlib logging, twisted.logger)."""
    with _captured((logging.ERROR, logging.CRITICAL), (LogLevel.error, LogLevel.critical)) as out:
        yield out


@contextlib.contextmanager
def captured_warnings() -> Iterator[list[LoggedError]]:
    """Warnings (only) logged by wsproto_cb on either runtime."""
    with _captured((logging.WARNING,), (LogLevel.warn,)) as out:
        yield out


@contextlib.contextmanager
def _captured(
    levels: tuple[int, ...], twisted_levels: tuple[LogLevel, ...]
) -> Iterator[list[LoggedError]]:
    out: list[LoggedError] = []
    handler = _Handler(out, levels)
    logger = logging.getLogger("wsproto_cb")
    logger.addHandler(handler)

    def observer(event: dict[str, Any]) -> None:
        if event.get("log_namespace") != "wsproto_cb":
            return
        if event.get("log_level") not in twisted_levels:
            return
        failure = event.get("log_failure")
        exc = failure.value if failure is not None else None
        trace = failure.getTraceback() if failure is not None else ""
        out.append(LoggedError(formatEvent(event), exc, trace))

    globalLogPublisher.addObserver(observer)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        globalLogPublisher.removeObserver(observer)


# ------------------------------------------------------------- mixins


class Echo:
    """Server behaviour: send every message back as it came."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]


class Recorder:
    """Records what arrives; ``factory.opened`` (if set) gets each opened protocol."""

    factory: Any

    def __init__(self) -> None:
        super().__init__()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[tuple[bool, int | None, str | None]] = loop.create_future()
        self.messages: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
        self.pongs: asyncio.Queue[bytes] = asyncio.Queue()

    def onOpen(self) -> None:
        resolve(self.opened)
        queue = getattr(self.factory, "opened", None)
        if queue is not None:
            queue.put_nowait(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.put_nowait((payload, isBinary))

    def onPong(self, payload: bytes) -> None:
        self.pongs.put_nowait(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        resolve(self.closed, (wasClean, code, reason))


def track_opened(factory: Any) -> asyncio.Queue[Any]:
    """Make ``Recorder`` servers of ``factory`` report themselves when open."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    factory.opened = queue
    return queue


def count_validations(monkeypatch: Any, *importers: ModuleType) -> list[int]:
    """Count the calls of the core's ``validate_request``, from the core and
    from each module in ``importers`` that imported it by name (an empty
    list to append to is returned; one item a call)."""
    from wsproto_cb.core import handshake_server

    calls: list[int] = []
    validate = handshake_server.validate_request

    def counting(request: Any) -> None:
        calls.append(1)
        validate(request)

    for module in (handshake_server, *importers):
        monkeypatch.setattr(module, "validate_request", counting)
    return calls

