"""wsproto_cb: WebSocket with Autobahn-style callbacks on asyncio and Twisted."""

from __future__ import annotations

__version__ = "0.1.0"
