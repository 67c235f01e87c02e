"""A client that comes back (Twisted): reconnects with backoff and jitter until stopped.

    python examples/reconnect/client_twisted.py ws://127.0.0.1:9000 [--connections N]
"""

import argparse

from twisted.internet import reactor

from wsproto_cb.reconnect import Backoff
from wsproto_cb.twisted import ReconnectingClient, WebSocketClientFactory, WebSocketClientProtocol


class Hello(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.opened += 1
        print(f"open #{self.factory.opened}", flush=True)
        self.sendMessage(f"hello #{self.factory.opened}".encode())

    def onMessage(self, payload, isBinary):
        print(f"echo: {payload.decode()}", flush=True)
        if self.factory.opened >= self.factory.wanted:
            client.stop(1000).addCallback(finished)

    def onClose(self, wasClean, code, reason):
        print(f"closed (code={code}); reconnecting", flush=True)


def finished(_):
    print(f"stopped after {client.attempts} attempts", flush=True)
    reactor.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=3)
    args = parser.parse_args()
    factory = WebSocketClientFactory(args.url)
    factory.protocol = Hello
    factory.opened, factory.wanted = 0, args.connections
    client = ReconnectingClient(factory, Backoff(initial=0.1, max_delay=2.0, jitter=0.5))
    client.start()
    reactor.run()
