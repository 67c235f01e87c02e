"""The TLS settings of a ``rediss://`` URL, turned into what each runtime takes.

Both are made here, from the same :class:`~.address.RedisTLS`, so that the
two runtimes check the same things: the CA (the system's unless
``ssl_ca_certs``), the host name of the URL (unless ``ssl_cert_reqs=none``)
and the client certificate, if any.  The files are read when the link is
made, so a missing or bad file is a clear ``ValueError`` at start-up rather
than a failed connection later.
"""

from __future__ import annotations

import ssl
from typing import Any

from .address import RedisTLS

__all__ = ["asyncio_context", "twisted_options"]


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None


def asyncio_context(tls: RedisTLS) -> ssl.SSLContext:
    """A client ``SSLContext`` (for ``loop.create_connection(ssl=...)``)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        if tls.ca_certs is not None:
            context.load_verify_locations(cadata=_read(tls.ca_certs, "ssl_ca_certs").decode())
        if tls.certfile is not None:
            context.load_cert_chain(tls.certfile, tls.keyfile)
    except (ssl.SSLError, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"bad TLS files for Redis: {exc}") from None
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def twisted_options(tls: RedisTLS, host: str) -> Any:
    """Twisted's client TLS options (for ``wrapClientTLS``): the same checks."""
    from twisted.internet import ssl as tssl

    client: Any = None
    try:
        if tls.certfile is not None:
            pem = _read(tls.certfile, "ssl_certfile")
            if tls.keyfile is not None:
                pem += b"\n" + _read(tls.keyfile, "ssl_keyfile")
            client = tssl.PrivateCertificate.loadPEM(pem)  # type: ignore[no-untyped-call]
        if not tls.verify:
            if client is None:
                return tssl.CertificateOptions()
            return client.options()
        trust: Any = (
            tssl.Certificate.loadPEM(_read(tls.ca_certs, "ssl_ca_certs"))
            if tls.ca_certs is not None
            else tssl.platformTrust()  # type: ignore[no-untyped-call]
        )
    except ValueError:
        raise
    except Exception as exc:  # (pyOpenSSL's errors for a bad PEM)
        raise ValueError(f"bad TLS files for Redis: {exc}") from None
    return tssl.optionsForClientTLS(host, trustRoot=trust, clientCertificate=client)
