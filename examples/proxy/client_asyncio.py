"""Echo client on asyncio through an HTTP proxy (CONNECT tunnel; wss:// runs TLS inside it).

    python examples/proxy/client_asyncio.py ws://127.0.0.1:9000 http://127.0.0.1:8888
    python examples/proxy/client_asyncio.py wss://echo.example env   # HTTPS_PROXY, NO_PROXY
"""

import asyncio
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol, connect_ws
from wsproto_cb.proxy import ProxyError, proxy_from_environment


class EchoOnce(WebSocketClientProtocol):
    def onOpen(self):
        self.sendMessage(b"Hello through the proxy")

    def onMessage(self, payload, isBinary):
        print(f"echo: {payload.decode()}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"closed: wasClean={wasClean} code={code}")
        self.factory.done.set_result(wasClean)


async def main(url: str, proxy: str) -> int:
    factory = WebSocketClientFactory(
        url, proxy=proxy_from_environment(url) if proxy == "env" else proxy
    )
    factory.protocol = EchoOnce
    factory.done = asyncio.get_running_loop().create_future()
    try:
        await connect_ws(factory)  # to the proxy, CONNECT, then the WebSocket handshake
    except ProxyError as exc:
        print(f"error: {exc}")  # e.g. HTTP proxy 127.0.0.1:8888: CONNECT ... refused: ... 403 ...
        return 1
    return 0 if await asyncio.wait_for(factory.done, 10) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
