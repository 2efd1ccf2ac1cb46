"""cnnlib.book: sources without docstrings, glue that also works without myst-nb."""

from __future__ import annotations

import ast
import inspect
import sys

import pytest

from cnnlib import book
from cnnlib.models import lenet


def test_source_leaves_out_every_docstring_and_nothing_else():
    full = book.source(lenet.LeNet5, docstrings=True)
    short = book.source(lenet.LeNet5)
    assert '"""' in full and '"""' not in short

    # The same code: equal syntax trees once the docstrings are gone.
    def strip(tree: ast.AST) -> str:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
        return ast.dump(tree)

    assert strip(ast.parse(full)) == strip(ast.parse(short))
    assert len(short.splitlines()) < len(full.splitlines())
    assert "# fmt: skip" in inspect.getsource(lenet.LeNet5)
    assert "# fmt: skip" not in short and "# fmt: skip" not in full
    with pytest.raises(TypeError, match="cannot find the source"):
        book.source(3)


def test_glue_returns_its_value_without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as on Colab: not installed
    assert book.glue("answer", 42) == 42
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        book.glue("", 1)
