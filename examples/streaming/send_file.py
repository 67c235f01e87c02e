"""Stream a file as one WebSocket message, however large, in bounded memory.

    python examples/streaming/send_file.py FILE [ws://127.0.0.1:9000]

``sendMessage`` needs the whole payload in memory and refuses one over
``maxMessagePayloadSize`` (16 MiB by default).  The streaming API sends one
message in pieces instead: ``beginMessage``, then per chunk
``beginMessageFrame(length)`` + ``sendMessageFrameData(chunk)``, then
``endMessage`` (an empty final frame).  The chunks come from a pull producer: the connection asks
for the next one (``resumeProducing``) only when the transport can take
it, so a slow receiver slows the reading of the file down instead of
filling memory.  The receiver (receiver.py) answers with the size and
SHA-256 it saw, which must match the file's.
"""

import argparse
import asyncio
import hashlib
import json
import os
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol

CHUNK = 64 * 1024


class FileProducer:
    """Pull producer: one frame per ``resumeProducing``, then the message end."""

    def __init__(self, proto, file):
        self.proto = proto
        self.file = file
        self.digest = hashlib.sha256()
        self.size = 0

    def resumeProducing(self):
        chunk = self.file.read(CHUNK)
        if chunk:
            self.digest.update(chunk)
            self.size += len(chunk)
            self.proto.beginMessageFrame(len(chunk))
            self.proto.sendMessageFrameData(chunk)
        else:
            self.proto.unregisterProducer()
            self.proto.endMessage()
            self.file.close()

    def stopProducing(self):
        self.file.close()


class SenderProtocol(WebSocketClientProtocol):
    def onOpen(self):
        path = self.factory.path_to_send
        size = os.path.getsize(path)
        limit = self.factory.maxMessagePayloadSize
        over = f", over maxMessagePayloadSize ({limit})" if size > limit > 0 else ""
        print(f"sending {path} ({size} bytes{over}) as one message")
        self.producer = FileProducer(self, open(path, "rb"))  # noqa: SIM115 (closed by it)
        self.beginMessage(isBinary=True, doNotCompress=True)
        self.registerProducer(self.producer, streaming=False)

    def onMessage(self, payload, isBinary):
        theirs = json.loads(payload)
        ours = {"size": self.producer.size, "sha256": self.producer.digest.hexdigest()}
        print(f"receiver got {theirs['size']} bytes in {theirs['frames']} frames")
        self.factory.matched = all(theirs[key] == value for key, value in ours.items())
        print("checksum matches" if self.factory.matched else f"MISMATCH: {theirs} != {ours}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        if not self.factory.matched:
            print(f"closed before an answer: code={code} reason={reason}")
        self.factory.done.set_result(wasClean)


async def main(path, url):
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = SenderProtocol
    factory.path_to_send = path
    factory.matched = False
    factory.done = loop.create_future()
    await loop.create_connection(factory, factory.host, factory.port)
    clean = await asyncio.wait_for(factory.done, 120)
    return 0 if clean and factory.matched else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9000")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.file, args.url)))
