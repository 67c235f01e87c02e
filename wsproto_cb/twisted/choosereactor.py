"""Installing the best Twisted reactor for the platform (``autobahn.twisted.choosereactor``).

Same names, arguments and results as Autobahn's module: epoll on Linux,
kqueue on BSD and macOS, IOCP on Windows, select elsewhere.  Importing this
module installs nothing; the reactor is imported only inside the functions.

One name more than twistd knows by itself: ``install_reactor("uvloop")``
installs Twisted's asyncio reactor on a uvloop loop (``twistd --reactor
uvloop`` finds the same through our plugin file).  Which reactor is fastest
for a WebSocket server, with figures: docs/performance.md, "Choosing a
Twisted reactor".
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from twisted.internet.error import ReactorAlreadyInstalledError
from twisted.logger import Logger

__all__ = ["UVLOOP", "current_reactor_klass", "install_optimal_reactor", "install_reactor"]

#: the short name of Twisted's asyncio reactor on uvloop (:mod:`.uvloopreactor`)
UVLOOP = "uvloop"

_log = Logger()


def current_reactor_klass() -> str | None:
    """The class name of the installed reactor (``"EPollReactor"`` ...), or None."""
    reactor = sys.modules.get("twisted.internet.reactor")
    return None if reactor is None else type(reactor).__name__


def _optimal_for(platform: str) -> tuple[str, str]:
    """(module to install from, reactor class name) for ``platform``."""
    if "bsd" in platform or platform.startswith("darwin"):
        return "twisted.internet.kqreactor", "KQueueReactor"
    if platform == "win32":
        return "twisted.internet.iocpreactor.reactor", "IOCPReactor"
    if platform.startswith("linux"):
        return "twisted.internet.epollreactor", "EPollReactor"
    return "twisted.internet.selectreactor", "SelectReactor"


def install_optimal_reactor(require_optimal_reactor: bool = True) -> Any:
    """Install the platform's best reactor unless one is installed; return the reactor.

    When another reactor is installed already, raise
    ``ReactorAlreadyInstalledError`` if ``require_optimal_reactor``, else
    keep it (with a warning).  A failure to install the best one is
    logged and the default reactor is used.
    """
    module_name, klass = _optimal_for(sys.platform)
    current = current_reactor_klass()
    if current == klass:
        _log.debug("optimal reactor ({klass}) already installed", klass=klass)
    elif current is None:
        try:
            importlib.import_module(module_name).install()
        except Exception:
            _log.failure("cannot install the {klass} Twisted reactor", klass=klass)
    else:
        _log.warn(
            "cannot install the {klass} Twisted reactor: {current} is installed already",
            klass=klass,
            current=current,
        )
        if require_optimal_reactor:
            raise ReactorAlreadyInstalledError(f"{current} is installed, not {klass}")
    from twisted.internet import reactor

    return reactor


def install_reactor(
    explicit_reactor: str | None = None,
    verbose: bool = False,
    log: Any = None,
    require_optimal_reactor: bool = True,
) -> Any:
    """Install ``explicit_reactor`` (a ``twistd --reactor`` short name such as
    ``"asyncio"``, or ``"uvloop"``: the asyncio reactor on a uvloop loop), else
    the optimal one; return the reactor now in place.

    An explicit reactor that cannot be installed raises (Autobahn logs and
    exits the process).
    """
    log = log or _log
    if explicit_reactor == UVLOOP:  # (also without the plugin file on the plugin path)
        if verbose:
            log.info("installing Twisted's asyncio reactor on uvloop")
        from .uvloopreactor import install

        install()
    elif explicit_reactor:
        from twisted.application.reactors import installReactor

        if verbose:
            log.info("installing Twisted reactor {reactor}", reactor=explicit_reactor)
        installReactor(explicit_reactor)
    else:
        if verbose:
            log.info("choosing the optimal Twisted reactor")
        install_optimal_reactor(require_optimal_reactor)
    from twisted.internet import reactor

    if verbose:
        log.info("running on Twisted reactor {klass}", klass=current_reactor_klass())
    return reactor
