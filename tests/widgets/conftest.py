"""Fixtures of the widget tests: running a widget's JavaScript in node."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

WIDGETS = Path(__file__).resolve().parents[2] / "cnnlib" / "widgets"


@pytest.fixture
def run_js(tmp_path: Path) -> Callable[[str, str], object]:
    """``run_js(module, body)``: import ``cnnlib/widgets/<module>.js`` as the ES module ``w``
    in node, run ``body``, return the JSON it printed."""

    def run(module: str, body: str) -> object:
        copy = tmp_path / f"{module}.mjs"
        shutil.copy(WIDGETS / f"{module}.js", copy)
        script = tmp_path / "run.mjs"
        script.write_text(f"import * as w from {json.dumps(copy.as_uri())};\n{body}\n")
        result = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    return run
