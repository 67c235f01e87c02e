"""Build the optional C speedups; everything else lives in pyproject.toml.

``wsproto_cb.core._mask`` (masking), ``wsproto_cb.core._wire`` (the
per-message receive and send path) and ``wsproto_cb._sendnow`` (the
runtimes' direct send, :mod:`wsproto_cb.direct_send`) are optional: when no compiler is
available or compiling fails, the build prints a warning and the pure-Python
reference (``wsproto_cb.core.masking``, ``whole_message``, ``frames``) is
used.  ``WSPROTO_CB_NO_EXTENSIONS=1`` at build time skips them altogether.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

#: Everything a missing or broken compiler toolchain can raise.
_BUILD_ERRORS = (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError)


def _warn(message: str) -> None:
    border = "*" * 75
    print(f"\n{border}\nWARNING: {message}\n{border}\n", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that never fails the install: it falls back to pure Python."""

    def run(self) -> None:
        try:
            super().run()
        except _BUILD_ERRORS as exc:
            _warn(f"could not build C extensions ({exc}); using pure Python fallback.")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except _BUILD_ERRORS as exc:
            _warn(f"could not build {ext.name} ({exc}); using pure Python fallback.")


def _extensions() -> list[Extension]:
    if os.environ.get("WSPROTO_CB_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    if sys.implementation.name != "cpython":
        return []
    headers = ["wsproto_cb/core/_xor.h", "wsproto_cb/core/_utf8.h"]
    return [
        Extension(
            "wsproto_cb.core._mask",
            sources=["wsproto_cb/core/_mask.c"],
            depends=headers,
            optional=True,
        ),
        Extension(
            "wsproto_cb.core._wire",
            sources=["wsproto_cb/core/_wire.c"],
            depends=headers,
            optional=True,
        ),
        Extension(
            "wsproto_cb._sendnow",
            sources=["wsproto_cb/_sendnow.c"],
            optional=True,
        ),
    ]


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
