"""The plugin's fixtures on NNI 3.0's real manager (marked ``real_nni``: they need ``nni==3.0``)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from nni_exp.testing import RealManager

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.real_nni


def quick(params: dict, trial: object) -> float:
    """A trial function the bridge runs as a real NNI trial (0.01 s at the default time scale)."""
    trial.sleep(1)  # type: ignore[attr-defined]
    trial.report_intermediate_result(params["x"] / 2)  # type: ignore[attr-defined]
    return float(params["x"])


@pytest.mark.nni_fake(trial=quick, seed=3)
def test_real_manager_fixture_runs_an_experiment(nni_real_manager: RealManager,
                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    assert nni_real_manager.backend.name == "nni"
    assert tmp_path_factory.getbasetemp() in nni_real_manager.home.parents
    # One at a time: concurrent local trials of NNI 3.0 can receive each other's parameters.
    experiment = nni_real_manager.experiment(max_trial_number=2, trial_concurrency=1)
    assert experiment.run() is True
    assert experiment.port == nni_real_manager.port
    jobs = experiment.list_trial_jobs()
    assert [job.status for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    metrics = experiment.get_job_metrics()
    for job in jobs:  # the marker's trial function ran, through the bridge
        x = job.hyperParameters[0].parameters["x"]
        assert [m.data for m in metrics[job.trialJobId]] == [x / 2, x]
    assert (nni_real_manager.home / "nni-experiments" / ".experiment").exists()


def test_nni_backend_cleans_up_what_a_test_leaves_running(pytester: pytest.Pytester,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nni_node")
    monkeypatch.delenv("NNI_EXP_REQUIRE_REAL", raising=False)
    pytester.makepyfile("""
        def test_left_running(nni_experiment, nni_backend_kind):
            assert nni_backend_kind == "nni"
            nni_experiment.run(wait_completion=False)  # not stopped by the test

        def test_fails_while_running(nni_experiment):
            nni_experiment.run(wait_completion=False)
            assert False
    """)
    result = pytester.runpytest_subprocess("--nni-backend=nni", timeout=300)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*nni-exp: experiment state*", "*on the nni backend, port*: status *"])

    def leftovers() -> list:
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            try:
                if process.info["status"] != psutil.STATUS_ZOMBIE and \
                        str(pytester.path) in " ".join(process.info["cmdline"] or []):
                    found.append(process.pid)
            except psutil.Error:
                continue
        return found

    deadline = time.monotonic() + 10
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers() == []
    assert not (Path(pytester.path) / "nni-experiments").exists()
