"""The performance table of ``benchmarks/perf_table.py`` (issue 10) runs and prints its rows: a small
run of the script as the README shows it, with sizes that take seconds (the figures themselves are
the script's output, never asserted on)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_query_rows_set_nni_own_client_beside_each_figure() -> None:
    pytest.importorskip("nni", reason="the comparison runs NNI 3.0's own client")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "perf_table.py"), "--repeat", "1", "--no-real", "--only",
         "queries", "--query-sizes", "30,60"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("Issue 10 rows"):]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    measured = sorted(re.findall(r"^\| (\S+) per trial, (\d+) trials", table, re.MULTILINE))
    assert measured == sorted((query, size) for query in ("list_trial_jobs()", "export_data()", "get_job_metrics()")
                              for size in ("30", "60")), measured
    for row in rows:
        against = row.split("|")[3]
        assert re.search(r"NNI 3\.0's own client .*: [0-9.]+ us \([0-9.]+ us - [0-9.]+ us\) per trial "
                         r"\([0-9.]+x this row\)", against), row


@pytest.mark.parametrize("sizes", ["0", "1,x", "", "-5", "10,,20"])
def test_bad_query_sizes_are_refused_naming_the_option(sizes: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "perf_table.py"), "--only", "queries",
                           "--no-real", "--query-sizes", sizes],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert f"--query-sizes: expected comma-separated positive trial counts, got {sizes!r}" in done.stderr


def test_an_unknown_row_is_refused_with_the_known_ones() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "perf_table.py"), "--only", "runn"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert "unknown rows ['runn']" in done.stderr and "small_run" in done.stderr


#: Each benchmark command of the README's Benchmarks section, with sizes that take seconds (and without
#: the real manager: its rows are exercised by perf_table's real-manager runs and tests/real).
SMOKE_ARGUMENTS = {
    "perf_table.py": ["--repeat", "1", "--no-real", "--run-trials", "100", "--only", "run,small_run"],
    "fake_throughput.py": ["--trials", "100", "--no-real"],
    "startup.py": ["--trials", "20", "--repeat", "1", "--calls", "2", "--no-real"],
    "fixture_overhead.py": ["--tests", "3", "--repeat", "1"],
    "real_trials.py": ["--trials", "2", "--repeat", "1", "--no-real"],
    "server_durability.py": ["--trials", "3"],
    "huge_concurrency.py": ["--concurrency", "1000"],
    "search_throughput.py": ["--trials", "50", "--tpe-trials", "3", "--repeat", "1", "--no-real"],
}


def readme_benchmark_scripts() -> list:
    section = (ROOT / "README.md").read_text().split("\n## Benchmarks\n", 1)[1].split("\n## ", 1)[0]
    return sorted(set(re.findall(r"`python benchmarks/(\w+\.py)", section)))


def test_every_readme_benchmark_has_a_smoke_run() -> None:
    scripts = readme_benchmark_scripts()
    assert "perf_table.py" in scripts and "startup.py" in scripts, scripts
    assert scripts == sorted(SMOKE_ARGUMENTS), "a README benchmark without a smoke run here, or the reverse"


@pytest.mark.parametrize("script", sorted(SMOKE_ARGUMENTS))
def test_each_readme_benchmark_runs_and_prints_figures(script: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *SMOKE_ARGUMENTS[script]],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    # some measured figure: "14.3 ms", "1095.1 / 1095.1 / 1095.1", "19,627" ...
    assert re.search(r"\d+\.\d+|\d{1,3}(,\d{3})+", done.stdout), done.stdout
