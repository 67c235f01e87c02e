"""``python -m benchmarks.e2e``: see :mod:`benchmarks.e2e.runner`."""

from __future__ import annotations

import sys

from .runner import main

sys.exit(main())
