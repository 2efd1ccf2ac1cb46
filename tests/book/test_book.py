"""The book: configuration, chapters without outputs, and one full build.

The build executes every chapter in a fresh kernel (quick budget) with warnings
as errors, so it is also the test that every chapter runs. It happens once per
test session, into a temporary folder with its own execution cache.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import colab_setup

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CHAPTER_IDS = [p.stem for p in CHAPTERS]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_chapters():
    assert CHAPTERS, "no chapters/*.ipynb found"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_is_committed_without_outputs(path):
    for cell in code_cells(path):
        assert not cell.get("outputs"), f"{path.name}: a code cell carries outputs"
        assert cell.get("execution_count") is None, (
            f"{path.name}: a code cell has an execution count"
        )


#: Characters of code the book's HTML column shows before it clips a line.
COLUMN = 80


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_code_fits_the_column(path):
    for cell in code_cells(path):
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= COLUMN, f"{path.name}: {len(line)} characters: {line}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_sources_a_chapter_shows_fit_the_column(path):
    """Every ``inspect.getsource(x)`` a chapter displays has no line the column clips."""
    import inspect

    sources = "\n".join("".join(c["source"]) for c in code_cells(path))
    shown = re.findall(r"inspect\.getsource\(([\w.]+)\)", sources)
    namespace: dict[str, object] = {}
    imports = [line for line in sources.splitlines() if re.match(r"(from \S+ )?import ", line)]
    exec("\n".join(imports), namespace)  # the chapter's own imports resolve its names
    for name in shown:
        for line in inspect.getsource(eval(name, namespace)).splitlines():
            assert len(line) <= COLUMN, f"{path.name} shows {name}: {len(line)} characters: {line}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_defines_no_model(path):
    for cell in code_cells(path):
        source = "".join(cell["source"])
        assert not re.search(r"^\s*class \w+\((nn|torch\.nn)\.Module\)", source, re.M), path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_setup_cell_comes_from_config(path):
    url, branch = colab_setup.repository()
    assert (url, branch) == (
        CONFIG["repository"]["url"].rstrip("/"),
        CONFIG["repository"]["branch"],
    )
    cell = code_cells(path)[0]
    assert "".join(cell["source"]) == colab_setup.setup_cell_source(url, branch), (
        f"{path.name}: the set-up cell differs from _config.yml; run python tools/colab_setup.py"
    )
    source = "".join(cell["source"])
    assert f'url = "{url}"\n    ref = "{branch}"' in source
    # Collapsed to one line in the HTML book.
    assert cell["metadata"]["tags"] == ["colab-setup", "hide-input"]


def test_setup_cell_on_colab_installs_from_the_configured_repository(monkeypatch):
    import subprocess as real_subprocess
    import types

    calls: list = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(
        enable_custom_widget_manager=lambda: calls.append("widgets")
    )
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(real_subprocess, "run", lambda args, check: calls.append((args, check)))
    url, branch = colab_setup.repository()
    exec(compile(colab_setup.setup_cell_source(url, branch), "setup-cell", "exec"), {})
    (args, check), widgets = calls
    assert args[1:5] == ["-m", "pip", "install", "-q"] and check
    assert args[5] == f"cnnlib[book] @ git+{url}@{branch}"
    assert widgets == "widgets"


def test_setup_cell_does_nothing_outside_colab():
    source = colab_setup.setup_cell_source("https://example.invalid/repo", "main")
    assert "google.colab" not in sys.modules
    namespace: dict = {}
    exec(compile(source, "setup-cell", "exec"), namespace)  # must not try to install anything
    assert "subprocess" not in namespace


def test_toc_lists_exactly_the_chapters_in_order():
    listed = toc_files()
    assert listed == sorted(listed)
    assert listed == [f"chapters/{p.stem}" for p in CHAPTERS]
    for name in CHAPTER_IDS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", name), name


def test_intro_lists_the_parts_and_chapters_of_the_toc():
    """The landing page's table of chapters is the table of contents, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    expected = [(part["caption"], c["file"]) for part in toc["parts"] for c in part["chapters"]]
    rows = re.findall(
        r"^\| *([^|]*?) *\| *\{doc\}`(chapters/[^`]+)` *\|", (ROOT / "intro.md").read_text(), re.M
    )
    listed, caption = [], None
    for part, chapter in rows:
        caption = part or caption  # a part's first row names it; the next rows leave it empty
        listed.append((caption, chapter))
    assert listed == expected


def test_book_configuration():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["timeout"] >= 300 and execute["raise_on_error"] and not execute["allow_errors"]
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["html"]["use_download_button"]
    for bib in CONFIG["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyter-book>=1\.0\.4,<2$", requirements, re.M)


def test_chapter_citations_exist_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    for path in CHAPTERS:
        text = path.read_text()
        for key in re.findall(r"\{(?:foot)?cite(?::\w+)?\}`([^`]+)`", text):
            for one in key.split(","):
                assert one.strip() in keys, f"{path.name} cites unknown key {one!r}"


def test_package_builds_a_wheel(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("cnnlib-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cnnlib/models/lenet.py" in names and "cnnlib/analysis/__init__.py" in names
    assert not any(n.startswith(("tests/", "chapters/", "tools/")) for n in names)


def test_book_builds_with_warnings_as_errors(built_book):
    html, result = built_book
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    assert (html / "index.html").is_file() and (html / "intro.html").is_file()


@pytest.mark.parametrize("name", CHAPTER_IDS)
def test_chapter_page_is_built_from_an_executed_chapter(built_book, name):
    html, result = built_book
    page = html / "chapters" / f"{name}.html"
    assert page.is_file(), f"{page} missing\n" + result.stdout[-3000:]
    text = page.read_text()
    assert "cell_output" in text, f"{name}: no outputs, the chapter was not executed"
    repo = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/chapters/{name}.ipynb"
    assert colab in text, f"{name}: no Colab launch button for {colab}"
    assert f'href="../_sources/chapters/{name}.ipynb"' in text, f"{name}: no .ipynb download"
    # myst-nb marks error outputs "output traceback" and standard error "output stderr".
    assert 'class="output traceback' not in text, f"{name}: an error is shown"
    assert 'class="output stderr' not in text, f"{name}: a warning or stderr output is shown"


def test_lenet_page_shows_the_checked_numbers(built_book):
    html, _ = built_book
    text = (html / "chapters" / "03_lenet.html").read_text()
    assert re.search(r"total\s+61,706\s+60,000\s+416,520", text)  # the one layer table
    assert "torchinfo agrees: 61,706 parameters" in text  # the collapsed checks
    # The data flow, the C3 table, sample images, training curves, filters, feature maps.
    assert text.count("<img") >= 6
    accuracies = [float(a) for a in re.findall(r"modern: epoch 1 [\d.]+%, last ([\d.]+)%", text)]
    assert accuracies and accuracies[0] >= 86.0
    # The batch-norm experiment and its control: batch norm at lr 0.1, then
    # no batch norm at 0.1 and at the usual 0.01.
    runs = re.findall(r"batch norm (True|False)\s*, lr ([\d.]+)\s*: test ([\d.]+)%", text)
    assert [(norm, lr) for norm, lr, _ in runs] == [
        ("True", "0.1"), ("False", "0.1"), ("False", "0.01")
    ]  # fmt: skip
    accuracy = [float(a) for _, _, a in runs]
    assert accuracy[0] - accuracy[1] >= 15.0 and min(accuracy[0], accuracy[2]) >= 70.0
