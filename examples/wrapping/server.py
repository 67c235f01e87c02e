"""Any stream protocol over WebSocket: a plain line echo served to WebSocket clients.

    python examples/wrapping/server.py [--runtime twisted|asyncio] [--port 9000]

The line echo knows nothing of WebSocket; ``WrappingWebSocketServerFactory``
carries its bytes in binary messages (subprotocol ``binary``) or base64 text
(``base64``, handy from a browser: ``new WebSocket(url, ["base64"])`` and
``ws.send(btoa("hello\\n"))``).
"""

import argparse


def twisted_line_echo():
    from twisted.internet.protocol import Factory
    from twisted.protocols.basic import LineReceiver

    class LineEcho(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line):
            peer = self.transport.getPeer()
            self.sendLine(b"echo from %s: %s" % (peer.host.encode(), line))

    return Factory.forProtocol(LineEcho)


def asyncio_line_echo():
    import asyncio

    class LineEcho(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                host = self.transport.get_extra_info("peername")[0].encode()
                self.transport.write(b"echo from %s: %s\n" % (host, line))

    return LineEcho


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", choices=["twisted", "asyncio"], default="twisted")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    url = f"ws://127.0.0.1:{args.port}"
    print(f"line echo over WebSocket on {url} ({args.runtime})", flush=True)
    if args.runtime == "twisted":
        from twisted.internet import reactor

        from wsproto_cb.twisted.wrapping import WrappingWebSocketServerFactory

        factory = WrappingWebSocketServerFactory(twisted_line_echo(), url)
        reactor.listenTCP(args.port, factory, interface="127.0.0.1")
        reactor.run()
    else:
        import asyncio

        from wsproto_cb.asyncio.wrapping import WrappingWebSocketServerFactory

        async def serve():
            factory = WrappingWebSocketServerFactory(asyncio_line_echo(), url)
            loop = asyncio.get_running_loop()
            server = await loop.create_server(factory, "127.0.0.1", args.port)
            async with server:
                await server.serve_forever()

        asyncio.run(serve())


if __name__ == "__main__":
    main()
