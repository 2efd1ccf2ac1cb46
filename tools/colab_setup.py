"""Keep every chapter's Colab set-up cell in step with ``_config.yml``.

The repository URL and branch live in ``_config.yml`` only (``repository.url``
and ``repository.branch``, which Jupyter Book's Colab button also reads). The
first code cell of every chapter installs ``cnnlib`` from exactly there; this
script writes that cell, and ``tests/test_book.py`` fails when a chapter's cell
differs from what this script would write.

Usage: ``python tools/colab_setup.py`` rewrites the cells in place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"
#: The cell's tags: ours, and myst-nb's, which collapses the cell to one line in the HTML.
TAGS = [TAG, "hide-input"]


def repository(config_path: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """``(url, branch)`` of the book's repository from ``_config.yml``."""
    config = yaml.safe_load(config_path.read_text())
    repo = config["repository"]
    return str(repo["url"]).rstrip("/"), str(repo.get("branch", "main"))


def setup_cell_source(url: str, branch: str) -> str:
    """The source of the guarded set-up cell for a repository URL and branch."""
    return (
        "# Set-up. On Colab: install cnnlib, this book's library, from the book's\n"
        "# repository and enable its interactive widgets. Anywhere else: nothing to do.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    url = "{url}"\n'
        f'    ref = "{branch}"\n'
        '    package = f"cnnlib[book] @ git+{url}@{ref}"\n'
        '    pip = [sys.executable, "-m", "pip", "install", "-q", package]\n'
        "    subprocess.run(pip, check=True)\n"
        "    from google.colab import output\n"
        "\n"
        "    output.enable_custom_widget_manager()"
    )


def first_code_cell(notebook: dict) -> dict:
    """The first code cell of a notebook (as parsed JSON)."""
    return next(c for c in notebook["cells"] if c["cell_type"] == "code")


def sync(path: Path, source: str) -> bool:
    """Write ``source`` into the set-up cell of the chapter at ``path``; True if it changed."""
    notebook = json.loads(path.read_text())
    cell = first_code_cell(notebook)
    if "".join(cell["source"]) == source and cell.get("metadata", {}).get("tags") == TAGS:
        return False
    cell["source"] = source.splitlines(keepends=True)
    cell.setdefault("metadata", {})["tags"] = list(TAGS)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return True


def main() -> int:
    source = setup_cell_source(*repository())
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if sync(path, source):
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
