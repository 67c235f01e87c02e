"""Files of one directory over HTTP, and nothing else: ``twistd wsproto_cb --static``.

Twisted's ``File`` resource serves a directory tree the way a file browser
would: it lists directories, serves dotfiles (``.git/config``, ``.env``),
follows symlinks wherever they point, and calls a file of unknown type
``text/html``.  For a directory published next to a WebSocket endpoint on
the internet, :class:`StaticFiles` serves less:

- regular files only: no listings (a directory answers with its
  ``index.html``, or 404), no FIFOs or devices;
- no path segment that starts with a dot (``.env``, ``.git/...``, and so
  ``..``), before or after resolving symlinks;
- a symlink is followed only when its target stays inside the directory;
- empty segments (``//``), ``%2F`` and NUL inside a segment: 404;
- unknown types as ``application/octet-stream``, with
  ``X-Content-Type-Options: nosniff``.

The file itself is sent by Twisted's ``File`` (ranges, ``Last-Modified``,
``HEAD``, a producer for large files), given only a path checked here.
"""

from __future__ import annotations

import os
import stat
import warnings
from typing import IO, Any
from urllib.parse import quote

from twisted.web import pages
from twisted.web.resource import Resource
from twisted.web.util import redirectTo

with warnings.catch_warnings():
    # (importing twisted.web.static builds a deprecated NoResource; Twisted's own code)
    warnings.filterwarnings("ignore", r".*_UnsafeNoResource", DeprecationWarning)
    from twisted.web.static import File

__all__ = ["StaticFiles", "resolve"]

INDEX = "index.html"
DEFAULT_TYPE = "application/octet-stream"

# (Twisted's resources are not typed for mypy: used through Any)
_NOT_FOUND: Any = pages.notFound()
_redirect: Any = redirectTo


class _Redirect(Exception):
    """The path names a directory without the trailing slash."""


def _allowed_segment(segment: str) -> bool:
    return bool(segment) and not segment.startswith(".") and not any(c in segment for c in "/\\\0")


def resolve(root: str, segments: list[bytes]) -> str:
    """The real path of the regular file ``segments`` name below ``root`` (a
    real path); :class:`FileNotFoundError` for anything not to be served,
    :class:`_Redirect` for a directory named without its trailing slash."""
    try:
        names = [segment.decode("utf-8") for segment in segments]
    except UnicodeDecodeError:
        raise FileNotFoundError from None
    directory = not names or names[-1] == ""
    if directory:
        names = [*names[:-1], INDEX] if names else [INDEX]
    if not all(_allowed_segment(name) for name in names):
        raise FileNotFoundError
    real = os.path.realpath(os.path.join(root, *names))
    relative = os.path.relpath(real, root)
    if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
        raise FileNotFoundError  # a symlink out of the tree (or onto its root)
    if not all(_allowed_segment(part) for part in relative.split(os.sep)):
        raise FileNotFoundError  # a symlink onto a dotfile inside the tree
    try:
        mode = os.stat(real).st_mode
    except OSError:
        raise FileNotFoundError from None
    if stat.S_ISDIR(mode) and not directory:
        raise _Redirect
    if not stat.S_ISREG(mode):
        raise FileNotFoundError
    return real


class _CheckedFile(File):
    """Twisted's ``File`` for one path :func:`resolve` accepted; opened so that
    a symlink or FIFO swapped in since then is refused, not followed or blocked on."""

    def openForReading(self) -> IO[bytes]:
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise PermissionError(13, "not a regular file")  # (File answers 403)
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise


class StaticFiles(Resource):
    """Serve the regular files below ``directory`` (see the module docstring).

    Children added with ``putChild`` (a :class:`WebSocketResource`, say) take
    precedence over files of the same name.
    """

    def __init__(self, directory: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.root = os.path.realpath(directory)
        if not os.path.isdir(self.root):
            raise ValueError(f"{directory!r} is not a directory")

    def getChild(self, path: bytes, request: Any) -> Resource:
        # Twisted walks one segment at a time; the file below takes them all.
        return _FileAt(self.root, request.prepath[:-1], [path, *request.postpath])

    def render_GET(self, request: Any) -> bytes | int:
        # Mounted below a Site's root and asked for without the slash ("/files").
        return _redirect_to_directory(request, [*request.prepath])

    render_HEAD = render_GET


def _not_found(request: Any) -> bytes | int:
    result: bytes | int = _NOT_FOUND.render(request)  # (NOT_DONE_YET: it finishes itself)
    return result


def _redirect_to_directory(request: Any, segments: list[bytes]) -> bytes | int:
    """Redirect to ``/seg/ments/``, built from the path segments only (never a
    ``//host`` or the query string); 404 if they cannot make such a path."""
    location = "".join("/" + quote(segment, safe="") for segment in segments) + "/"
    if location.startswith("//"):
        return _not_found(request)
    return bytes(_redirect(location.encode("ascii"), request))


class _FileAt(Resource):
    isLeaf = True

    def __init__(self, root: str, prefix: list[bytes], segments: list[bytes]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.root = root
        self.prefix = prefix  # the segments of the resources above StaticFiles
        self.segments = segments

    def render_GET(self, request: Any) -> bytes | int:
        try:
            path = resolve(self.root, self.segments)
        except FileNotFoundError:
            return _not_found(request)
        except _Redirect:
            return _redirect_to_directory(request, [*self.prefix, *self.segments])
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        file: Any = _CheckedFile(path, defaultType=DEFAULT_TYPE)
        return file.render(request)  # type: ignore[no-any-return]

    render_HEAD = render_GET
