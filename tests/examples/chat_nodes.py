"""Several chat servers (examples/chat/server.py) as nodes of one chat, over a real Redis.

Shared by test_chat_scaleout.py (Python clients) and tests/browser (Chromium).
The Redis is :class:`backplane.redisproc.RedisServer`: a redis-server of its
own on a free port, persistence off, stopped by PID.  The waits below look
at Redis itself (``CLIENT LIST``, ``PUBSUB NUMSUB``), so a test knows when a
node's backplane is connected and subscribed instead of sleeping.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

# (tests/ is on sys.path: tests/backplane and tests/deploy are packages)
from backplane.redisproc import RedisServer
from deploy.procs import kill_pids, wait_gone

from wsproto_cb.backplane import RedisBackplane

from .procs import TIMEOUT, Proc, example, start_server

#: The group every joined chat client is in (examples/chat/server.py GROUP).
CHAT_GROUP = "chat"
RUNNING = "chat server running: open "
#: ``worker 1/2 (pid 1234): alice joined from tcp4:127.0.0.1:5678``
JOINED = re.compile(r"worker (\d+)/\d+ \(pid (\d+)\): (\S+) joined from tcp4:")
#: the parent's ``chat server: worker 1/2 (pid 1234) started``
STARTED = re.compile(r"chat server: worker \d+/\d+ \(pid (\d+)\) started")


def poll(what: str, ready: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Call ``ready()`` until it is true; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def backplane_links(redis: RedisServer) -> int:
    """How many nodes are connected to Redis (each has one subscriber link)."""
    return sum(
        1
        for client in redis.clients()
        if client.get("name", "").startswith("wsproto_cb-") and client["name"].endswith("-sub")
    )


def wait_nodes(redis: RedisServer, count: int) -> None:
    """Wait until ``count`` nodes have their backplane connected."""
    poll(f"{count} nodes on Redis", lambda: backplane_links(redis) >= count)


def chat_subscribers(redis: RedisServer) -> int:
    """How many nodes receive the chat group's broadcasts (they have a member)."""
    channel = RedisBackplane(redis.url).channel(CHAT_GROUP)
    reply = redis.command("PUBSUB", "NUMSUB", channel)
    return int(reply[1])


def wait_chat_subscribers(redis: RedisServer, count: int) -> None:
    poll(f"{count} nodes subscribed to the chat", lambda: chat_subscribers(redis) == count)


def start_node(redis: RedisServer, *args: str) -> tuple[Proc, int]:
    """A chat server on a free port, broadcasting through ``redis``."""
    return start_server("chat/server.py", "--backplane", redis.url, *args)


@contextlib.contextmanager
def chat_workers(count: int, *args: str) -> Iterator[tuple[Proc, int]]:
    """``server.py --workers count`` on a free port, once every worker listens.

    Afterwards: SIGTERM to the parent (which stops its workers), then SIGKILL
    to any worker still running, so that a failed test leaves none behind.
    """
    proc, port = start_server("chat/server.py", "--workers", str(count), *args)
    try:
        poll(f"{count} workers running", lambda: proc.output.count(RUNNING) >= count)
        yield proc, port
    finally:
        proc.stop()
        pids = [int(pid) for pid in STARTED.findall(proc.output)]
        kill_pids(wait_gone(pids, timeout=5))


def joined_by_worker(server_log: str) -> dict[str, tuple[int, int]]:
    """Client name -> (worker index, worker PID), from the server log."""
    return {m.group(3): (int(m.group(1)), int(m.group(2))) for m in JOINED.finditer(server_log)}


def chat_client(port: int, name: str) -> Proc:
    """examples/chat/client.py joined as ``name``; each line sent to it is said in the chat."""
    return Proc(example("chat/client.py", f"ws://127.0.0.1:{port}/ws", "--name", name), stdin=True)


class ChatClient:
    """A chat member over the ``websockets`` sync client, for tests that must read
    exactly what arrives (every read bounded by ``TIMEOUT``)."""

    def __init__(self, port: int, name: str) -> None:
        from websockets.sync.client import connect

        self.name = name
        self.received: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()  # (websockets wants connect() as a context manager)
        self.ws = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}/ws", open_timeout=TIMEOUT)
        )
        self.send({"type": "join", "name": name})
        self.welcome = self.expect_type("welcome")

    @property
    def node(self) -> str:
        """The server that welcomed this client (``--node``, plus the worker)."""
        return str(self.welcome["node"])

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def say(self, text: str) -> None:
        self.send({"type": "message", "text": text})

    def expect(self, message: dict[str, Any]) -> None:
        """Read until ``message`` arrives (others are kept in ``received``)."""
        self._read_until(lambda got: got == message, repr(message))

    def expect_type(self, kind: str) -> dict[str, Any]:
        return self._read_until(lambda got: got.get("type") == kind, f"a {kind!r} message")

    def _read_until(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                break
            self.received.append(got)
            if wanted(got):
                return dict(got)
        raise AssertionError(f"{self.name}: no {what} within {TIMEOUT}s; got {self.received}")

    def close_code(self) -> int | None:
        """Read until the server closes; the code it sent (None: no close frame)."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + TIMEOUT
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.received.append(json.loads(self.ws.recv(timeout=left)))
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None
        except TimeoutError:
            pass
        raise AssertionError(f"{self.name}: the server did not close within {TIMEOUT}s")

    def close(self) -> None:
        self._stack.close()
