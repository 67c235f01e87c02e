"""What both runtimes need to turn a ``rediss://`` URL's settings into TLS.

The asyncio and Twisted links build their TLS from the same
:class:`~.address.RedisTLS`, so the two check the same things: the CA (the
system's unless ``ssl_ca_certs``), the host name of the URL (unless
``ssl_cert_reqs=none``) and the client certificate, if any.  Each runtime's
builder lives beside its link (``_backplane_io``); the files are read with
:func:`read_pem`, so a missing or bad file is a clear ``ValueError``.
"""

from __future__ import annotations

__all__ = ["read_pem"]


def read_pem(path: str, what: str) -> bytes:
    """The bytes of a PEM file named in the URL; ValueError naming it if unreadable."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None
