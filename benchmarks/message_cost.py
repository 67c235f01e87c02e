"""Our own CPU per 64-byte echo in S2, without sockets or kernel.

    python benchmarks/message_cost.py              # this checkout
    PYTHONPATH=../other-tree python benchmarks/message_cost.py

An open asyncio server connection over an in-memory transport is handed one
masked 64-byte text frame at a time and echoes it: what is left is the
Python (and C extension) work of wsproto_cb per message, the part of S2's
server CPU that our code decides.  Two ways in, as the two loops read: the
bytes given to ``data_received`` (uvloop) and read into our buffer through
``get_buffer``/``buffer_updated`` (the stock loop).  py-spy cannot show this
share well: its samples land on the lines that make system calls.  The
clock is the process's CPU time; the best of ``--reps`` is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

from handshake_cost import REQUEST, Echo, MemoryTransport

from wsproto_cb.asyncio import WebSocketServerFactory

MASK = b"\x01\x02\x03\x04"
PAYLOAD = b"x" * 64
FRAME = b"\x81\xc0" + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(PAYLOAD))
ECHO = b"\x81\x40" + PAYLOAD


def _open_connection() -> tuple[Any, MemoryTransport]:
    factory = WebSocketServerFactory()
    factory.protocol = Echo
    factory.setProtocolOptions(autoPingInterval=0)
    protocol = factory()
    transport = MemoryTransport(protocol)
    protocol.connection_made(transport)
    protocol.data_received(REQUEST)
    return protocol, transport


def _plain(protocol: Any) -> None:
    protocol.data_received(FRAME)


def _buffered(protocol: Any) -> None:
    protocol.get_buffer(-1)[: len(FRAME)] = FRAME
    protocol.buffer_updated(len(FRAME))


async def measure(
    deliver: Callable[[Any], None], messages: int, reps: int, clock: Callable[[], float]
) -> float:
    protocol, transport = _open_connection()
    best = float("inf")
    for _ in range(reps):
        transport.written.clear()
        start = clock()
        for _ in range(messages):
            deliver(protocol)
        best = min(best, (clock() - start) / messages)
        assert transport.written == [ECHO] * messages, transport.written[:2]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    import wsproto_cb

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(wsproto_cb.__file__)
    for name, deliver in (("data_received (uvloop)", _plain), ("buffer_updated", _buffered)):
        best = asyncio.run(measure(deliver, args.messages, args.reps, clock))
        print(
            f"  {name:24s} {best * 1e9:6.0f} ns per echo ({args.clock} time, best of {args.reps})"
        )


if __name__ == "__main__":
    main()
