"""HTTP CONNECT tunnelling through a forward proxy, sans-I/O (RFC 9110 9.3.6).

The client sends ``CONNECT host:port HTTP/1.1``; a 2xx answer turns the
connection into a byte tunnel to the origin, on which the WebSocket (or
TLS, for ``wss://``) handshake then runs.  Both runtimes drive the same
:class:`ProxyConnect`: bytes of the request out, bytes of the answer in,
:class:`ProxyError` naming the proxy and its status line on refusal.
"""

from __future__ import annotations

import base64

from .errors import HandshakeError
from .http import HandshakeResponse, HttpHeadReader, build_head

__all__ = ["ProxyConnect", "ProxyError"]


class ProxyError(ConnectionError):
    """The proxy refused or broke the tunnel; the message names proxy and status line."""

    def __init__(self, proxy: str, message: str, status: int = 0) -> None:
        super().__init__(f"HTTP proxy {proxy}: {message}")
        #: ``host:port`` of the proxy
        self.proxy = proxy
        #: the proxy's status code, or 0 when there was no valid answer
        self.status = status


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ProxyConnect:
    """One CONNECT exchange: :meth:`request` to send, :meth:`receive_data` for the answer.

    ``username``/``password`` (both or neither) add Basic proxy authentication
    (``Proxy-Authorization``, RFC 7617).  The answer head is read with the
    same bounded reader as the WebSocket handshake.
    """

    def __init__(
        self,
        proxy_host: str,
        proxy_port: int,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.proxy = _authority(proxy_host, proxy_port)
        self.target = _authority(host, port)
        self._credentials = None
        if username is not None or password is not None:
            pair = f"{username or ''}:{password or ''}".encode()
            self._credentials = base64.b64encode(pair).decode("ascii")
        self._reader = HttpHeadReader("response")
        #: the proxy's answer once it arrived
        self.response: HandshakeResponse | None = None

    def request(self) -> bytes:
        """The CONNECT request head."""
        headers = [("Host", self.target)]
        if self._credentials is not None:
            headers.append(("Proxy-Authorization", f"Basic {self._credentials}"))
        return build_head(f"CONNECT {self.target} HTTP/1.1", headers)

    def receive_data(self, data: bytes) -> bool:
        """Feed the proxy's bytes; True once the tunnel is up (then see :attr:`trailing`).

        Raises :class:`ProxyError` for a non-2xx answer or a malformed one.
        """
        if self.response is not None:
            raise ProxyError(self.proxy, "data fed after the tunnel was established")
        try:
            head = self._reader.feed(data)
        except HandshakeError as exc:
            raise ProxyError(self.proxy, f"bad answer to CONNECT: {exc.reason}") from None
        if head is None:
            return False
        if not isinstance(head, HandshakeResponse):  # (a "response" reader never does this)
            raise ProxyError(self.proxy, "bad answer to CONNECT")
        if not 200 <= head.status < 300:
            status_line = f"{head.http_version} {head.status} {head.reason}".rstrip()
            raise ProxyError(
                self.proxy, f"CONNECT {self.target} refused: {status_line}", head.status
            )
        self.response = head
        return True

    @property
    def trailing(self) -> bytes:
        """Bytes that arrived after the proxy's answer (already the origin's)."""
        return self._reader.trailing

    def connection_lost(self) -> ProxyError:
        """The error for a proxy that closed before answering."""
        return ProxyError(
            self.proxy, f"closed the connection before answering CONNECT {self.target}"
        )

    def timed_out(self, seconds: float) -> ProxyError:
        """The error for a proxy that did not answer in time."""
        return ProxyError(self.proxy, f"no answer to CONNECT {self.target} within {seconds:g} s")
