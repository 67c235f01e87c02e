"""Testee client for wstest's fuzzingserver, written against the Autobahn API only.

Asks the fuzzingserver how many cases it has (/getCaseCount), runs each one
(/runCase?case=N&agent=A, echoing every message back), then has the server
write its reports (/updateReports). Offers permessage-deflate and accepts the
server's response, like Autobahn's testee client. Nothing below is specific
to either implementation: it is an Autobahn program with swappable imports.

    python -m tests.conformance.testee_client --impl autobahn --runtime asyncio \
        --url ws://127.0.0.1:9001 --agent autobahn-asyncio
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from tests.conformance.impl import (
    IMPLS,
    LARGEST_MESSAGE,
    RUNTIMES,
    compress_module,
    websocket_module,
)

# Opens one connection to ``url``; echoes messages when asked, else collects
# them; resolves to the collected messages once the connection is closed.
Connect = Callable[[str, bool], Awaitable[list[bytes]]]


def make_factory(impl: str, runtime: str, url: str, echo: bool) -> Any:
    """A client factory for one connection; ``factory.received`` collects messages."""
    ws = websocket_module(impl, runtime)
    compress = compress_module(impl)

    class TesteeClientProtocol(ws.WebSocketClientProtocol):  # type: ignore[name-defined,misc]
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if self.factory.echo:
                self.sendMessage(payload, isBinary)
            else:
                self.factory.received.append(payload)

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            self.factory.on_closed(self.factory.received)

    def accept(response: Any) -> Any:
        if isinstance(response, compress.PerMessageDeflateResponse):
            return compress.PerMessageDeflateResponseAccept(response)
        return None

    offers = [
        compress.PerMessageDeflateOffer(
            accept_no_context_takeover=True, accept_max_window_bits=True
        )
    ]
    factory = ws.WebSocketClientFactory(url)
    factory.protocol = TesteeClientProtocol
    factory.setProtocolOptions(
        failByDrop=False,
        perMessageCompressionOffers=offers,
        perMessageCompressionAccept=accept,
        maxMessagePayloadSize=LARGEST_MESSAGE,
        maxFramePayloadSize=LARGEST_MESSAGE,
    )
    factory.echo = echo
    factory.received = []
    return factory


async def run_cases(connect: Connect, base_url: str, agent: str) -> int:
    """The getCaseCount / runCase / updateReports loop; returns the case count."""
    messages = await connect(f"{base_url}/getCaseCount", False)
    if not messages:
        raise RuntimeError("fuzzingserver sent no case count")
    count = int(json.loads(messages[0]))
    name = quote(agent)
    for case in range(1, count + 1):
        print(f"case {case}/{count}", flush=True)
        await connect(f"{base_url}/runCase?case={case}&agent={name}", True)
    await connect(f"{base_url}/updateReports?agent={name}", False)
    return count


def run_asyncio(impl: str, base_url: str, agent: str, timeout: float) -> int:
    """Run all cases on asyncio, one connection after another."""
    host, port = _host_port(base_url)

    async def connect(url: str, echo: bool) -> list[bytes]:
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[list[bytes]] = loop.create_future()
        factory = make_factory(impl, "asyncio", url, echo)

        def on_closed(received: list[bytes]) -> None:
            if not closed.done():
                closed.set_result(received)

        factory.on_closed = on_closed
        transport, _ = await loop.create_connection(factory, host, port)
        try:
            return await asyncio.wait_for(asyncio.shield(closed), timeout)
        except TimeoutError:
            print(f"timed out after {timeout}s: {url}", flush=True)
            return list(factory.received)
        finally:
            transport.abort()

    async def main() -> int:
        return await run_cases(connect, base_url, agent)

    return asyncio.run(main())


def run_twisted(impl: str, base_url: str, agent: str, timeout: float) -> int:
    """Run all cases on Twisted (connectWS), one connection after another."""
    from twisted.internet import defer, reactor, task

    ws = websocket_module(impl, "twisted")

    def connect(url: str, echo: bool) -> defer.Deferred[list[bytes]]:
        closed: defer.Deferred[list[bytes]] = defer.Deferred()
        factory = make_factory(impl, "twisted", url, echo)

        def on_closed(received: list[bytes]) -> None:
            if not closed.called:
                closed.callback(received)

        factory.on_closed = on_closed
        connector = ws.connectWS(factory)

        def timed_out(result: object, seconds: float) -> list[bytes]:
            print(f"timed out after {seconds}s: {url}", flush=True)
            return list(factory.received)

        closed.addTimeout(timeout, reactor, onTimeoutCancel=timed_out)
        closed.addBoth(lambda result: (connector.disconnect(), result)[1])
        return closed

    count: list[int] = []

    async def main(_reactor: Any) -> None:
        count.append(await run_cases(connect, base_url, agent))

    try:
        task.react(lambda r: defer.ensureDeferred(main(r)))
    except SystemExit as exc:
        if exc.code:
            raise
    return count[0] if count else -1


def _host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=IMPLS, default="wsproto_cb")
    parser.add_argument("--runtime", choices=RUNTIMES, default="asyncio")
    parser.add_argument("--url", required=True, help="fuzzingserver URL, ws://127.0.0.1:PORT")
    parser.add_argument("--agent", required=True, help="agent name in the reports")
    parser.add_argument("--case-timeout", type=float, default=300.0, help="per connection")
    args = parser.parse_args(argv)
    run = run_asyncio if args.runtime == "asyncio" else run_twisted
    count = run(args.impl, args.url.rstrip("/"), args.agent, args.case_timeout)
    print(f"ran {count} cases", flush=True)
    return 0 if count >= 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
