"""Sphinx configuration: the API reference plus the topic guides (Markdown).

Build it with ``tox -e docs`` or
``sphinx-build -W --keep-going -b html docs docs/_build/html``; warnings are
errors, and a public name without a docstring is a warning (``_ext/apiref.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import wsproto_cb  # noqa: E402

project = "wsproto_cb"
author = "wsproto_cb contributors"
release = version = wsproto_cb.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "apiref",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

html_theme = "furo"
html_title = f"wsproto_cb {release}"

autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
# Type hints name Twisted and typing internals that this reference does not
# document; an unresolvable hint is not an error in the text a reader sees.
nitpicky = False

myst_heading_anchors = 3
# The guides link to files of the repository (examples, benchmarks): outside
# the documentation tree, they are plain links.
suppress_warnings = ["myst.xref_missing"]
