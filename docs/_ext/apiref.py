"""Two small Sphinx additions for the API reference.

``public-docstrings``
    Every public object that autodoc documents must have a docstring of
    its own: a missing one is a Sphinx warning, so ``sphinx-build -W`` (as
    ``tox -e docs`` and ``.ci/run`` run it) fails on it.  The API pages use
    ``:undoc-members:`` so that undocumented names are visited at all.

``program-help``
    ``.. program-help:: MODULE:ATTRIBUTE`` renders the ``--help`` text of a
    command straight from its parser: an :mod:`argparse` parser factory (its
    sub-commands too) or a Twisted :class:`~twisted.python.usage.Options`
    class.  The reference can then never drift from the command.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

#: autodoc object types whose docstring is required
_CHECKED = {"module", "class", "exception", "function", "method", "property", "attribute"}


def _has_own_doc(what: str, obj: Any) -> bool:
    if what == "attribute":
        # data attributes carry their documentation in a ``#:`` comment that
        # autodoc has already put into ``lines``; nothing more to ask of them
        return True
    doc = obj.__doc__ if what in ("module", "property") else inspect.getdoc(obj)
    return bool(doc and doc.strip())


def check_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Warn when a public object autodoc documents has no docstring."""
    if what not in _CHECKED:
        return
    short = name.rpartition(".")[2]
    if short.startswith("_"):
        return
    if not lines and not _has_own_doc(what, obj):
        logger.warning("public name %s (%s) has no docstring", name, what, type="apiref")


def _load(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _argparse_texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = [parser.format_help()]
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                texts.extend(_argparse_texts(sub))
    return texts


class ProgramHelp(SphinxDirective):
    """``.. program-help:: MODULE:ATTRIBUTE``: a command's help text, as it prints it."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        target = _load(self.arguments[0])
        if isinstance(target, type):  # twisted.python.usage.Options
            texts = [str(target())]
        else:
            parser = target()
            if not isinstance(parser, argparse.ArgumentParser):
                raise self.error(f"{self.arguments[0]} gives no argparse parser")
            texts = _argparse_texts(parser)
        blocks = []
        for text in texts:
            block = nodes.literal_block(text, text)
            block["language"] = "text"  # help text, not code to highlight
            blocks.append(block)
        return blocks


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", check_docstring)
    app.add_directive("program-help", ProgramHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
