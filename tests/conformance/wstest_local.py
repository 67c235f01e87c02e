# -*- coding: utf-8 -*-
"""Run Autobahn|Testsuite's ``wstest`` with every listening socket on 127.0.0.1.

wstest (Python 2.7 software) binds its servers (fuzzingserver, echoserver,
the embedded web server) to all interfaces and has no option to change that.
This wrapper replaces the reactor's ``listenTCP``/``listenSSL`` with versions
that force ``interface='127.0.0.1'`` and turns the embedded web server off
(``-u 0``) unless a web port is given explicitly, then hands over to wstest's
own ``run()``.

Usage (same arguments as wstest)::

    PYTHONPATH=DIR python2.7 wstest_local.py -m fuzzingserver -s spec.json

This file must stay valid Python 2.7 *and* Python 3 syntax: it runs under the
testsuite's interpreter, and the project's linters read it too. So: no
``from __future__ import annotations``, no f-strings, no annotations.
"""

from __future__ import absolute_import, print_function

import sys

MYPY = False
if MYPY:  # the type comments' names; Python 2.7 may lack the typing module
    from typing import Any, List  # noqa: F401

LOOPBACK = "127.0.0.1"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_WEB_PORT_FLAGS = ("-u", "--webport")  # "-u 8080", "-u8080", "--webport=8080"


def _loopback(interface):
    # type: (str) -> str
    """Return the interface to bind: the given one if loopback, else 127.0.0.1."""
    if interface in _LOOPBACK_NAMES:
        return interface
    return LOOPBACK


def force_loopback(reactor):
    # type: (Any) -> None
    """Patch ``reactor`` so that every TCP/TLS listener binds loopback only."""
    listen_tcp = reactor.listenTCP
    listen_ssl = reactor.listenSSL

    def listenTCP(port, factory, backlog=50, interface=""):
        # type: (int, Any, int, str) -> Any
        return listen_tcp(port, factory, backlog, _loopback(interface))

    def listenSSL(port, factory, contextFactory, backlog=50, interface=""):
        # type: (int, Any, Any, int, str) -> Any
        return listen_ssl(port, factory, contextFactory, backlog, _loopback(interface))

    reactor.listenTCP = listenTCP
    reactor.listenSSL = listenSSL


def with_web_port_off(argv):
    # type: (List[str]) -> List[str]
    """Return wstest arguments with ``-u 0`` added unless a web port is given."""
    if any(arg.startswith(_WEB_PORT_FLAGS) for arg in argv):
        return list(argv)
    return list(argv) + ["-u", "0"]


def main():
    # type: () -> Any
    """Patch the reactor wstest installed on import, then run wstest."""
    # Importing wstest installs the reactor (autobahntestsuite.choosereactor).
    from autobahntestsuite import wstest  # type: ignore[import-not-found]
    from twisted.internet import reactor

    force_loopback(reactor)
    sys.argv = ["wstest"] + with_web_port_off(sys.argv[1:])
    return wstest.run()


if __name__ == "__main__":
    sys.exit(main())
