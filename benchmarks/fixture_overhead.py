"""Per-test overhead of the pytest plugin's fixtures on the in-memory fake.

Runs pytest (in a subprocess, the plugin loaded by its entry point) over generated files of N
trivial tests: one without fixtures, one per fixture under measure. A conftest sums the durations
pytest measures for each test's setup, call and teardown; the overhead of a fixture is that sum
per test minus the same for tests without fixtures, in milliseconds, best of a few repetitions.
(Wall-clock time of whole runs is too noisy on a shared machine.)

    python benchmarks/fixture_overhead.py [--tests N] [--repeat R]

Target: nni_fake_manager under 5 ms per test. Where ``nni`` is installed, the fake's first experiment
in a process imports it to run NNI's own algorithms (a second or two, once per session and xdist
worker): the ``run()`` rows include that share; the ``own search`` row runs nni-exp's samplers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict

BODIES: Dict[str, str] = {
    "no fixture": "def test_{i}():\n    pass\n",
    "nni_fake_manager": "def test_{i}(nni_fake_manager):\n    pass\n",
    "nni_fake_manager + marker": ("@pytest.mark.nni_fake(seed={i}, faults={{'initializing_polls': 1}})\n"
                                  "def test_{i}(nni_fake_manager):\n    pass\n"),
    "nni_experiment (fake)": "def test_{i}(nni_experiment):\n    pass\n",
    "nni_experiment (fake) + run()": "def test_{i}(nni_experiment):\n    assert nni_experiment.run() is True\n",
    "nni_experiment (fake) + run(), own search": ("@pytest.mark.nni_fake(search='own')\n"
                                                  "def test_{i}(nni_experiment):\n"
                                                  "    assert nni_experiment.run() is True\n"),
    "nni_fake_server": "def test_{i}(nni_fake_server):\n    pass\n",
}


CONFTEST = """
import json, os
TOTAL = [0.0]
def pytest_runtest_logreport(report):
    TOTAL[0] += report.duration
def pytest_sessionfinish(session):
    with open(os.environ["NNI_EXP_BENCH_OUT"], "w") as file:
        json.dump(TOTAL[0], file)
"""


def run_once(directory: Path, name: str) -> float:
    """Seconds pytest spent in the setup, call and teardown of the tests of ``name``."""
    out = directory / "total.json"
    env = dict(os.environ, NNI_EXP_BENCH_OUT=str(out))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory / name)],
                   check=True, stdout=subprocess.DEVNULL, cwd=directory, env=env)
    return float(json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=400, help="tests per generated file (default 400)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best counts (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "conftest.py").write_text(CONFTEST)
        files = {}
        for index, (label, body) in enumerate(BODIES.items()):
            name = f"test_bench_{index}.py"
            tests = "\n".join(body.format(i=i) for i in range(args.tests))
            (directory / name).write_text("import pytest\n\n" + tests)
            files[label] = name
        best = {label: min(run_once(directory, name) for _ in range(args.repeat)) for label, name in files.items()}
    base = best["no fixture"]
    print(f"{args.tests} tests per run, best of {args.repeat}; setup+call+teardown without fixtures: "
          f"{base / args.tests * 1000:.3f} ms per test")
    for label, seconds in best.items():
        if label != "no fixture":
            print(f"{label:44s} {(seconds - base) / args.tests * 1000:7.3f} ms per test")


if __name__ == "__main__":
    main()
