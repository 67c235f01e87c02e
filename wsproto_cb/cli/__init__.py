"""``wsproto-cb`` (and ``python -m wsproto_cb``): serve a protocol class, or talk to a server.

::

    wsproto-cb serve                              # echo on ws://127.0.0.1:9000 (asyncio)
    wsproto-cb serve myapp:Chat --runtime twisted --port 8000
    wsproto-cb connect ws://127.0.0.1:9000        # stdin lines out, messages to stdout

Problems the user can fix (a bad URL, a refused connection, a failed
handshake, a ``MODULE:CLASS`` that names no protocol) end the command with
one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .. import __version__
from ..protocol_loader import DEFAULT_PROTOCOL
from ..server_flags import (
    METRICS_HELP,
    PROTOCOL_FLAGS,
    flag_help,
    metrics_address,
    seconds,
    workers,
)
from .errors import CommandError
from .terminal import escape_controls

__all__ = ["CommandError", "build_parser", "main"]

PROG = "wsproto-cb"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="WebSocket server and client from the command line (wsproto_cb).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve a WebSocket protocol class (default: echo)",
        description=(
            "Serve MODULE:CLASS until Ctrl-C or SIGTERM, which close every connection "
            "with 1001 (going away), wait for the closing handshakes and exit 0. "
            "MODULE is imported from the current directory or sys.path; CLASS derives "
            "from the chosen runtime's WebSocketServerProtocol or from the runtime-neutral "
            "wsproto_cb.server.WebSocketServerProtocol."
        ),
    )
    serve.add_argument(
        "protocol",
        nargs="?",
        default=DEFAULT_PROTOCOL,
        metavar="MODULE:CLASS",
        help=f"server protocol class (default: {DEFAULT_PROTOCOL})",
    )
    serve.add_argument(
        "--runtime",
        choices=("asyncio", "twisted"),
        default="asyncio",
        help="event loop to serve on (%(default)s)",
    )
    serve.add_argument(
        "--reactor",
        metavar="NAME",
        help=(
            "with --runtime twisted: the reactor, by twistd's --reactor names: epoll, "
            "asyncio (stock loop), uvloop (the asyncio reactor on uvloop), select ... "
            "(default: Twisted's own, epoll on Linux; docs/performance.md compares them)"
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument(
        "--port", type=int, default=9000, help="port to listen on, 0 = any free (%(default)s)"
    )
    _add_common(serve, server=True)
    serve.add_argument("--certfile", help="serve TLS (wss://) with this PEM certificate (chain)")
    serve.add_argument("--keyfile", help="PEM private key for --certfile (if not in it)")
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="PATTERN",
        help="accept browsers from this Origin only ('*' wildcard); repeatable",
    )
    for spec in PROTOCOL_FLAGS:
        serve.add_argument(
            f"--{spec.flag}",
            type=_argparse_type(spec.parse),
            metavar=spec.metavar,
            help=flag_help(spec).replace("%", "%%"),
        )
    serve.add_argument(
        "--workers",
        type=_argparse_type(workers),
        default=1,
        metavar="N",
        help=(
            "run N worker processes, all listening on --port (SO_REUSEPORT); SIGTERM "
            "to this parent stops them all (%(default)s)"
        ),
    )
    serve.add_argument(
        "--backplane",
        metavar="URL",
        help=(
            "deliver broadcasts across processes through this backplane: redis://HOST:PORT/DB "
            "(one Redis, or any node of a Redis Cluster), redis+sentinel://HOST:PORT/MASTER "
            "(needed with --workers > 1), or memory:// (this process only). A URL with a "
            "password is visible to every user in ps: use --backplane-file or "
            "$WSPROTO_CB_BACKPLANE_URL for it"
        ),
    )
    serve.add_argument(
        "--backplane-file",
        metavar="PATH",
        help="read the --backplane URL from this file (default: $WSPROTO_CB_BACKPLANE_URL)",
    )
    serve.add_argument(
        "--backplane-secret-file",
        metavar="PATH",
        help=(
            "sign backplane messages with the secret in this file and drop any not signed "
            "with it (default: $WSPROTO_CB_BACKPLANE_SECRET, else unsigned)"
        ),
    )
    serve.add_argument(
        "--metrics",
        type=_argparse_type(metrics_address),
        metavar="HOST:PORT",
        help=METRICS_HELP[0].lower() + METRICS_HELP[1:].rstrip("."),
    )
    serve.add_argument(
        "-v", "--verbose", action="store_true", help="print each connection opened and closed"
    )

    connect = commands.add_parser(
        "connect",
        help="connect to a WebSocket server: stdin lines out, messages to stdout",
        description=(
            "Send each line of stdin as a text message and print each message received "
            "(text one line each, with control characters escaped; binary as hex). At the "
            "end of input wait --grace seconds for replies, close with 1000 and exit 0. "
            "Ctrl-C closes at once."
        ),
    )
    connect.add_argument("url", metavar="URL", help="ws:// or wss:// URL")
    _add_common(connect, server=False)
    connect.add_argument(
        "--cafile", help="verify the server's certificate against this CA bundle (PEM)"
    )
    connect.add_argument("--origin", help="send this Origin header")
    connect.add_argument(
        "--proxy",
        metavar="URL",
        help="tunnel through this HTTP proxy with CONNECT (http://[USER:PASS@]HOST:PORT); "
        "'env' takes it from HTTPS_PROXY/HTTP_PROXY and NO_PROXY",
    )
    connect.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="extra request header; repeatable",
    )
    connect.add_argument(
        "--raw",
        action="store_true",
        help=(
            "print text messages exactly as received: newlines, escape sequences and bidi "
            "controls included (by default they are shown as \\x1b, \\n, \\u202e ...)"
        ),
    )
    connect.add_argument(
        "--grace",
        type=_argparse_type(seconds),
        default=0.5,
        metavar="SECONDS",
        help="at the end of input, wait this long for replies before closing (%(default)s)",
    )
    connect.add_argument(
        "--timeout",
        type=_argparse_type(seconds),
        default=10.0,
        metavar="SECONDS",
        help="give up connecting (TCP, TLS and handshake) after this long (%(default)s)",
    )
    return parser


def _add_common(parser: argparse.ArgumentParser, server: bool) -> None:
    parser.add_argument(
        "--subprotocol",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "speak this subprotocol when a client offers it; repeatable, in order of preference"
            if server
            else "offer this subprotocol; repeatable"
        ),
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        help="accept permessage-deflate" if server else "offer permessage-deflate",
    )


def _argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parser whose ValueError message argparse shows as is."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            from .serve import serve

            return serve(args)
        from .connect import connect

        return connect(args)
    except CommandError as exc:
        # (one write: the workers of --workers share this stderr)
        # (escaped: the text may carry what a server sent, e.g. a status phrase)
        sys.stderr.write(f"{PROG} {args.command}: error: {escape_controls(str(exc))}\n")
        return exc.status
    except KeyboardInterrupt:  # a second Ctrl-C: give up waiting
        sys.stderr.write(f"{PROG} {args.command}: interrupted\n")
        return 130
