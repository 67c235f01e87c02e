"""The peers of the programs: a reference server for clients, a driver per server.

Both are the ``websockets`` library, the same for the Autobahn run and the
wsproto_cb run, so what they record (``seen``) can be compared line for line.
A driver or the reference server records what it received and answered;
what it records about the wire (status lines, response headers, close codes)
is how "bytes sent" are compared.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

Driver = Callable[[int, list[str]], Awaitable[None]]

#: How to rewrite what the Autobahn run's peer saw where wsproto_cb differs
#: on purpose; each is listed in docs/autobahn-compat.md.
DOCUMENTED = [
    # a refused Origin: 403 here (RFC 6455 4.2.2), 400 in Autobahn
    (
        "refused 400 WebSocket connection denied: origin",
        "refused 403 WebSocket connection denied: origin",
    ),
]


def documented(seen: list[str]) -> list[str]:
    """The Autobahn run's ``seen`` with the documented differences applied."""
    out = []
    for line in seen:
        for theirs, ours in DOCUMENTED:
            line = line.replace(theirs, ours)
        out.append(line)
    return out


async def reference_server(port: int, seen: list[str], tls: ssl.SSLContext | None = None) -> Any:
    """websockets as the peer of the client programs.

    It echoes; picks subprotocol chat.v1 when offered; accepts deflate; adds
    an ``X-Server`` response header; on ``/headers`` first sends what the
    client's headers said; on ``/closing`` closes with 4000 at the first
    message; refuses ``/forbidden`` with 403.  With ``tls``, over TLS.
    """

    async def handler(ws: Any) -> None:
        request = ws.request
        seen.append(f"path {request.path} subprotocol {ws.subprotocol}")
        if request.path == "/headers":
            headers = request.headers
            text = "|".join(str(headers.get(name)) for name in ("X-Client", "Origin", "User-Agent"))
            seen.append(f"headers {text}")
            await ws.send(text)
        try:
            async for message in ws:
                seen.append(f"got {type(message).__name__} of {len(message)}")
                if request.path == "/closing":
                    await ws.close(4000, "server says bye")
                    break
                await ws.send(message)
        except Exception as exc:  # (a client that goes away is no failure here)
            seen.append(f"ended {type(exc).__name__}")

    def refuse(connection: Any, request: Any) -> Any:
        if request.path == "/forbidden":
            seen.append("refused /forbidden")
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    def add_header(connection: Any, request: Any, response: Any) -> Any:
        response.headers["X-Server"] = "reference"
        return response

    return await serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=["chat.v1"],
        # (websockets refuses a client that offers none unless told otherwise)
        select_subprotocol=lambda ws, offered: "chat.v1" if "chat.v1" in offered else None,
        process_request=refuse,
        process_response=add_header,
        max_size=None,
        ping_interval=None,
        ssl=tls,
    )


def _connect(url: str, **kw: Any) -> Any:
    return connect(url, proxy=None, ping_interval=None, open_timeout=10, **kw)


async def _echo_exchange(url: str, seen: list[str], messages: list[Any], **kw: Any) -> None:
    async with _connect(url, **kw) as ws:
        for message in messages:
            await ws.send(message)
            seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)!r}")
        await ws.close(1000)


async def _refused_or_opened(url: str, seen: list[str], **kw: Any) -> None:
    try:
        async with _connect(url, **kw) as ws:
            extra = ws.response.headers.get("X-Extra")
            seen.append(f"opened, subprotocol {ws.subprotocol}, X-Extra {extra}")
            await ws.close(1000)
    except InvalidStatus as exc:
        response = exc.response
        seen.append(f"refused {response.status_code} {response.reason_phrase}")


async def drive_echo(port: int, seen: list[str]) -> None:
    await _echo_exchange(f"ws://127.0.0.1:{port}/", seen, ["Hello, world", b"\x00\x01\x02"])


async def drive_echo_compressed(port: int, seen: list[str]) -> None:
    async with _connect(f"ws://127.0.0.1:{port}/") as ws:
        seen.append(f"extensions {[ext.name for ext in ws.protocol.extensions]}")
        for message in ("Hello, world", b"\x00\x01\x02"):
            await ws.send(message)
            seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)!r}")
        await ws.close(1000)


async def drive_print_request(port: int, seen: list[str]) -> None:
    """One connection with an Origin, a subprotocol and a deflate offer closes
    cleanly with a reason; one with none of those drops its TCP connection."""
    url = f"ws://127.0.0.1:{port}/room?b=2&a=1&a=3"
    async with _connect(url, origin="https://app.example", subprotocols=["chat"]) as ws:
        await ws.send("x")
        seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)!r}")
        await ws.close(1000, "bye")
    seen.append(f"closed by server with {ws.close_code} {ws.close_reason!r}")
    ws = await _connect(f"ws://127.0.0.1:{port}/", compression=None)
    await ws.send("y")
    seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)!r}")
    ws.transport.abort()
    await asyncio.sleep(0.2)


async def _commands(url: str, seen: list[str], commands: list[str]) -> None:
    """Send each command on a connection of its own; record the replies and the close."""
    for command in commands:
        async with _connect(url) as ws:
            seen.append(f"{command}: server header {ws.response.headers.get('Server')}")
            await ws.send(command)
            try:
                seen.append(f"{command}: reply {await asyncio.wait_for(ws.recv(), 2)!r}")
                await ws.close(1000)
            except ConnectionClosed:
                pass
            except TimeoutError:
                seen.append(f"{command}: no reply")
                await ws.close(1000)
        seen.append(f"{command}: closed {ws.close_code} {ws.close_reason!r}")


async def drive_closing(port: int, seen: list[str]) -> None:
    url = f"ws://127.0.0.1:{port}/c"
    await _commands(url, seen, ["echo", "close", "close-custom", "close-normal"])


async def drive_upper(port: int, seen: list[str]) -> None:
    await _echo_exchange(f"ws://127.0.0.1:{port}/path?x=1", seen, ["one", "two"])


async def drive_resources(port: int, seen: list[str]) -> None:
    def page() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            return f"page {reply.status} {reply.read().decode()}"

    seen.append(await asyncio.to_thread(page))
    for name in ("alpha", "beta"):
        await _echo_exchange(f"ws://127.0.0.1:{port}/{name}", seen, ["hi"])


async def drive_origins(port: int, seen: list[str]) -> None:
    url = f"ws://127.0.0.1:{port}/"
    for origin in (
        "https://good.example",
        "https://good.example:443",
        "HTTPS://Good.Example",
        "https://chat.other.example:8443",
        "https://good.example.evil.test",
        "https://evil.example",
        "http://good.example",
        "http://127.0.0.1:8080",
        "null",
    ):
        seen.append(f"origin {origin}")
        await _refused_or_opened(url, seen, origin=origin)


async def drive_headers(port: int, seen: list[str]) -> None:
    url = f"ws://127.0.0.1:{port}/p?b=2&a=1"
    async with connect(
        url, proxy=None, additional_headers={"X-Client": "c1"}, open_timeout=10
    ) as ws:
        seen.append(f"response header {ws.response.headers.get('X-Server')}")
        if "Set-Cookie" in ws.response.headers:
            cookies = ws.response.headers.get_all("Set-Cookie")
            seen.append(f"factory headers {cookies} {ws.response.headers.get('X-Count')}")
        seen.append(f"message {await asyncio.wait_for(ws.recv(), 10)}")
        await ws.close(1000)


async def drive_deny(port: int, seen: list[str]) -> None:
    await _refused_or_opened(f"ws://127.0.0.1:{port}/private", seen)
    await _refused_or_opened(f"ws://127.0.0.1:{port}/", seen, subprotocols=["v2", "v1"])
    await _refused_or_opened(f"ws://127.0.0.1:{port}/", seen, subprotocols=["other"])


async def drive_accept_shapes(port: int, seen: list[str]) -> None:
    for path in ("/none", "/str", "/one-tuple", "/pair", "/deny", "/deny-unavailable"):
        seen.append(f"path {path}")
        await _refused_or_opened(f"ws://127.0.0.1:{port}{path}", seen, subprotocols=["v2", "v1"])


async def drive_streaming(port: int, seen: list[str]) -> None:
    async with _connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send(["a" * 1000, "b" * 1000, "c" * 1000])  # one message, three frames
        seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)}")
        await ws.close(1000)


async def drive_endpoint(port: int, seen: list[str]) -> None:
    async with _connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("x")
        seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)}")
        await asyncio.sleep(0.35)  # auto-pings come and are answered meanwhile
        await ws.close(1000, "bye")


def drive_tls(cert_file: str) -> Driver:
    async def drive(port: int, seen: list[str]) -> None:
        context = ssl.create_default_context(cafile=cert_file)
        await _echo_exchange(f"wss://localhost:{port}/secure", seen, ["over tls"], ssl=context)

    return drive


#: the driver of each server program ("tls": drive_tls with the test CA)
SERVER_DRIVERS: dict[str, Driver | str] = {
    "s_asyncio_echo": drive_echo,
    "s_asyncio_echo_compressed": drive_echo_compressed,
    "s_twisted_echo": drive_echo,
    "s_asyncio_print_request": drive_print_request,
    "s_asyncio_coroutine": drive_upper,
    "s_twisted_deferred": drive_upper,
    "s_twisted_resources": drive_resources,
    "s_asyncio_origins": drive_origins,
    "s_twisted_origins": drive_origins,
    "s_asyncio_headers": drive_headers,
    "s_asyncio_deny": drive_deny,
    "s_twisted_accept_shapes": drive_accept_shapes,
    "s_asyncio_streaming": drive_streaming,
    "s_asyncio_closing": drive_closing,
    "s_twisted_endpoint": drive_endpoint,
    "s_asyncio_tls": "tls",
    "s_twisted_tls": "tls",
}

#: client programs whose server starts late (they must keep trying)
CLIENT_DELAYS = {"c_twisted_reconnecting": 0.6}

#: client programs that need the reference server over TLS (given the CA file)
CLIENTS_OVER_TLS = {"c_asyncio_tls", "c_twisted_tls"}
