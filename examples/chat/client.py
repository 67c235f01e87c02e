"""Chat client for the terminal: joins with a name, sends each line you type.

    python examples/chat/client.py [ws://127.0.0.1:9000/ws] [--name alice]

Prints what the server broadcasts (``<bob> hi``, ``* bob joined`` ...).
Works in a pipe too: ``echo hi | python examples/chat/client.py`` joins,
sends "hi", waits a moment for replies, and closes at the end of input.
Runs on asyncio; the server (examples/chat/server.py) runs on Twisted.
"""

import argparse
import asyncio
import json
import os
import sys
import threading

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol
from wsproto_cb.compress import PerMessageDeflateOffer


def describe(msg):
    """One line of text for a message from the server."""
    kind = msg.get("type")
    if kind == "welcome":
        extensions = ", ".join(e["extension"] for e in msg["extensions"]) or "none"
        return (
            f"* welcome {msg['name']}; online: {', '.join(msg['online'])}; "
            f"extensions: {extensions}; server: {msg.get('node', '?')}"
        )
    if kind == "join":
        return f"* {msg['name']} joined"
    if kind == "leave":
        return f"* {msg['name']} left"
    if kind == "message":
        return f"<{msg['name']}> {msg['text']}"
    if kind == "error":
        return f"! {msg['text']}"
    return f"? {msg}"


class ChatClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.send_json({"type": "join", "name": self.factory.name})

    def onMessage(self, payload, isBinary):
        msg = json.loads(payload)
        print(describe(msg), flush=True)
        if msg.get("type") == "welcome" and not self.factory.joined.done():
            self.factory.joined.set_result(self)
        elif msg.get("type") == "error" and not self.factory.joined.done():
            self.sendClose(1000)  # could not join (e.g. the name is taken)

    def onClose(self, wasClean, code, reason):
        if not self.factory.joined.done():
            self.factory.joined.set_exception(ConnectionError(reason or f"closed ({code})"))
        self.factory.closed.set_result((wasClean, code, reason))

    def send_json(self, obj):
        self.sendMessage(json.dumps(obj).encode())


def read_lines(loop, queue):
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main(url, name):
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = ChatClientProtocol
    factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()])
    factory.name = name
    factory.joined = loop.create_future()
    factory.closed = loop.create_future()
    secure = factory.isSecure  # (wss://: TLS bounded by openHandshakeTimeout, not asyncio's 60 s)
    await loop.create_connection(
        factory,
        factory.host,
        factory.port,
        ssl=secure or None,
        ssl_handshake_timeout=factory.ssl_handshake_timeout if secure else None,
    )
    try:
        proto = await asyncio.wait_for(factory.joined, 10)
    except ConnectionError as exc:
        print(f"could not join: {exc}", file=sys.stderr)
        return 1

    lines = asyncio.Queue()
    threading.Thread(target=read_lines, args=(loop, lines), daemon=True).start()
    while True:
        getter = asyncio.ensure_future(lines.get())
        done, _ = await asyncio.wait({getter, factory.closed}, return_when=asyncio.FIRST_COMPLETED)
        if factory.closed in done:
            getter.cancel()
            break
        line = getter.result()
        if line is None:  # end of input: let replies arrive, then close
            await asyncio.sleep(0.5)
            proto.sendClose(1000)
            break
        if line.strip():
            proto.send_json({"type": "message", "text": line})
    wasClean, _code, _reason = await asyncio.wait_for(factory.closed, 10)
    return 0 if wasClean else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9000/ws")
    parser.add_argument("--name", default=os.environ.get("USER") or "guest")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.name)))
