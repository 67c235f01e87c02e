"""The chat example scaled out: servers sharing one Redis, and worker processes on one port.

Real processes and sockets: a redis-server of the test's own, chat servers
started as a person would (``--backplane``, ``--workers``), clients that are
the example's terminal client or the ``websockets`` library.  The browser
versions of these tests are in tests/browser; these run where Chromium is
missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backplane.redisproc import RedisServer, running_redis

from .chat_nodes import (
    ChatClient,
    chat_client,
    chat_workers,
    joined_by_worker,
    start_node,
    wait_chat_subscribers,
    wait_nodes,
)
from .procs import example, run

#: Connections tried until one lands on the other of two workers (the kernel
#: picks the worker: each try misses with probability 1/2).
WORKER_TRIES = 20


def worker_index(node: str) -> int:
    """1 for ``chat worker 1/2``."""
    return int(node.rpartition(" ")[2].partition("/")[0])


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def test_two_chat_servers_on_one_redis_are_one_chat(redis: RedisServer) -> None:
    """Two servers (two "machines") and the example's terminal client on each."""
    node_a, port_a = start_node(redis, "--node", "A")
    node_b, port_b = start_node(redis, "--node", "B")
    alice = bob = None
    try:
        wait_nodes(redis, 2)
        alice = chat_client(port_a, "alice")
        alice.expect("* welcome alice; online: alice; extensions: permessage-deflate; server: A")
        wait_chat_subscribers(redis, 1)  # A now hears the chat on Redis
        bob = chat_client(port_b, "bob")
        # (the online list is per node: alice is on A)
        bob.expect("* welcome bob; online: bob; extensions: permessage-deflate; server: B")
        wait_chat_subscribers(redis, 2)
        alice.expect("* bob joined")

        bob.send("hello from B\n")
        alice.expect("<bob> hello from B")
        alice.send("hello from A\n")
        bob.expect("<alice> hello from A")
        bob.expect("<bob> hello from B")  # (the sender's own node sends it back too)

        bob.close_stdin()
        assert bob.wait() == 0, bob.output
        alice.expect("* bob left")
        wait_chat_subscribers(redis, 1)  # B has no member left: it unsubscribed
        alice.close_stdin()
        assert alice.wait() == 0, alice.output
    finally:
        for client in (alice, bob):
            if client is not None:
                client.stop()
        log_a, log_b = node_a.stop(), node_b.stop()
    assert "alice joined from tcp4:127.0.0.1:" in log_a and "alice left" in log_a
    assert "bob joined from tcp4:127.0.0.1:" in log_b and "bob left" in log_b
    assert "bob joined" not in log_a  # (each node logs its own clients)


def test_workers_share_one_port_and_the_chat(redis: RedisServer) -> None:
    """``--workers 2 --backplane``: clients on different workers chat; SIGTERM to the
    parent closes every connection with 1001 and the parent exits 0."""
    clients: list[ChatClient] = []
    with chat_workers(2, "--backplane", redis.url, "--node", "chat") as (server, port):
        try:
            wait_nodes(redis, 2)
            alice = ChatClient(port, "alice")
            clients.append(alice)
            wait_chat_subscribers(redis, 1)
            for attempt in range(WORKER_TRIES):
                bob = ChatClient(port, f"bob{attempt}")
                clients.append(bob)
                if bob.node != alice.node:
                    break
                bob.close()
            else:
                pytest.fail(f"{WORKER_TRIES} connections all went to {alice.node}")
            assert {alice.node, bob.node} == {"chat worker 1/2", "chat worker 2/2"}
            wait_chat_subscribers(redis, 2)
            alice.expect({"type": "join", "name": bob.name})

            bob.say("hi from the other worker")
            alice.expect({"type": "message", "name": bob.name, "text": "hi from the other worker"})
            alice.say("hi back")
            bob.expect({"type": "message", "name": "alice", "text": "hi back"})

            served = joined_by_worker(server.output)
            assert served["alice"][0] == worker_index(alice.node)
            assert served[bob.name][0] == worker_index(bob.node)
            assert served["alice"][1] != served[bob.name][1]  # two processes

            log = server.stop()  # SIGTERM to the parent's process group: the parent only
            assert alice.close_code() == 1001
            assert bob.close_code() == 1001
            assert server.popen.returncode == 0, log
            assert "chat server: all 2 worker(s) stopped" in log
        finally:
            for client in clients:
                client.close()


def test_workers_without_a_backplane_say_so() -> None:
    with chat_workers(2) as (server, _port):
        line = server.expect("workers without a backplane")
        assert "worker 1/2 (pid " in line and "warning: 2 workers" in line
        assert server.output.count("workers without a backplane") == 1  # worker 1 only


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--workers", "2", "--port", "0"], "--workers needs a fixed --port"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--backplane", "nats://127.0.0.1"], "--backplane: unknown backplane URL"),
    ],
)
def test_chat_server_command_line_mistakes(args: list[str], error: str) -> None:
    status, out = run(example("chat/server.py", *args))
    assert status == 2, out
    assert error in out
