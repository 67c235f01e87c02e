"""One backplane node for the multi-process tests: a server on asyncio or Twisted.

    python tests/backplane/node.py --runtime asyncio|twisted --redis URL [options]

It prints ``listening PORT`` once it accepts connections, and a line for
each backplane event (``EVENT lost ...``, ``EVENT restored``, ``EVENT gap
GROUP NODE MISSED``, ``EVENT shard-lost HOST:PORT ["group", ...]``, ``EVENT
shard-restored HOST:PORT [...]``).  Clients drive it with JSON text commands; a command's
answer is a JSON text message starting with ``{"reply"``; every other
message a client receives is a broadcast:

- ``{"op": "join" | "leave", "group": NAME}``
- ``{"op": "broadcast", "payload": TEXT, "binary": BOOL, "group": NAME|null,
  "others": BOOL}`` (``others``: ``self.broadcast``, which leaves the sender out)
- ``{"op": "burst", "count": N, "start": I, "size": BYTES, "group": NAME|null,
  "tag": TEXT}``: N broadcasts ``TAG:i:<padding>`` (i from I) from the server
  itself, in one go
- ``{"op": "farewell", "payload": TEXT, "group": NAME|null}``: broadcast
  this from ``onClose`` (a "left" message)
- ``{"op": "stats"}``: the backplane's counters, ``connected``, ``state``, its node id
  (hex), ``cluster``, ``shards`` and ``master`` (see RedisBackplane), this connection's
  ``broadcastDropped`` and the sum over the node's connections
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from typing import Any

from wsproto_cb.backplane import RedisBackplane


def make_factory(runtime: str, args: argparse.Namespace) -> Any:
    api = importlib.import_module(f"wsproto_cb.{runtime}")

    class NodeProtocol(api.WebSocketServerProtocol):  # type: ignore[name-defined,misc]
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            command = json.loads(payload)
            op = command["op"]
            answer: dict[str, Any] = {"reply": op}
            if op == "join":
                self.joinGroup(command["group"])
            elif op == "leave":
                self.leaveGroup(command["group"])
            elif op == "broadcast":
                data = command["payload"].encode()
                send = self.broadcast if command.get("others") else self.factory.broadcast
                answer["sent"] = send(data, bool(command.get("binary")), command.get("group"))
            elif op == "burst":
                pad = "x" * int(command.get("size", 0))
                start = int(command.get("start", 0))
                for i in range(start, start + int(command["count"])):
                    self.factory.broadcast(
                        f"{command['tag']}:{i}:{pad}".encode(), group=command.get("group")
                    )
            elif op == "farewell":
                self.farewell = (command["payload"].encode(), command.get("group"))
            elif op == "stats":
                backplane = self.factory.backplane
                answer["stats"] = dataclasses.asdict(backplane.stats)
                answer["connected"] = backplane.connected
                answer["state"] = backplane.state
                answer["node"] = backplane.nodeId.hex()
                answer["cluster"] = backplane.cluster
                answer["shards"] = backplane.shards
                answer["master"] = backplane.master
                answer["dropped"] = self.broadcastDropped
                answer["dropped_here"] = sum(
                    proto.broadcastDropped for proto in self.factory._open_connections
                )
            self.sendMessage(json.dumps(answer).encode())

        farewell: tuple[bytes, str | None] | None = None

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            if self.farewell is not None:
                payload, group = self.farewell
                self.broadcast(payload, group=group)

    class NodeFactory(api.WebSocketServerFactory):  # type: ignore[name-defined,misc]
        protocol = NodeProtocol

        def onBackplaneLost(self, reason: str) -> None:
            print(f"EVENT lost {reason}", flush=True)

        def onBackplaneRestored(self) -> None:
            print("EVENT restored", flush=True)

        def onBackplaneShardLost(self, shard: str, groups: list[str | None], reason: str) -> None:
            print(f"EVENT shard-lost {shard} {json.dumps(sorted(map(str, groups)))}", flush=True)

        def onBackplaneShardRestored(self, shard: str, groups: list[str | None]) -> None:
            print(
                f"EVENT shard-restored {shard} {json.dumps(sorted(map(str, groups)))}", flush=True
            )

        def onBackplaneGap(self, group: str | None, node: str, missed: int) -> None:
            print(f"EVENT gap {group} {node} {missed}", flush=True)

    factory = NodeFactory("ws://127.0.0.1")
    factory.setProtocolOptions(broadcastQueueLimit=args.queue_limit)
    factory.setBackplane(
        RedisBackplane(
            args.redis,
            probeInterval=args.probe_interval,
            probeTimeout=args.probe_timeout,
            reconnectMin=0.05,
            reconnectMax=args.reconnect_max,
            secretFile=args.secret_file,
        )
    )
    return factory


def run_asyncio(factory: Any) -> None:
    import asyncio

    from wsproto_cb.asyncio import install_signal_handlers

    async def listen() -> Any:
        server = await loop.create_server(factory, "127.0.0.1", 0)
        factory.startBackplane()  # (the script way: connect now, not at the first client)
        return server

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(listen())
    install_signal_handlers(loop, factory)  # SIGTERM: 1001 to everyone, then stop
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    loop.run_forever()


def run_twisted(factory: Any) -> None:
    from twisted.internet import reactor

    port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    print(f"listening {port.getHost().port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", choices=["asyncio", "twisted"], required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--probe-interval", type=float, default=5.0)
    parser.add_argument("--probe-timeout", type=float, default=3.0)
    parser.add_argument("--reconnect-max", type=float, default=0.5)
    parser.add_argument("--queue-limit", type=int, default=1024 * 1024)
    parser.add_argument("--secret-file", default=None)
    args = parser.parse_args()
    factory = make_factory(args.runtime, args)
    (run_asyncio if args.runtime == "asyncio" else run_twisted)(factory)


if __name__ == "__main__":
    sys.exit(main())
