"""Subprotocol negotiation, client side: offer versions, speak the chosen one.

    python examples/subprotocols/client.py [ws://127.0.0.1:9000] [--offer calc.v1 ...]

Offers ``calc.v2`` and ``calc.v1`` unless told otherwise (``--offer`` may be
repeated; the order is the preference), then computes ``2 + 3`` and
``6 * 7`` in whichever version the server chose.  Exits with 1 when the
server refuses every version offered.
"""

import argparse
import asyncio
import itertools
import json
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol

QUESTIONS = [("add", [2, 3]), ("mul", [6, 7])]


class CalcClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print(f"server chose {response.protocol}")

    def onOpen(self):
        self.ids = itertools.count(1)
        self.pending = len(QUESTIONS)
        for op, args in QUESTIONS:
            if self.websocket_protocol_in_use == "calc.v2":
                request = {"id": next(self.ids), "op": op, "args": args}
                self.sendMessage(json.dumps(request).encode())
            else:
                self.sendMessage(f"{op} {' '.join(map(str, args))}".encode())

    def onMessage(self, payload, isBinary):
        if self.websocket_protocol_in_use == "calc.v2":
            answer = json.loads(payload)
            print(f"v2 answer #{answer['id']}: {answer.get('result', answer.get('error'))}")
        else:
            print(f"v1 answer: {payload.decode('utf8')}")
        self.pending -= 1
        if self.pending == 0:
            self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        if not wasClean:
            print(f"connection failed: {reason}")
        self.factory.done.set_result(wasClean)


async def main(url, offers):
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url, protocols=offers)
    factory.protocol = CalcClientProtocol
    factory.done = loop.create_future()
    await loop.create_connection(factory, factory.host, factory.port)
    return 0 if await asyncio.wait_for(factory.done, 10) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9000")
    parser.add_argument("--offer", action="append", dest="offers", metavar="SUBPROTOCOL")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.offers or ["calc.v2", "calc.v1"])))
