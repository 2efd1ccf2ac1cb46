#!/usr/bin/env python3
"""The book's two commands, each complete on a fresh machine with Python >= 3.10.

    python3 dev.py book          # build the HTML book into _build/html (executes the chapters)
    python3 dev.py test          # run the whole test suite (what CI runs)
    python3 dev.py test --fast   # the daily loop: without the slow, book and browser tests

Each first creates (or updates) the virtual environment ``.venv`` from
``requirements.txt`` and, where npm exists, ``node_modules`` from
``package-lock.json``; each reinstalls only when its files changed. Extra
arguments go to jupyter-book or pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"
#: The markers the fast loop leaves out (registered in pyproject.toml).
FAST = "not slow and not book and not browser"


def venv_bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def ensure_environment() -> None:
    """Create ``.venv`` if needed and install the requirements when they changed."""
    digest = hashlib.sha256(
        b"".join((ROOT / f).read_bytes() for f in ("requirements.txt", "pyproject.toml"))
    ).hexdigest()
    if not venv_bin("python").exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("dev.py: installing requirements.txt into .venv", flush=True)
    python = str(venv_bin("python"))
    subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "-r", "requirements.txt"], check=True, cwd=ROOT
    )
    STAMP.write_text(digest)


def ensure_javascript() -> None:
    """Install the pinned npm packages (widget JavaScript, MathJax, the browser driver).

    Without npm the book still builds (its widgets and formulas then load from
    CDNs); the widget browser tests need it.
    """
    npm = shutil.which("npm")
    lock = ROOT / "package-lock.json"
    stamp = ROOT / "node_modules" / ".package-lock.sha256"
    if npm is None:
        print("dev.py: npm not found: widgets in the built book will need the internet", flush=True)
        return
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("dev.py: installing package-lock.json into node_modules", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("book", "test"):
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    ensure_environment()
    ensure_javascript()
    if command == "book":
        run = [str(venv_bin("jupyter-book")), "build", str(ROOT), *extra]
    else:
        if "--fast" in extra:
            extra = [arg for arg in extra if arg != "--fast"]
            extra = ["-m", FAST, *extra]
        run = [str(venv_bin("python")), "-m", "pytest", *extra]
    return subprocess.run(run, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
