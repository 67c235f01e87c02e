"""``wsproto-cb connect URL``: a line-oriented WebSocket client on asyncio.

Each stdin line goes out as a text message; each message received goes to
stdout as one line (text with its control characters escaped, see
:mod:`.terminal`, or exactly as received with ``--raw``; binary as
``[binary N bytes] HEX``); status lines go to stderr, with what the server
chose in them (close reason, status phrase) always escaped.  At the end
of input (a pipe, or Ctrl-D) it waits ``--grace`` seconds for replies,
closes with 1000 and exits 0.  The exit status is 1 when the connection
fails or ends uncleanly, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import ssl
import sys
import threading
from typing import Any, cast

from ..asyncio import WebSocketClientFactory, WebSocketClientProtocol, connect_ws
from ..proxy import proxy_from_environment
from .errors import CommandError
from .terminal import escape_controls

__all__ = ["connect"]

PREFIX = "wsproto-cb connect"
#: How long to wait for the closing handshake once we sent our close frame.
CLOSE_WAIT = 5.0


def _status(text: str) -> None:
    print(f"{PREFIX}: {escape_controls(text)}", file=sys.stderr, flush=True)


class Session:
    """What :func:`connect` waits for: the handshake, then the close."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[tuple[bool, int | None, str | None]] = loop.create_future()


class LineClientProtocol(WebSocketClientProtocol):
    """Prints what arrives; reports opening and closing to the factory's session."""

    @property
    def opened(self) -> asyncio.Future[None]:
        return self.factory.session.opened  # type: ignore[no-any-return]

    @property
    def closed(self) -> asyncio.Future[tuple[bool, int | None, str | None]]:
        return self.factory.session.closed  # type: ignore[no-any-return]

    def onOpen(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            line = f"[binary {len(payload)} bytes] {payload.hex()}\n"
        elif self.factory.raw_text:
            line = payload.decode("utf-8") + "\n"
        else:
            line = escape_controls(payload.decode("utf-8")) + "\n"
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):  # stdout went away: stop
            self.sendClose(1000)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(self._failure(reason)))
        if not self.closed.done():
            self.closed.set_result((wasClean, code, reason))

    def _failure(self, reason: str | None) -> str:
        error = self.handshake_error
        if error is not None:
            if error.status:
                return f"handshake failed: the server answered {error.status} ({error.reason})"
            return f"handshake failed: {error.reason}"
        return f"handshake failed: {self.wasNotCleanReason or reason or 'connection lost'}"


def _headers(items: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CommandError(f"--header {item!r} is not NAME:VALUE", status=2)
        headers[name.strip()] = value.strip()
    return headers


def _factory(args: argparse.Namespace) -> WebSocketClientFactory:
    try:
        factory = WebSocketClientFactory(
            args.url,
            origin=args.origin,
            protocols=args.subprotocol or None,
            headers=_headers(args.header),
            proxy=proxy_from_environment(args.url) if args.proxy == "env" else args.proxy,
        )
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc), status=2) from None
    if args.cafile and not factory.isSecure:
        raise CommandError("--cafile needs a wss:// URL", status=2)
    if args.compress:
        from ..compress import PerMessageDeflateOffer, accept_deflate_response

        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer()],
            perMessageCompressionAccept=accept_deflate_response,
        )
    factory.protocol = LineClientProtocol
    factory.raw_text = args.raw  # type: ignore[attr-defined]
    return factory


def connect(args: argparse.Namespace) -> int:
    factory = _factory(args)
    context = None
    if factory.isSecure:
        try:
            context = ssl.create_default_context(cafile=args.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"cannot load --cafile {args.cafile!r}: {exc}") from None
    return asyncio.run(_run(args, factory, context))


async def _open(
    args: argparse.Namespace, factory: WebSocketClientFactory, context: Any
) -> LineClientProtocol:
    loop = asyncio.get_running_loop()
    where = f"{factory.host}:{factory.port}"
    if factory.proxy is not None:
        where = f"HTTP proxy {factory.proxy.address}"
    session = factory.session = Session(loop)  # type: ignore[attr-defined]

    async def open_() -> LineClientProtocol:
        _transport, proto = await connect_ws(factory, context)
        await session.opened
        return cast(LineClientProtocol, proto)

    try:
        return await asyncio.wait_for(open_(), args.timeout)
    except TimeoutError:
        raise CommandError(f"no connection to {args.url} after {args.timeout:g} s") from None
    except ConnectionRefusedError:
        raise CommandError(f"cannot connect to {where}: connection refused") from None
    except socket.gaierror as exc:
        raise CommandError(f"cannot resolve {factory.host!r}: {exc.strerror}") from None
    except ssl.SSLCertVerificationError as exc:
        raise CommandError(
            f"TLS: the certificate of {factory.host} is not trusted ({exc.verify_message}); "
            "use --cafile for a private CA"
        ) from None
    except ssl.SSLError as exc:
        raise CommandError(f"TLS handshake with {where} failed: {exc.reason or exc}") from None
    except ConnectionError as exc:  # onClose before onOpen
        raise CommandError(str(exc) if str(exc) else f"{where}: {exc!r}") from None
    except OSError as exc:
        raise CommandError(f"cannot connect to {where}: {exc.strerror or exc}") from None


def _read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Runs in a thread: stdin may be a terminal, a pipe or a file."""
    try:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    finally:
        with contextlib.suppress(RuntimeError):  # (the loop is closed: we are done anyway)
            loop.call_soon_threadsafe(queue.put_nowait, None)


async def _run(args: argparse.Namespace, factory: WebSocketClientFactory, context: Any) -> int:
    proto = await _open(args, factory, context)
    closed = proto.closed
    chosen = proto.websocket_protocol_in_use
    extensions = ", ".join(type(e).__name__ for e in proto.websocket_extensions_in_use)
    details = "".join(
        [f"; subprotocol {chosen}" if chosen else "", f"; {extensions}" if extensions else ""]
    )
    _status(f"connected to {args.url}{details}")

    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted.set)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_read_lines, args=(loop, lines), daemon=True).start()
    try:
        await _pump(proto, lines, interrupted, args.grace)
        if not closed.done():
            proto.sendClose(1000)
        try:
            was_clean, code, reason = await asyncio.wait_for(asyncio.shield(closed), CLOSE_WAIT)
        except TimeoutError:
            proto.dropConnection(abort=True)
            raise CommandError("the server did not finish the closing handshake") from None
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if not was_clean:
        raise CommandError(f"connection lost: {reason}")
    if code not in (None, 1000):
        _status(f"closed by the server: {code} {reason or ''}".rstrip())
    return 0


async def _pump(
    proto: LineClientProtocol,
    lines: asyncio.Queue[str | None],
    interrupted: asyncio.Event,
    grace: float,
) -> None:
    """Send lines until the end of input, an interrupt or the connection closing."""
    closed: asyncio.Future[Any] = proto.closed
    stop: asyncio.Future[Any] = asyncio.ensure_future(interrupted.wait())
    try:
        while True:
            getter: asyncio.Future[Any] = asyncio.ensure_future(lines.get())
            done, _ = await asyncio.wait(
                {getter, closed, stop}, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                return
            line = getter.result()
            if line is None:  # end of input: let the replies arrive
                await asyncio.wait({closed, stop}, timeout=grace)
                return
            if proto.state == proto.STATE_OPEN:
                proto.sendMessage(line.encode("utf-8"))
    finally:
        stop.cancel()
