"""A plain Twisted protocol as a WebSocket client: sends a line, prints the answer.

    python examples/wrapping/client_twisted.py ws://127.0.0.1:9000
"""

import sys

from twisted.internet import reactor
from twisted.internet.protocol import ClientFactory
from twisted.protocols.basic import LineReceiver

from wsproto_cb.twisted import connectWS
from wsproto_cb.twisted.wrapping import WrappingWebSocketClientFactory


class AskOnce(LineReceiver):
    delimiter = b"\n"

    def connectionMade(self):
        self.sendLine(b"hello over a stream")

    def lineReceived(self, line):
        print(line.decode(), flush=True)
        self.transport.loseConnection()

    def connectionLost(self, reason):
        print("closed", flush=True)
        reactor.stop()


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000"
    connectWS(WrappingWebSocketClientFactory(ClientFactory.forProtocol(AskOnce), url))
    reactor.run()
