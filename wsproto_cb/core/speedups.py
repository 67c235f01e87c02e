"""Which optional C twins are in use: chosen once, here, at import.

``wsproto_cb.core._mask`` (masking) and ``wsproto_cb.core._wire`` (the
per-message path) are built by setup.py when a compiler is available.  Each
has a pure-Python reference that defines its behaviour; the C function is
used only when its module imports and ``WSPROTO_CB_NO_SPEEDUPS`` is unset
(or ``0``) at import time.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__all__ = ["DISABLED", "load"]

#: ``WSPROTO_CB_NO_SPEEDUPS=1``: use the pure-Python reference everywhere.
DISABLED: bool = os.environ.get("WSPROTO_CB_NO_SPEEDUPS", "") not in ("", "0")


def load(module: str, function: str, package: str = "wsproto_cb.core") -> Any:
    """``<package>.<module>.<function>``, or None if disabled or not built.

    The caller annotates the result with its pure twin's signature.
    """
    if DISABLED:
        return None
    try:
        return getattr(importlib.import_module(f"{package}.{module}"), function)
    except ImportError:
        return None
