"""Sending from threads that are not the loop's, on both runtimes: to one
connection and to a group, every message delivered once and in order per thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from .harness import Recorder, RuntimeHarness, future, resolve, track_opened

THREADS = 8


class Counting:
    """Client behaviour: keeps every text message; resolves ``factory.all_in`` at the count."""

    factory: Any

    def onOpen(self) -> None:
        self.received: list[str] = []
        resolve(self.factory.opened_once, self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.received.append(payload.decode())
        if len(self.received) == self.factory.expected:
            resolve(self.factory.all_in, self)


def run_threads(send: Any, per_thread: int) -> None:
    start = threading.Barrier(THREADS)

    def work(n: int) -> None:
        start.wait()  # (all at once: the calls really interleave)
        for i in range(per_thread):
            send(f"{n}:{i}".encode())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def check_order(received: list[str], per_thread: int) -> None:
    by_thread: dict[int, list[int]] = {n: [] for n in range(THREADS)}
    for text in received:
        n, i = text.split(":")
        by_thread[int(n)].append(int(i))
    for n, seen in by_thread.items():
        assert seen == list(range(per_thread)), f"thread {n}: lost, repeated or reordered"


async def connected(runtime: RuntimeHarness, expected: int, group: str | None = None) -> Any:
    class Server(Recorder):
        def onOpen(self) -> None:
            if group is not None:
                self.joinGroup(group)  # type: ignore[attr-defined]
            super().onOpen()

    factory = runtime.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client_factory = runtime.client_factory(Counting)
    client_factory.expected = expected
    client_factory.opened_once = future()
    client_factory.all_in = future()
    await runtime.connect(client_factory, port)
    client = await runtime.wait(client_factory.opened_once)
    server = await runtime.wait(servers.get())
    return factory, server, client_factory, client


@pytest.mark.asyncio_task
async def test_eight_threads_send_to_one_connection(runtime: RuntimeHarness) -> None:
    per_thread = 10_000
    _factory, server, client_factory, client = await connected(runtime, THREADS * per_thread)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, run_threads, server.sendMessageThreadsafe, per_thread)
    await runtime.wait(client_factory.all_in, 60)
    assert len(client.received) == THREADS * per_thread
    check_order(client.received, per_thread)


@pytest.mark.asyncio_task
async def test_eight_threads_broadcast_to_a_group(runtime: RuntimeHarness) -> None:
    per_thread = 1_000
    factory, _server, client_factory, client = await connected(
        runtime, THREADS * per_thread, group="room"
    )
    loop = asyncio.get_running_loop()

    def send(payload: bytes) -> None:
        factory.broadcastThreadsafe(payload, group="room")

    await loop.run_in_executor(None, run_threads, send, per_thread)
    await runtime.wait(client_factory.all_in, 60)
    check_order(client.received, per_thread)


@pytest.mark.asyncio_task
async def test_send_after_close_is_dropped_and_bad_payloads_refused(
    runtime: RuntimeHarness,
) -> None:
    _factory, server, _client_factory, client = await connected(runtime, 1)
    with pytest.raises(TypeError, match="bytes"):
        server.sendMessageThreadsafe("text, not bytes")
    server.sendCloseThreadsafe(1000, "bye")
    await runtime.wait(server.closed)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, server.sendMessageThreadsafe, b"too late")
    await asyncio.sleep(0.05)
    assert client.received == []
