"""The performance table of ``benchmarks/perf_table.py`` (issue 10) runs and prints its rows: a small
run of the script as the README shows it, with sizes that take seconds (the figures themselves are
the script's output, never asserted on)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_performance_table_prints_its_rows() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "perf_table.py"), "--repeat", "1", "--no-real",
         "--run-trials", "200", "--only", "run,memory,small_run"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("Issue 10 rows"):]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    names = [row.split("|")[1].strip() for row in rows]
    assert any(name.startswith("run() on the in-memory fake, per trial") for name in names), names
    assert any("search='own'" in name for name in names), names
    assert any(name.startswith("memory per finished trial") for name in names), names
    assert any(name.startswith("a small run()") for name in names), names
    for row in rows:  # every figure is "median (min - max)" with a unit
        measured = row.split("|")[2].strip()
        assert re.fullmatch(r"[0-9.]+ (us|ms|s|KB) \([0-9.]+ (us|ms|s|KB) - [0-9.]+ (us|ms|s|KB)\)", measured), row


def test_an_unknown_row_is_refused_with_the_known_ones() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "perf_table.py"), "--only", "runn"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert "unknown rows ['runn']" in done.stderr and "small_run" in done.stderr
