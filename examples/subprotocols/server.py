"""Subprotocol negotiation: one server speaking two versions of a protocol.

    python examples/subprotocols/server.py [--port 9000]

A tiny calculator in two versions.  ``calc.v1`` is plain text: the client
sends ``add 2 3`` and gets ``5``.  ``calc.v2`` is JSON with request ids:
``{"id": 1, "op": "add", "args": [2, 3]}`` gets ``{"id": 1, "result": 5}``
and errors come back as ``{"id": 1, "error": "..."}``.

The client lists the versions it speaks in ``Sec-WebSocket-Protocol``, in
its order of preference; ``onConnect`` picks one (the server prefers v2)
and the handshake tells the client which.  A client that speaks neither is
refused with HTTP 400 before any WebSocket traffic.
"""

import argparse
import asyncio
import json
import math

from wsproto_cb.asyncio import ConnectionDeny, WebSocketServerFactory, WebSocketServerProtocol

#: What this server speaks, best first.
SUPPORTED = ["calc.v2", "calc.v1"]

OPERATIONS = {"add": sum, "mul": math.prod}


class CalcServerProtocol(WebSocketServerProtocol):
    def onConnect(self, request):
        for version in SUPPORTED:  # our preference decides among the client's offers
            if version in request.protocols:
                print(f"{request.peer} offered {request.protocols}: {version}", flush=True)
                return version
        raise ConnectionDeny(ConnectionDeny.BAD_REQUEST, f"speak one of {', '.join(SUPPORTED)}")

    def onMessage(self, payload, isBinary):
        if self.websocket_protocol_in_use == "calc.v2":
            self.sendMessage(json.dumps(self.answer_v2(payload)).encode())
        else:
            self.sendMessage(self.answer_v1(payload.decode("utf8")).encode())

    @staticmethod
    def answer_v1(line):
        op, *args = line.split()
        try:
            return str(OPERATIONS[op](int(a) for a in args))
        except (KeyError, ValueError):
            return f"error: say e.g. 'add 2 3' ({', '.join(OPERATIONS)})"

    @staticmethod
    def answer_v2(payload):
        try:
            request = json.loads(payload)
            op, args = OPERATIONS[request["op"]], request["args"]
            if not all(isinstance(a, int | float) for a in args):
                raise TypeError("args must be numbers")
            return {"id": request.get("id"), "result": op(args)}
        except (ValueError, KeyError, TypeError) as exc:
            return {"id": None, "error": f"bad request: {exc!r}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()

    factory = WebSocketServerFactory(f"ws://{args.host}:{args.port}")
    factory.protocol = CalcServerProtocol
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    print(f"calc server ({', '.join(SUPPORTED)}) on ws://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
