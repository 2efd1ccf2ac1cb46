"""Build time of the book: a cold ``jupyter-book build``, then a warm rebuild, and each chapter's.

What it measures: the wall-clock seconds of ``jupyter-book build <repository>
--path-output <fresh temporary folder>`` twice in a row, with the
``jupyter-book`` next to the running Python (``.venv/bin/jupyter-book``) and
``CNNLIB_BUDGET`` set to the chosen budget (``quick`` by default).

* cold: ``_config.yml`` sets ``execute_notebooks: cache``, and myst-nb keeps
  that cache in ``<path-output>/_build/.jupyter_cache``, so in a fresh output
  folder the cache is empty and every chapter executes;
* warm: the same command again with nothing changed: every chapter's outputs
  come from the cache and Sphinx rewrites nothing.

Targets: cold <= 15 min on 2 CPU cores (quick budget), warm <= 60 s, and every
chapter's execution (myst-nb's "Executed notebook in … seconds", from the cold
build's log) within the quick time budget of ``../shared/CHAPTER.md``: 45 s, or
up to 90 s for a chapter whose central experiment needs it, which says so in
its text and in its notebook metadata (``"cnnlib": {"quick_budget_s": 90}``).

Run: ``.venv/bin/python benchmarks/book_build.py`` (about as long as the cold
build); ``--budget full`` for the full budget; ``--quick`` builds only the
book's front page (a table of contents without chapters) to check the script
in seconds; ``--help`` for the options. A failed build prints the end of its
log and exits with status 1 (a missed target exits 0).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _report import table, verdict

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"cold": 15 * 60.0, "warm": 60.0}  # seconds
LOG_TAIL_LINES = 40
EXECUTING = ": Executing notebook"  # myst-nb's log line for every notebook it runs
EXECUTED = re.compile(r"(\S+)\.ipynb: Executed notebook in ([\d.]+) seconds")
CHAPTER_BUDGET_S = 45.0  # the quick budget of a chapter (../shared/CHAPTER.md)
CHAPTER_BUDGET_MAX_S = 90.0  # for a chapter whose central experiment needs longer


def chapter_budget(name: str) -> float:
    """The chapter's quick budget in seconds: 45, or what its metadata declares (at most 90)."""
    notebook = json.loads((ROOT / "chapters" / f"{name}.ipynb").read_text())
    declared = notebook.get("metadata", {}).get("cnnlib", {}).get("quick_budget_s")
    return min(float(declared), CHAPTER_BUDGET_MAX_S) if declared else CHAPTER_BUDGET_S


def chapter_seconds(log: Path) -> dict[str, float]:
    """Each executed chapter's execution seconds, from myst-nb's lines in a build log."""
    return {Path(path).name: float(sec) for path, sec in EXECUTED.findall(log.read_text())}


def front_page_toc(folder: Path) -> Path:
    """A table of contents with the book's root page only (for ``--quick``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    path = folder / "_toc.yml"
    path.write_text(yaml.safe_dump({"format": toc["format"], "root": toc["root"]}))
    return path


def build(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int, int]:
    """Run one build, its output in ``log``; return seconds, exit status and notebooks executed."""
    start = time.perf_counter()
    with log.open("w") as out:
        status = subprocess.run(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    seconds = time.perf_counter() - start
    return seconds, status, log.read_text().count(EXECUTING)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=("quick", "full"), default="quick",
                        help="CNNLIB_BUDGET for the chapters (default quick)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="build the front page only (seconds)")
    args = parser.parse_args()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = {**os.environ, "CNNLIB_BUDGET": args.budget}
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    mode = config.get("execute", {}).get("execute_notebooks")
    quick_note = ", quick run: front page only, not the target" if args.quick else ""

    with tempfile.TemporaryDirectory(prefix="book-build-") as tmp:
        folder = Path(tmp)
        output = folder / "book"
        command = [str(jupyter_book), "build", str(ROOT), "--path-output", str(output)]
        if args.quick:
            command += ["--toc", str(front_page_toc(folder))]
        cache = output / "_build" / ".jupyter_cache"
        print(f"Book build: {' '.join(command[1:])}")
        print(
            f"CNNLIB_BUDGET={args.budget}, execute_notebooks: {mode}, cache {cache} "
            f"(absent before the cold build: {not cache.exists()}), "
            f"load average {os.getloadavg()[0]:.2f} at the start{quick_note}"
        )
        seconds: dict[str, float] = {}
        executed: dict[str, int] = {}
        chapters: dict[str, float] = {}
        for kind in TARGETS:
            log = folder / f"{kind}.log"
            seconds[kind], status, executed[kind] = build(command, env, log)
            if kind == "cold":
                chapters = chapter_seconds(log)
            if status != 0:
                lines = log.read_text().splitlines()
                print(f"\n{kind} build failed (exit status {status}); the end of its log:")
                print("\n".join(lines[-LOG_TAIL_LINES:]))
                print(
                    f"RESULT: {kind} build failed after {seconds[kind]:.0f} s: FAIL, not measured"
                )
                return 1
    print()
    rows = [
        (f"{kind} build", str(executed[kind]), f"{seconds[kind]:.1f}", f"<= {TARGETS[kind]:.0f}",
         verdict(seconds[kind] <= TARGETS[kind]))
        for kind in TARGETS
    ]  # fmt: skip
    print(table(("build", "notebooks executed", "seconds", "target s", "verdict"), rows))
    print()
    budgets = {name: chapter_budget(name) for name in chapters}
    over = sorted(name for name, sec in chapters.items() if sec > budgets[name])
    if chapters:
        rows = [(name, f"{sec:.1f}", f"<= {budgets[name]:.0f}", verdict(name not in over))
                for name, sec in sorted(chapters.items())]  # fmt: skip
        print(table(("chapter (cold build)", "seconds", "budget s", "verdict"), rows))
        print()
    passed = all(seconds[kind] <= TARGETS[kind] for kind in TARGETS) and not over
    flagged = f", over budget: {', '.join(over)}" if over else ""
    print(
        f"RESULT: cold {seconds['cold']:.0f} s, warm {seconds['warm']:.0f} s, "
        f"{len(chapters)} chapters executed{flagged}: {verdict(passed)} against targets "
        f"cold <= {TARGETS['cold'] / 60:.0f} min on 2 CPU cores, warm <= "
        f"{TARGETS['warm']:.0f} s, each chapter within its budget ({os.cpu_count()} CPUs "
        f"here, CNNLIB_BUDGET={args.budget}{quick_note})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
