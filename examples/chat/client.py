"""Chat client: sends each line you type, prints every message that arrives.

    python examples/chat/client.py [ws://127.0.0.1:9000]

Works in a pipe too: ``echo hi | python examples/chat/client.py`` sends
"hi", waits a moment for replies, and closes at the end of input.
"""

import asyncio
import sys
import threading

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol


class ChatClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.opened.set_result(self)

    def onMessage(self, payload, isBinary):
        print(payload.decode("utf8", "replace"), flush=True)

    def onClose(self, wasClean, code, reason):
        if not self.factory.opened.done():
            self.factory.opened.set_exception(ConnectionError(reason))
        self.factory.closed.set_result((wasClean, code, reason))


def read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main(url: str) -> int:
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = ChatClientProtocol
    factory.opened = loop.create_future()
    factory.closed = loop.create_future()
    await loop.create_connection(factory, factory.host, factory.port, ssl=factory.isSecure or None)
    proto = await asyncio.wait_for(factory.opened, 10)

    lines: asyncio.Queue = asyncio.Queue()
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
        if line:
            proto.sendMessage(line.encode("utf8"))
    wasClean, _code, _reason = await asyncio.wait_for(factory.closed, 10)
    return 0 if wasClean else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000")))
