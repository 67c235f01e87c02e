"""A client that comes back (asyncio): reconnects with backoff and jitter until stopped.

    python examples/reconnect/client_asyncio.py ws://127.0.0.1:9000 [--connections N]

Stop and restart the server: each connection gets its own onOpen/onClose.
After N connections it stops (closing with 1000); Ctrl-C stops at once.
"""

import argparse
import asyncio

from wsproto_cb.asyncio import ReconnectingClient, WebSocketClientFactory, WebSocketClientProtocol
from wsproto_cb.reconnect import Backoff


class Hello(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.opened += 1
        print(f"open #{self.factory.opened}", flush=True)
        self.sendMessage(f"hello #{self.factory.opened}".encode())

    def onMessage(self, payload, isBinary):
        print(f"echo: {payload.decode()}", flush=True)
        if self.factory.opened >= self.factory.wanted:
            self.factory.finished.set()

    def onClose(self, wasClean, code, reason):
        print(f"closed (code={code}); reconnecting", flush=True)


async def main(url: str, wanted: int) -> None:
    factory = WebSocketClientFactory(url)
    factory.protocol = Hello
    factory.opened, factory.wanted, factory.finished = 0, wanted, asyncio.Event()
    # 0.1 s, 0.2 s, 0.4 s ... at most 2 s between attempts, up to half of each taken off
    client = ReconnectingClient(factory, Backoff(initial=0.1, max_delay=2.0, jitter=0.5))
    client.start()
    await factory.finished.wait()
    await client.stop(1000)
    print(f"stopped after {client.attempts} attempts", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.connections))
