"""Streaming receiver: takes files of any size as one message, never holding one.

    python examples/streaming/receiver.py [--port 9000] [--max-size BYTES]

``onMessage`` gets a whole message, so the message must fit in memory and
under ``maxMessagePayloadSize``.  This server overrides the streaming
hooks instead (``onMessageBegin``, ``onMessageFrameBegin``,
``onMessageFrameData``, ``onMessageFrameEnd``, ``onMessageEnd``): each
piece of payload is hashed as it arrives and dropped, so memory stays flat
whatever the size.  It therefore lifts the per-message limit
(``maxMessagePayloadSize=0``), keeps the per-frame one, and enforces its
own quota (``--max-size``), closing with 1009 (message too big) beyond it.

At the end of each message it answers with JSON: ``{"size", "sha256",
"frames"}``, which ``send_file.py`` checks against its own.
"""

import argparse
import asyncio
import hashlib
import json

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol


class ReceiverProtocol(WebSocketServerProtocol):
    def onMessageBegin(self, isBinary):
        self.digest = hashlib.sha256()
        self.size = 0
        self.frames = 0

    def onMessageFrameBegin(self, length):
        self.frames += 1

    def onMessageFrameData(self, payload):
        self.size += len(payload)
        if self.size > self.factory.max_size:
            self.sendClose(1009, f"over the quota of {self.factory.max_size} bytes")
            return
        self.digest.update(payload)

    def onMessageFrameEnd(self):
        pass  # (the default would collect the frame's pieces)

    def onMessageEnd(self):
        if self.state != self.STATE_OPEN:
            return
        result = {"size": self.size, "sha256": self.digest.hexdigest(), "frames": self.frames}
        print(
            f"received {self.size} bytes in {self.frames} frames, sha256 {result['sha256']}",
            flush=True,
        )
        self.sendMessage(json.dumps(result).encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--max-size", type=int, default=1 << 30, help="quota per message")
    args = parser.parse_args()

    factory = WebSocketServerFactory(f"ws://{args.host}:{args.port}")
    factory.protocol = ReceiverProtocol
    factory.max_size = args.max_size
    factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=1 << 20)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    print(f"streaming receiver on ws://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
