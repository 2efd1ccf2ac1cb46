"""What a chapter needs from the book around it: computed numbers in its prose, short sources.

* :func:`glue` hands a computed value to the prose (myst-nb's ``{glue:text}``
  role) when the book is built; in Jupyter or Colab it only returns the value.
* :func:`source` and :func:`show_source` give an object's source code without
  its docstrings (and without the formatter's ``# fmt: skip`` comments), so
  that a chapter shows the layers and the forward pass, not the documentation
  around them.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import TypeVar

__all__ = ["glue", "source", "show_source"]

T = TypeVar("T")
#: The formatter's comment that keeps a hand-laid-out block as written: noise to a reader.
_FORMATTER_PRAGMA = "  # fmt: skip"


def glue(name: str, value: T) -> T:
    """Make ``value`` available to the prose as ``{glue:text}`name```; return it.

    Outside a book build (no ``myst_nb`` installed, as on Colab) nothing is
    recorded and the value is just returned.

    Raises:
        TypeError: ``name`` is not a non-empty string.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue: name must be a non-empty str, got {name!r}")
    try:
        from myst_nb import glue as record
    except ImportError:
        return value
    record(name, value, display=False)
    return value


def _docstring_lines(tree: ast.AST) -> set[int]:
    """1-based line numbers of the docstrings of every class and function in ``tree``."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def source(obj: object, *, docstrings: bool = False) -> str:
    """The source code of a class or function, without its docstrings by default.

    The formatter's ``# fmt: skip`` comments are left out too.

    Raises:
        TypeError: ``obj`` has no source code (``inspect.getsource`` cannot find it).
    """
    try:
        text = textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
    except (TypeError, OSError) as error:
        raise TypeError(f"source: cannot find the source of {obj!r}") from error
    drop = set() if docstrings else _docstring_lines(ast.parse(text))
    kept = [
        line.removesuffix(_FORMATTER_PRAGMA).rstrip() if line.endswith(_FORMATTER_PRAGMA) else line
        for number, line in enumerate(text.splitlines(), 1)
        if number not in drop
    ]
    return "\n".join(kept) + "\n"


def show_source(obj: object, *, docstrings: bool = False) -> None:
    """Display :func:`source` of ``obj`` as highlighted Python in a notebook."""
    from IPython.display import Code, display

    display(Code(source(obj, docstrings=docstrings), language="python"))
