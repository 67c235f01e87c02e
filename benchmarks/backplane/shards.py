"""Redis' side of the backplane: CPU per message on one Redis and on each master of a cluster.

    python -m benchmarks.backplane.shards                  # 60,000 messages; 2 and 8 nodes
    python -m benchmarks.backplane.shards --quick          # 12,000 messages; 2 nodes
    python -m benchmarks.backplane.shards --messages 100000 --nodes 2,8,32

What the nodes' backplanes do to Redis, without the nodes: ``--nodes``
subscriber connections (one per node; on a cluster one per node and
master, as the backplane holds them) subscribe to 48 group channels, and
one publisher connection per server sends the messages (an envelope-sized
150-byte payload, round robin over the groups, pipelined in batches of
100) as fast as Redis takes them.  Three targets, each started fresh:

- ``one redis``: ``PUBLISH``/``SUBSCRIBE`` on one redis-server;
- ``cluster, sharded``: ``SPUBLISH``/``SSUBSCRIBE`` on the master that owns
  each channel (what :class:`~wsproto_cb.backplane.RedisBackplane` does);
- ``cluster, plain``: ``PUBLISH``/``SUBSCRIBE`` on a cluster, the
  subscribers spread over the masters: what a cluster-unaware client gets
  (each message crosses the cluster bus to every master).

The figures are each server's CPU time (its ``INFO cpu``) per message
published through it, and the messages per second of the whole run.  One
core's worth of a master's CPU divided by its CPU per message is the most
messages per second that master can carry at that fan-out.  The machine
is shared: the ratios between targets mean more than the absolute rates.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.redis_server import RedisCluster, RedisServer, redis_cli_path, redis_server_path
from wsproto_cb.backplane.resp import encode_command, make_reader

GROUPS = 48
PAYLOAD = b"x" * 150
BATCH = 100
WINDOW = 8  # batches written and not yet answered, per publisher
NO_LIMIT = ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0")


def channel(i: int) -> str:
    return f"wsproto_cb:g:group{i:03d}"


def push_size(kind: bytes, name: str) -> int:
    """Bytes of one pushed message (all channel names have one length)."""
    return len(encode_command(kind, name, PAYLOAD))


def redis_cpu(server: RedisServer) -> float:
    text = server.command("INFO", "cpu").decode()
    fields = dict(line.split(":", 1) for line in text.split() if ":" in line)
    return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def command(sock: socket.socket, *args: str) -> Any:
    sock.sendall(encode_command(*args))
    reader = make_reader()
    while (reply := reader.gets()) is False:
        reader.feed(sock.recv(65536))
    return reply


class Publisher:
    """One pipelined connection; its replies are counted as they come."""

    def __init__(self, sock: socket.socket, commands: list[bytes]) -> None:
        self.sock = sock
        self.batches = [b"".join(commands[i : i + BATCH]) for i in range(0, len(commands), BATCH)]
        self.sizes = [min(BATCH, len(commands) - i) for i in range(0, len(commands), BATCH)]
        self.total = len(commands)
        self.written = 0  # batches
        self.answered = 0  # replies
        self.reader = make_reader()

    def write_some(self) -> None:
        while self.written < len(self.batches):
            ahead = sum(self.sizes[: self.written]) - self.answered
            if ahead > WINDOW * BATCH:
                return
            self.sock.sendall(self.batches[self.written])
            self.written += 1

    def readable(self) -> None:
        self.reader.feed(self.sock.recv(1 << 20))
        while (reply := self.reader.gets()) is not False:
            if not isinstance(reply, int):
                raise RuntimeError(f"Redis answered {reply!r}")
            self.answered += 1


def run(
    servers: Sequence[RedisServer],
    owner: Callable[[str], RedisServer],
    sharded: bool,
    nodes: int,
    messages: int,
) -> dict[str, Any]:
    """One measurement: subscribe, publish everything, wait for every push."""
    kind, sub, pub = (
        (b"smessage", "SSUBSCRIBE", "SPUBLISH") if sharded else (b"message", "SUBSCRIBE", "PUBLISH")
    )
    names = [channel(i) for i in range(GROUPS)]
    selector = selectors.DefaultSelector()
    expected: dict[socket.socket, int] = {}
    received: dict[socket.socket, int] = {}
    opened: list[socket.socket] = []
    try:
        for server in servers:
            command(connect(server.port), *NO_LIMIT)
        # each node: one subscriber per master it needs (sharded), or one in all
        for node in range(nodes):
            by_server: dict[int, list[str]] = {}
            for name in names:
                home = owner(name) if sharded else servers[node % len(servers)]
                by_server.setdefault(home.port, []).append(name)
            for port, held in by_server.items():
                sock = connect(port)
                opened.append(sock)
                for name in held:  # (sharded: one slot per command)
                    command(sock, sub, name)
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, None)
                expected[sock] = 0
                received[sock] = 0
                for i in range(messages):
                    if names[i % GROUPS] in held:
                        expected[sock] += push_size(kind, names[i % GROUPS])
        time.sleep(0.2)  # (subscriptions settle; plain pub/sub on a cluster crosses the bus)
        commands: dict[int, list[bytes]] = {}
        sent_to: dict[int, int] = {}
        for i in range(messages):
            name = names[i % GROUPS]
            target = owner(name) if sharded else servers[i % len(servers)]
            commands.setdefault(target.port, []).append(encode_command(pub, name, PAYLOAD))
            sent_to[target.port] = sent_to.get(target.port, 0) + 1
        publishers = [Publisher(connect(port), batch) for port, batch in commands.items()]
        for publisher in publishers:
            opened.append(publisher.sock)
            publisher.sock.setblocking(False)
            selector.register(publisher.sock, selectors.EVENT_READ, publisher)
        cpu0 = {server.port: redis_cpu(server) for server in servers}
        t0 = time.monotonic()
        deadline = t0 + 120
        while any(p.answered < p.total for p in publishers) or any(
            received[s] < expected[s] for s in expected
        ):
            for publisher in publishers:
                publisher.sock.setblocking(True)
                publisher.write_some()
                publisher.sock.setblocking(False)
            for key, _ in selector.select(1.0):
                sock: Any = key.fileobj
                if key.data is not None:
                    key.data.readable()
                else:
                    received[sock] += len(sock.recv(1 << 20))
            if time.monotonic() > deadline:
                raise RuntimeError("not every message arrived within 120 s")
        wall = time.monotonic() - t0
        cpu = {server.port: redis_cpu(server) - cpu0[server.port] for server in servers}
    finally:
        selector.close()
        for sock in opened:
            sock.close()
    over = [p for p in received if received[p] != expected[p]]
    if over:
        raise RuntimeError(f"{len(over)} subscribers received other than expected")
    return {
        "rate": messages / wall,
        # per master: CPU per message published through it (plain on a cluster: per message)
        "us_per_message": [
            cpu[server.port] / (sent_to.get(server.port) or messages) * 1e6 for server in servers
        ],
        "cpu_s": [cpu[server.port] for server in servers],
    }


def main(argv: list[str] | None = None) -> int:
    about = (__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(prog="python -m benchmarks.backplane.shards", description=about)
    p.add_argument("--quick", action="store_true", help="12,000 messages, 2 nodes, 1 repetition")
    p.add_argument("--messages", type=int, help="messages per measurement (default 60,000)")
    p.add_argument("--nodes", help="comma-separated node counts (default 2,8)")
    p.add_argument("--repeat", type=int, help="repetitions (default 3)")
    args = p.parse_args(argv)
    messages = args.messages or (12_000 if args.quick else 60_000)
    nodes = [int(n) for n in (args.nodes or ("2" if args.quick else "2,8")).split(",")]
    repeat = args.repeat or (1 if args.quick else 3)
    if redis_server_path() is None or redis_cli_path() is None:
        print("redis-server and redis-cli are needed", file=sys.stderr)
        return 1
    single = RedisServer()
    cluster = RedisCluster()
    try:
        owners = {channel(i): cluster.owner(channel(i)) for i in range(GROUPS)}
        per_master = [sum(o is s for o in owners.values()) for s in cluster.servers]
        print(f"{GROUPS} groups; on the cluster's masters: {'/'.join(map(str, per_master))}")
        targets: list[tuple[str, Sequence[RedisServer], Callable[[str], RedisServer], bool]] = [
            ("one redis", [single], lambda name: single, False),
            ("cluster, sharded", cluster.servers, owners.__getitem__, True),
            ("cluster, plain", cluster.servers, owners.__getitem__, False),
        ]
        print(
            f"\n{messages:,} messages of {len(PAYLOAD)} bytes, as fast as Redis takes them;"
            f" median of {repeat}"
        )
        print(
            f"{'target':<20}{'nodes':>6}{'messages/s':>12}{'  Redis CPU us/message, each server'}"
        )
        for count in nodes:
            for name, servers, owner, sharded in targets:
                runs = [run(servers, owner, sharded, count, messages) for _ in range(repeat)]
                rate = statistics.median(r["rate"] for r in runs)
                us = [
                    statistics.median(r["us_per_message"][i] for r in runs)
                    for i in range(len(servers))
                ]
                print(f"{name:<20}{count:>6}{rate:>12,.0f}  {' / '.join(f'{u:.1f}' for u in us)}")
    finally:
        single.close()
        cluster.close()
    print(
        "\n(cluster, sharded: per message published through that master; cluster, plain:"
        " per message published anywhere, as each master does work for every one)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
