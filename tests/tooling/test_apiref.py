"""The API reference's docstring rule fails a Sphinx build, and only when it should."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

sphinx_build = pytest.importorskip("sphinx.cmd.build")

DOCS = Path(__file__).resolve().parents[2] / "docs"

CONF = f"""
import sys
sys.path.insert(0, {str(DOCS / "_ext")!r})
extensions = ["sphinx.ext.autodoc", "apiref"]
autodoc_default_options = {{"members": True, "undoc-members": True}}
"""


def build(tmp_path: Path, module_source: str, module_name: str, body: str = "") -> tuple[int, str]:
    """Build a one-page project documenting ``module_name`` (or ``body`` if given)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    body = body or f".. automodule:: {module_name}\n"
    (src / "index.rst").write_text(f"API\n===\n\n{body}")
    (tmp_path / f"{module_name}.py").write_text(module_source)
    sys.path.insert(0, str(tmp_path))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            status = sphinx_build.build_main(
                ["-E", "-W", "-q", "-b", "html", str(src), str(tmp_path / "out")]
            )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module_name, None)
    return status, err.getvalue()


def test_public_name_without_docstring_fails_the_build(tmp_path: Path) -> None:
    source = '"""A module."""\n\ndef documented():\n    """Yes."""\n\ndef bare():\n    pass\n'
    status, err = build(tmp_path, source, "apiref_sample_bare")
    assert status != 0
    assert "apiref_sample_bare.bare" in err
    assert "documented" not in err


def test_documented_and_private_names_pass(tmp_path: Path) -> None:
    source = (
        '"""A module."""\n\n'
        "class Thing:\n"
        '    """A thing."""\n\n'
        "    def run(self):\n"
        '        """Run it."""\n\n'
        "    def _hidden(self):\n"
        "        pass\n"
    )
    status, err = build(tmp_path, source, "apiref_sample_ok")
    assert status == 0, err


def test_program_help_renders_a_parsers_help(tmp_path: Path) -> None:
    source = (
        '"""Commands."""\n\nimport argparse\n\n'
        "def parser():\n"
        '    """The parser."""\n'
        '    p = argparse.ArgumentParser(prog="tool")\n'
        '    sub = p.add_subparsers()\n'
        '    s = sub.add_parser("go")\n'
        '    s.add_argument("--speed", help="how fast to go")\n'
        "    return p\n"
    )
    status, err = build(
        tmp_path, source, "apiref_sample_cli", ".. program-help:: apiref_sample_cli:parser\n"
    )
    assert status == 0, err
    html = (tmp_path / "out" / "index.html").read_text()
    assert "how fast to go" in html
