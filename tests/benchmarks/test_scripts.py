"""The benchmark scripts run end to end (their --quick mode) and print their verdict.

Their speed targets are not asserted here: a benchmark prints ratios measured in
the same run (see benchmarks/README.md); this only keeps the scripts working.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize(
    "script, args",
    [
        ("train_throughput.py", ["--quick"]),
        ("time_to_accuracy.py", ["--quick", "--part", "lenet"]),
        ("book_build.py", ["--quick"]),
    ],
)
def test_benchmark_runs_and_reports(script, args):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, timeout=900, cwd=BENCHMARKS.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    verdicts = re.findall(r"^RESULT: .*\b(PASS|FAIL)\b", result.stdout, flags=re.MULTILINE)
    assert len(verdicts) == 1, result.stdout[-2000:]
