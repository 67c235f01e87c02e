"""Which HTTP proxy a client uses: Autobahn's ``proxy=`` dict, a proxy URL, or the environment.

The tunnel itself is :class:`wsproto_cb.core.proxy.ProxyConnect`; the
runtimes connect through it in ``wsproto_cb.asyncio.connect_ws`` and
``wsproto_cb.twisted.connectWS``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .core.proxy import ProxyConnect, ProxyError

__all__ = ["ProxyConfig", "ProxyError", "parse_proxy", "proxy_from_environment"]


@dataclass(frozen=True)
class ProxyConfig:
    """An HTTP proxy to tunnel through with CONNECT."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    def __getitem__(self, key: str) -> Any:
        # Autobahn programs read ``factory.proxy["host"]`` / ``["port"]``
        return getattr(self, key)

    def __repr__(self) -> str:  # (never print the password)
        user = f", username={self.username!r}" if self.username is not None else ""
        return f"ProxyConfig(host={self.host!r}, port={self.port}{user})"

    @property
    def address(self) -> str:
        """``host:port`` of the proxy, for messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def tunnel(self, host: str, port: int) -> ProxyConnect:
        """A fresh CONNECT exchange to ``host:port`` through this proxy."""
        return ProxyConnect(self.host, self.port, host, port, self.username, self.password)


def parse_proxy(proxy: Mapping[str, Any] | str | ProxyConfig | None) -> ProxyConfig | None:
    """``{"host": ..., "port": ...}`` (optionally ``"username"``/``"password"``),
    ``"http://user:pass@host:3128"`` or ``None``; ``ValueError`` says what is wrong."""
    if proxy is None or isinstance(proxy, ProxyConfig):
        return proxy
    if isinstance(proxy, str):
        return _parse_proxy_url(proxy)
    if not isinstance(proxy, Mapping):
        raise TypeError(f"proxy must be a dict or an http:// URL, not {type(proxy).__name__}")
    unknown = set(proxy) - {"host", "port", "username", "password"}
    if unknown:
        raise ValueError(f"unknown proxy key(s): {', '.join(sorted(unknown))}")
    host, port = proxy.get("host"), proxy.get("port")
    if not isinstance(host, str) or not host:
        raise ValueError("proxy needs a 'host' (a non-empty string)")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"proxy 'port' must be an integer from 1 to 65535, not {port!r}")
    return ProxyConfig(host, port, proxy.get("username"), proxy.get("password"))


def _parse_proxy_url(url: str) -> ProxyConfig:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid proxy URL {url!r}: {exc}") from None
    if parts.scheme.lower() != "http":
        raise ValueError(f"invalid proxy URL {url!r}: only http:// proxies are supported (CONNECT)")
    if not parts.hostname:
        raise ValueError(f"invalid proxy URL {url!r}: no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"invalid proxy URL {url!r}: a proxy URL has no path")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return ProxyConfig(parts.hostname, port or 80, username, password)


def proxy_from_environment(
    url: str, environ: Mapping[str, str] | None = None
) -> ProxyConfig | None:
    """The proxy the environment names for a ``ws://``/``wss://`` URL, or ``None``.

    ``wss://`` uses ``HTTPS_PROXY``, ``ws://`` ``HTTP_PROXY`` (either case);
    ``NO_PROXY`` exempts hosts, as curl and ``requests`` read it.  Opt-in:
    factories never look at the environment by themselves.
    """
    from .url import parse_url

    target = parse_url(url)
    if environ is None:
        proxies = urllib.request.getproxies_environment()
    else:
        proxies = {}
        for name, value in environ.items():
            lower = name.lower()
            if value and lower.endswith("_proxy"):
                proxies.setdefault(lower[: -len("_proxy")], value)
    chosen = proxies.get("https" if target.is_secure else "http")
    if not chosen:
        return None
    no_proxy = proxies.get("no", "")
    if no_proxy and _bypassed(target.host, target.port, no_proxy):
        return None
    return _parse_proxy_url(chosen)


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    if no_proxy.strip() == "*":
        return True
    host = host.lower().strip("[]")
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False
