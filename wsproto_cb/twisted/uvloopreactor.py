"""Twisted's asyncio reactor over a uvloop event loop: ``twistd --reactor uvloop``.

Twisted's ``AsyncioSelectorReactor`` runs on any asyncio event loop with
``add_reader``/``add_writer``; uvloop is one (libuv underneath).  Twisted
has no short name for the pair, so the ``twistd wsproto_cb`` plugin file
registers this module as the ``uvloop`` reactor: ``twistd --reactor uvloop``,
``wsproto-cb serve --runtime twisted --reactor uvloop`` and
``wsproto_cb.twisted.choosereactor.install_reactor("uvloop")`` all call
:func:`install`.  docs/performance.md has the figures against the epoll
reactor and the asyncio reactor over the stock loop.
"""

from __future__ import annotations

import asyncio

__all__ = ["install"]


def install() -> None:
    """Install Twisted's asyncio reactor on a new uvloop loop (the thread's loop from now).

    Raises ``ImportError`` without uvloop, and Twisted's
    ``ReactorAlreadyInstalledError`` if a reactor is installed already.
    """
    import uvloop
    from twisted.internet import asyncioreactor

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)  # type: ignore[no-untyped-call]
