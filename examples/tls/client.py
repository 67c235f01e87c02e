"""wss:// client that checks the server's certificate against a CA file.

    python examples/tls/client.py [wss://localhost:9443] [--cafile cert.pem]

Without ``--cafile`` the system's CA store is used, so a self-signed
certificate is refused, as it should be.  The host name in the URL must be
one the certificate names (``localhost`` or ``127.0.0.1`` for
``make_cert.py``'s).
"""

import argparse
import asyncio
import ssl
import sys

from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketClientProtocol


class EchoClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        cert = self.transport.get_extra_info("peercert")
        subject = dict(item for rdn in cert["subject"] for item in rdn)
        print(f"server certificate: {subject.get('commonName')}, verified")

    def onOpen(self):
        self.sendMessage(b"hello over TLS")

    def onMessage(self, payload, isBinary):
        print(f"echo: {payload.decode('utf8')}")
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        self.factory.done.set_result(wasClean)


async def main(url, cafile):
    loop = asyncio.get_running_loop()
    factory = WebSocketClientFactory(url)
    factory.protocol = EchoClientProtocol
    factory.done = loop.create_future()
    if not factory.isSecure:
        raise SystemExit("give a wss:// URL")
    context = ssl.create_default_context(cafile=cafile)  # verifies chain and host name
    try:
        await loop.create_connection(
            factory,
            factory.host,
            factory.port,
            ssl=context,
            server_hostname=factory.host,
            ssl_handshake_timeout=factory.ssl_handshake_timeout,
        )
    except ssl.SSLCertVerificationError as exc:
        print(f"TLS verification failed: {exc.verify_message}", file=sys.stderr)
        return 1
    return 0 if await asyncio.wait_for(factory.done, 10) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="wss://localhost:9443")
    parser.add_argument("--cafile", help="CA certificate(s) to trust (PEM)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.cafile)))
