"""Echo client on asyncio: sends a few messages, prints the echoes, closes.

    python examples/echo/client_asyncio.py [ws://127.0.0.1:9000]
"""

import asyncio
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol
from wsproto_cb.compress import PerMessageDeflateOffer


class EchoClientProtocol(WebSocketClientProtocol):
    def onOpen(self):
        self.expected = 3
        self.sendMessage(b"Hello, world!")
        self.sendMessage(b"\x00\x01\x03\x04", isBinary=True)
        self.sendMessage(("x" * 100_000).encode("utf8"))  # compressed if negotiated

    def onMessage(self, payload, isBinary):
        shown = payload[:40] if isBinary else payload[:40].decode("utf8")
        print(f"echo ({len(payload)} bytes, binary={isBinary}): {shown!r}")
        self.expected -= 1
        if self.expected == 0:
            self.sendClose(1000, "done")

    def onClose(self, wasClean, code, reason):
        print(f"closed: wasClean={wasClean} code={code} reason={reason}")
        self.factory.done.set_result(wasClean)


async def main(url: str) -> int:
    factory = WebSocketClientFactory(url)
    factory.protocol = EchoClientProtocol
    factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()])
    factory.done = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    secure = factory.isSecure  # (wss://: TLS bounded by openHandshakeTimeout, not asyncio's 60 s)
    await loop.create_connection(
        factory,
        factory.host,
        factory.port,
        ssl=secure or None,
        ssl_handshake_timeout=factory.ssl_handshake_timeout if secure else None,
    )
    clean = await asyncio.wait_for(factory.done, 10)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000")))
