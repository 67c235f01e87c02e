"""The ``twistd wsproto_cb`` plugin.

No ``__init__.py`` beside this file: ``twisted/plugins`` is a namespace
portion that lands in Twisted's own plugin package when the wheel is
installed.  The service maker names its module as a string, so listing
plugins (``twistd --help``) imports nothing of wsproto_cb.
"""

from __future__ import annotations

from twisted.application.reactors import Reactor
from twisted.application.service import ServiceMaker

wsprotoCBServiceMaker = ServiceMaker(  # type: ignore[no-untyped-call]
    "wsproto_cb",
    "wsproto_cb.twisted.tap",
    "A WebSocket server (wsproto_cb): echo, or your protocol class with --protocol.",
    "wsproto_cb",
)

# ``twistd --reactor uvloop``: Twisted's asyncio reactor on a uvloop loop.
wsprotoCBUvloopReactor = Reactor(  # type: ignore[no-untyped-call]
    "uvloop",
    "wsproto_cb.twisted.uvloopreactor",
    "Twisted's asyncio reactor over a uvloop event loop (pip install uvloop)",
)
