"""``MODULE:CLASS`` to a server protocol class, for ``wsproto-cb serve`` and twistd.

The class may derive from the runtime's own base
(``wsproto_cb.asyncio.WebSocketServerProtocol`` or
``wsproto_cb.twisted.WebSocketServerProtocol``), or from the runtime-neutral
:class:`wsproto_cb.server.WebSocketServerProtocol`: such a class is bound to
whichever runtime serves it (as :mod:`wsproto_cb.echo` is), so one class
runs on both.  Every problem is a :class:`ProtocolSpecError` with a one-line
message, for a command line to print instead of a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

from .server import WebSocketServerProtocol

__all__ = ["DEFAULT_PROTOCOL", "ProtocolSpecError", "load_protocol"]

DEFAULT_PROTOCOL = "wsproto_cb.echo:EchoServerProtocol"
RUNTIMES = ("asyncio", "twisted")


class ProtocolSpecError(ValueError):
    """A ``MODULE:CLASS`` that names no usable server protocol (the message says why)."""


def load_protocol(spec: str, runtime: str) -> type:
    """Import ``spec`` (``package.module:Class``) and return a protocol class for ``runtime``.

    The current directory is importable, as with ``python -m``.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)})")
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ProtocolSpecError(f"{spec!r} is not MODULE:CLASS (example: myapp.server:Echo)")
    _cwd_importable()
    module = _import(module_name)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            hint = _candidates(module)
            raise ProtocolSpecError(
                f"module {module_name!r} has no attribute {attr!r}"
                + (f" (server protocols there: {hint})" if hint else "")
            ) from None
    if not isinstance(obj, type) or not issubclass(obj, WebSocketServerProtocol):
        raise ProtocolSpecError(
            f"{spec} is not a WebSocketServerProtocol subclass "
            f"(got {type(obj).__name__ if not isinstance(obj, type) else 'class ' + obj.__name__})"
        )
    return bind_protocol(obj, runtime, spec)


def bind_protocol(cls: type, runtime: str, spec: str | None = None) -> type:
    """``cls`` itself if it runs on ``runtime``; a runtime-neutral class bound to it."""
    base: type = importlib.import_module(f"wsproto_cb.{runtime}").WebSocketServerProtocol
    if issubclass(cls, base):
        return cls
    for other in RUNTIMES:
        module = sys.modules.get(f"wsproto_cb.{other}")
        if (
            other != runtime
            and module is not None
            and issubclass(cls, module.WebSocketAdapterProtocol)
        ):
            raise ProtocolSpecError(
                f"{spec or cls.__qualname__} derives from "
                f"wsproto_cb.{other}.WebSocketServerProtocol, which runs on {other} only: "
                f"derive from wsproto_cb.{runtime}.WebSocketServerProtocol, or from "
                "wsproto_cb.server.WebSocketServerProtocol to run on both"
            )
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    return type(cls.__name__, (cls, base), namespace)


def _cwd_importable() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if name == missing or name.startswith(missing + "."):
            raise ProtocolSpecError(
                f"no module named {missing!r} (looked in the current directory and sys.path)"
            ) from None
        raise ProtocolSpecError(f"importing {name!r} failed: {_one_line(exc)}") from None
    except Exception as exc:
        raise ProtocolSpecError(f"importing {name!r} failed: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if isinstance(exc, SyntaxError):
        return text  # (its message names the file and line already)
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" ({last.filename}:{last.lineno})"
    return text


def _candidates(module: Any) -> str:
    names = sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, WebSocketServerProtocol)
        and getattr(value, "__module__", None) == module.__name__
    )
    return ", ".join(names)
