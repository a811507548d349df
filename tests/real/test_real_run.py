"""Experiments on the real NNI 3.0 manager: a basic run, a URL prefix, connecting to a running one."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from nni_exp import Experiment
from nni_exp.backend import Backend
from nni_exp.errors import ManagerError
from nni_exp.real import RealBackend, pid_alive

from .conftest import (
    StoppedExperiment,
    alive,
    describe,
    free_port,
    make_config,
    running_trial_tree,
    wait_for,
)

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")


def test_basic_run_to_done_decodes_results_and_stops(stopped_experiment: StoppedExperiment) -> None:
    """The session's basic run (see conftest): run() returned True promptly, data decoded, STOPPED."""
    run = stopped_experiment
    assert run.run_result is True
    # 2 parallel trials of 1 s: the manager needs ~4 s before the first trial starts.
    assert run.run_seconds < 25
    assert run.status == "DONE"
    assert [job.status for job in run.jobs] == ["SUCCEEDED", "SUCCEEDED"]
    for job in run.jobs:
        assert job.hyperParameters[0].parameter_source == "algorithm"
        assert 0 <= job.hyperParameters[0].parameters["x"] <= 1
        assert job.finalMetricData[0].type == "FINAL"
    assert sorted(result.trialJobId for result in run.exported) == sorted(run.trial_ids)
    assert all(isinstance(result.value, float) for result in run.exported)
    assert set(run.metrics) == set(run.trial_ids)
    for trial_metrics in run.metrics.values():
        # arrival order: the intermediate result is reported first, but does not always arrive first
        by_type = {m.type: m for m in trial_metrics}
        assert len(trial_metrics) == 2 and set(by_type) == {"PERIODICAL", "FINAL"}, trial_metrics
        periodical, final = by_type["PERIODICAL"], by_type["FINAL"]
        assert periodical.data == pytest.approx(final.data / 2)  # data is decoded twice
        assert isinstance(final.parameterId, str)
    assert run.record_while_done["status"] == "DONE" and run.record_while_done["pid"] == run.manager_pid
    assert (run.workdir / "_latest").resolve() == run.workdir / run.id
    assert (run.workdir / run.id / "log" / "nnimanager.log").is_file()
    # as written by the manager itself (read raw: no crash detection involved)
    assert run.record_after_stop["status"] == "STOPPED"
    assert isinstance(run.record_after_stop["endTime"], int)
    assert not pid_alive(run.manager_pid)


def test_backend_is_a_backend() -> None:
    assert isinstance(RealBackend(), Backend)


def test_url_prefix(tmp_path: Path, backend: RealBackend) -> None:
    exp = Experiment(make_config(tmp_path, trials=1, concurrency=1), backend=backend)
    exp.url_prefix = "/pre/"
    port = free_port()
    try:
        assert exp.run(port) is True
        assert exp.get_status() == "DONE"
        assert [job.status for job in exp.list_trial_jobs()] == ["SUCCEEDED"]
        assert backend.request("GET", port, "/check-status", url_prefix="pre")["status"] == "DONE"
        with pytest.raises(ManagerError) as info:
            backend.request("GET", port, "/check-status")
        assert info.value.status_code == 404 and "Outside prefix" in info.value.error
        assert isinstance(info.value, requests.HTTPError)
        assert backend.manifest.records()[exp.id]["prefixUrl"] == "pre"
    finally:
        exp.stop()
    assert backend.manifest_file.read()[exp.id]["status"] == "STOPPED"


def test_connect_and_stop_through_it(tmp_path: Path, backend: RealBackend, home: Path) -> None:
    exp = Experiment(make_config(tmp_path, trials=2, concurrency=1, sleep=60), backend=backend)
    port = free_port()
    exp.start(port)
    try:
        tree = running_trial_tree(exp)
        connected = Experiment.connect(port, backend=RealBackend(home=home))
        assert connected.id == exp.id
        assert connected.get_status() == "RUNNING"
        assert connected._proc is not None and connected._proc.pid == tree[0].pid
        assert [job.trialJobId for job in connected.list_trial_jobs()] == [
            job.trialJobId for job in exp.list_trial_jobs()]
        connected.stop()
        assert not alive(tree), f"left running: {describe(alive(tree))}"
        assert connected.port is None
        assert backend.is_port_idle(port)
        wait_for(lambda: backend.manifest.records()[exp.id]["status"] == "STOPPED", 5, message="STOPPED")
    finally:
        exp.stop()  # the manager is gone: nothing to do but forget it
    assert exp.port is None
