"""The client agent on asyncio: ``await create_client_agent().open(url, options)``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ..agent import check_agent_options, make_factory, opening_failed
from . import WebSocketClientFactory, WebSocketClientProtocol, connect_ws

__all__ = ["WebSocketClientAgent", "create_client_agent"]


class WebSocketClientAgent:
    """The asyncio counterpart of Autobahn's client agent: ``await agent.open(url)``."""
    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    async def open(
        self,
        url: str,
        options: Mapping[str, Any] | None = None,
        protocol_class: type | None = None,
    ) -> Any:
        """Connect to ``url``; the protocol once its opening handshake is done.

        ``options``: ``headers``, ``origin``, ``protocols``, ``proxy``.  Raises
        ``ConnectionError`` when the server refuses or the connection drops first.
        """
        checked = check_agent_options(url, options)
        factory = make_factory(
            WebSocketClientFactory,
            protocol_class or WebSocketClientProtocol,
            url,
            checked,
            loop=self._loop,
        )
        _transport, proto = await connect_ws(factory)
        opened = asyncio.ensure_future(proto.is_open)
        closed = asyncio.ensure_future(proto.is_closed)
        await asyncio.wait({opened, closed}, return_when=asyncio.FIRST_COMPLETED)
        if not opened.done():
            opened.cancel()
            raise opening_failed(proto)
        return proto


def create_client_agent(loop: asyncio.AbstractEventLoop | None = None) -> WebSocketClientAgent:
    """A client agent (on ``loop``, or the running loop when opening)."""
    return WebSocketClientAgent(loop)
