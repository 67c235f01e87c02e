"""Nodes (tests/backplane/node.py processes) and WebSocket clients that drive them.

Every wait is bounded.  A :class:`Client` keeps the broadcasts it receives
while waiting for a command's reply in its inbox, so nothing is lost
between a command and the next read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socket import SO_RCVBUF, SOL_SOCKET
from typing import Any

import websocket
from deploy.procs import Proc, python

from .redisproc import RedisServer

NODE = Path(__file__).with_name("node.py")
TIMEOUT = 20.0


class Node:
    """One node process, listening on a loopback port."""

    def __init__(self, runtime: str, redis_url: str, *options: str) -> None:
        self.runtime = runtime
        self.proc = Proc(python(str(NODE), "--runtime", runtime, "--redis", redis_url, *options))
        self.port = int(self.proc.wait_for(r"^listening (\d+)").group(1))
        self.url = f"ws://127.0.0.1:{self.port}/"

    def __repr__(self) -> str:
        return f"<Node {self.runtime} :{self.port}>"

    def events(self, kind: str) -> list[str]:
        prefix = f"EVENT {kind}"
        return [line for line in self.proc.lines if line.startswith(prefix)]

    def stop(self) -> str:
        self.proc.kill()
        return self.proc.output


@contextmanager
def nodes(redis_url: str, runtimes: list[str], *options: str) -> Iterator[list[Node]]:
    started: list[Node] = []
    try:
        for runtime in runtimes:
            started.append(Node(runtime, redis_url, *options))
        yield started
    finally:
        for node in started:
            node.stop()


class Client:
    """A websocket-client connection; broadcasts go to ``inbox`` as (is_binary, text)."""

    def __init__(self, node: Node, receive_buffer: int | None = None) -> None:
        self.node = node
        options = [] if receive_buffer is None else [(SOL_SOCKET, SO_RCVBUF, receive_buffer)]
        self.ws = websocket.create_connection(node.url, timeout=TIMEOUT, sockopt=options)
        self.inbox: list[tuple[bool, str]] = []
        #: broadcasts read so far (commands' replies not counted)
        self.received = 0

    def close(self) -> None:
        self.ws.close()

    def _read(self) -> tuple[bool, str]:
        opcode, data = self.ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise AssertionError(f"{self.node} closed the connection: {data!r}")
        return opcode == websocket.ABNF.OPCODE_BINARY, data.decode()

    def command(self, op: str, **fields: Any) -> dict[str, Any]:
        self.ws.send(json.dumps({"op": op, **fields}))
        while True:
            is_binary, text = self._read()
            if not is_binary and text.startswith('{"reply"'):
                reply: dict[str, Any] = json.loads(text)
                return reply
            self.inbox.append((is_binary, text))
            self.received += 1

    def wait_received(self, count: int, timeout: float = TIMEOUT) -> None:
        """Until :meth:`receive_until`, running in another thread, has read ``count``."""
        deadline = time.monotonic() + timeout
        while self.received < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.received} of {count} messages after {timeout} s")
            time.sleep(0.002)

    def receive(self, count: int) -> list[tuple[bool, str]]:
        """The next ``count`` broadcasts (the inbox first)."""
        while len(self.inbox) < count:
            self.inbox.append(self._read())
            self.received += 1
        got, self.inbox = self.inbox[:count], self.inbox[count:]
        return got

    def receive_until(self, marker: str) -> list[str]:
        """Every broadcast before ``marker`` (a text broadcast), which is consumed."""
        got = []
        while True:
            (_, text) = self.receive(1)[0]
            if text == marker:
                return got
            got.append(text)


def joined(clients: list[Client], node: Node, *groups: str) -> Client:
    """A new client of ``node`` that has joined ``groups`` (closed by the ``clients`` fixture)."""
    client = Client(node)
    clients.append(client)
    for group in groups:
        client.command("join", group=group)
    return client


def wait_subscribed(redis: RedisServer, channel: str, count: int, timeout: float = TIMEOUT) -> None:
    """Until exactly ``count`` connections subscribe to ``channel`` on ``redis``."""
    deadline = time.monotonic() + timeout
    while True:
        seen = redis.command("PUBSUB", "NUMSUB", channel)[1]
        if seen == count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{channel}: {seen} subscribers, not {count}, after {timeout} s")
        time.sleep(0.02)


def group_channel(group: str | None) -> str:
    return "wsproto_cb:all" if group is None else f"wsproto_cb:g:{group}"
