"""``examples/downstream`` runs its own tests as a user would: a fresh pytest process in a copy of the
project, with nni-exp's plugin loaded by its ``pytest11`` entry point alone (no ``-p``, no conftest).
A broken entry point, fixture or marker fails here."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psutil
import pytest

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "downstream"
#: Tests of the example, and those of them that need the in-memory fake (faults).
EXAMPLE_TESTS = 9
FAKE_ONLY_TESTS = 2


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project as the current directory of the runs."""
    for name in ("NNI_EXP_REQUIRE_REAL", "NNI_EXP_BACKEND", "NNI_EXP_HOME", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return pytester.path


def assert_no_process_left(path: Path) -> None:
    def leftovers() -> list:
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            try:
                cmdline = " ".join(process.info["cmdline"] or [])
                if process.info["status"] != psutil.STATUS_ZOMBIE and str(path) in cmdline:
                    found.append(process.pid)
            except psutil.Error:
                continue
        return found

    deadline = time.monotonic() + 5
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers() == []


def test_example_passes_on_the_fake(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess(timeout=120)
    result.stdout.fnmatch_lines(["nni-exp: backend fake", "*plugins:*nni-exp*"])
    result.assert_outcomes(passed=EXAMPLE_TESTS)
    assert not (project / "nni-experiments").exists()  # HOME untouched


def test_example_passes_under_xdist(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess("-n", "2", timeout=120)
    result.assert_outcomes(passed=EXAMPLE_TESTS)


def test_example_passes_on_the_fake_manager_server(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess("--nni-backend=server", "-rs", timeout=180)
    result.assert_outcomes(passed=EXAMPLE_TESTS - FAKE_ONLY_TESTS, skipped=FAKE_ONLY_TESTS)
    result.stdout.fnmatch_lines(["*needs the in-memory fake; --nni-backend=server cannot apply it*"])
    assert_no_process_left(project)


@pytest.mark.real_nni
def test_example_passes_on_the_real_manager(pytester: pytest.Pytester, project: Path) -> None:
    pytest.importorskip("nni_node")
    result = pytester.runpytest_subprocess("--nni-backend=nni", "--nni-require-real", "-n", "2", timeout=600)
    result.assert_outcomes(passed=EXAMPLE_TESTS - FAKE_ONLY_TESTS, skipped=FAKE_ONLY_TESTS)
    assert_no_process_left(project)
