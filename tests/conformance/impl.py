"""Import an implementation of the Autobahn-style WebSocket API by name.

wsproto_cb mirrors Autobahn|Python's API, so the agents import the same names
from modules chosen here; switching implementation is one word (``--impl``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

IMPLS = ("wsproto_cb", "autobahn")
RUNTIMES = ("asyncio", "twisted")

#: The testsuite's largest message (case group 9), set explicitly on both
#: sides so that the library's defaults may be lower.
LARGEST_MESSAGE = 16 * 1024 * 1024

# Where each implementation keeps the protocol/factory classes (plus connectWS
# and listenWS on Twisted) and the permessage-deflate offer/accept classes.
_WEBSOCKET_MODULE = {
    "wsproto_cb": "wsproto_cb.{runtime}",
    "autobahn": "autobahn.{runtime}.websocket",
}
_COMPRESS_MODULE = {
    "wsproto_cb": "wsproto_cb.compress",
    "autobahn": "autobahn.websocket.compress",
}


def websocket_module(impl: str, runtime: str) -> ModuleType:
    """The module with WebSocket{Server,Client}{Protocol,Factory} for ``runtime``."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; expected one of {RUNTIMES}")
    return importlib.import_module(_WEBSOCKET_MODULE[impl].format(runtime=runtime))


def compress_module(impl: str) -> ModuleType:
    """The module with PerMessageDeflate{Offer,OfferAccept,Response,ResponseAccept}."""
    return importlib.import_module(_COMPRESS_MODULE[impl])
