"""wss:// echo server: TLS with a certificate given on the command line.

    python examples/tls/server.py --cert cert.pem --key key.pem [--port 9443]

(``python examples/tls/make_cert.py`` makes a self-signed pair for trying
it.)  TLS is the event loop's business: the factory gets a ``wss://`` URL
and ``loop.create_server`` an ``ssl.SSLContext``; the protocol class is the
same as for ``ws://`` and sees ``request``/``transport`` details as usual.
"""

import argparse
import asyncio
import ssl

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol


class EchoServerProtocol(WebSocketServerProtocol):
    def onOpen(self):
        cipher = self.transport.get_extra_info("cipher")
        print(f"{self.peer} connected over {cipher[1]} ({cipher[0]})", flush=True)

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9443)
    parser.add_argument("--cert", required=True, help="certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="private key (PEM)")
    args = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)

    factory = WebSocketServerFactory(f"wss://{args.host}:{args.port}")
    factory.protocol = EchoServerProtocol
    loop = asyncio.new_event_loop()
    # asyncio finishes the TLS handshake before the protocol exists: bound it
    # like the WebSocket handshake (openHandshakeTimeout), not by asyncio's 60 s.
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            args.host,
            args.port,
            ssl=context,
            ssl_handshake_timeout=factory.ssl_handshake_timeout,
        )
    )
    print(f"TLS echo server on wss://{args.host}:{args.port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
