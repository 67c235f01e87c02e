"""Our own CPU per connection in S5's lifecycle, without sockets or kernel.

    python benchmarks/handshake_cost.py              # this checkout
    PYTHONPATH=../other-tree python benchmarks/handshake_cost.py

An asyncio server protocol is driven through what S5 does to it (connection
made, the request head, a masked close frame, the TCP close) over an
in-memory transport, on a running loop.  What is left is the Python work of
wsproto_cb plus one loop iteration per connection: the part of S5's server
CPU that our code decides, measured without the kernel's share and without
the other jobs on the machine moving the rate: the clock is the process's
CPU time (``time.process_time``; ``--clock wall`` for ``perf_counter``), so
time spent waiting for a core does not count, and the best of ``--reps``
is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol

REQUEST = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
MASK = b"\x01\x02\x03\x04"
CLOSE = b"\x88\x82" + MASK + bytes([0x03 ^ 0x01, 0xE8 ^ 0x02])  # close 1000, masked


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


class MemoryTransport(asyncio.Transport):
    """Keeps what is written; closing reports the loss on the next loop turn, as asyncio does."""

    def __init__(self, protocol: Any) -> None:
        super().__init__()
        self._protocol = protocol
        self._closing = False
        self.written: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 9000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            asyncio.get_running_loop().call_soon(self._lost)

    def _lost(self) -> None:
        protocol, self._protocol = self._protocol, None
        protocol.connection_lost(None)

    def get_write_buffer_size(self) -> int:
        return 0


async def measure(
    connections: int,
    reps: int,
    clock: Callable[[], float] = time.process_time,
    batch: int = 1,
) -> float:
    """CPU per connection; ``batch`` connections at a time go through each step
    together (S5 keeps 10 in flight: several wait in the handshake at once)."""
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(autoPingInterval=0)
    best = float("inf")
    transport = None
    rounds = max(1, connections // batch)
    for _ in range(reps):
        start = clock()
        for _ in range(rounds):
            made = []
            for _ in range(batch):
                protocol = factory()
                transport = MemoryTransport(protocol)
                protocol.connection_made(transport)
                made.append((protocol, transport))
            if batch > 1:
                await asyncio.sleep(0)  # (the requests come on a later turn)
            for protocol, _ in made:
                protocol.data_received(REQUEST)
            for protocol, _ in made:
                protocol.data_received(CLOSE)
            await asyncio.sleep(0)  # (connection_lost runs here)
        best = min(best, (clock() - start) / (rounds * batch))
    assert transport is not None and transport.written[0].startswith(b"HTTP/1.1 101 ")
    assert transport.written[1] == b"\x88\x02\x03\xe8", transport.written
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument(
        "--batch", type=int, default=1, help="connections in flight together (S5: 10)"
    )
    args = parser.parse_args()
    import wsproto_cb

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    best = asyncio.run(measure(args.connections, args.reps, clock, args.batch))
    print(
        f"{wsproto_cb.__file__}: {best * 1e6:.1f} us per connection "
        f"({args.clock} time, best of {args.reps}, {args.batch} at a time)"
    )


if __name__ == "__main__":
    main()
