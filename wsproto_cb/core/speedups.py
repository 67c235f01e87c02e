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
from types import ModuleType

__all__ = ["DISABLED", "load"]

#: ``WSPROTO_CB_NO_SPEEDUPS=1``: use the pure-Python reference everywhere.
DISABLED: bool = os.environ.get("WSPROTO_CB_NO_SPEEDUPS", "") not in ("", "0")


def load(name: str) -> ModuleType | None:
    """The C module ``wsproto_cb.core.<name>``, or None if disabled or not built."""
    if DISABLED:
        return None
    try:
        return importlib.import_module(f"wsproto_cb.core.{name}")
    except ImportError:
        return None
