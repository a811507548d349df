"""Experiments on the real NNI 3.0 manager: a basic run, a URL prefix, connecting to a running one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from nni_exp import Experiment
from nni_exp.backend import Backend
from nni_exp.errors import ManagerError
from nni_exp.real import RealBackend

from .conftest import alive, describe, free_port, make_config, running_trial_tree, wait_for

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")


def test_basic_run_to_done_decodes_results_and_stops(tmp_path: Path, backend: RealBackend) -> None:
    assert isinstance(backend, Backend)
    exp = Experiment(make_config(tmp_path, trials=2, concurrency=2), backend=backend)
    started = time.monotonic()
    assert exp.run(free_port()) is True
    # 2 parallel trials of 1 s: the manager needs ~4 s before the first trial starts.
    assert time.monotonic() - started < 25
    try:
        assert exp.get_status() == "DONE"
        jobs = exp.list_trial_jobs()
        assert [job.status for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
        for job in jobs:
            assert job.hyperParameters[0].parameter_source == "algorithm"
            assert 0 <= job.hyperParameters[0].parameters["x"] <= 1
            assert job.finalMetricData[0].type == "FINAL"
        exported = exp.export_data()
        assert sorted(result.trialJobId for result in exported) == sorted(job.trialJobId for job in jobs)
        assert all(isinstance(result.value, float) for result in exported)
        metrics = exp.get_job_metrics()
        assert set(metrics) == {job.trialJobId for job in jobs}
        for trial_metrics in metrics.values():
            # arrival order: the intermediate result is reported first, but does not always arrive first
            by_type = {m.type: m for m in trial_metrics}
            assert len(trial_metrics) == 2 and set(by_type) == {"PERIODICAL", "FINAL"}, trial_metrics
            periodical, final = by_type["PERIODICAL"], by_type["FINAL"]
            assert periodical.data == pytest.approx(final.data / 2)  # data is decoded twice
            assert isinstance(final.parameterId, str)
        record = backend.manifest.records()[exp.id]
        assert record["status"] == "DONE" and record["pid"] == exp._proc.pid  # type: ignore[union-attr]
        assert (tmp_path / "experiments" / "_latest").resolve() == tmp_path / "experiments" / exp.id
        assert (tmp_path / "experiments" / exp.id / "log" / "nnimanager.log").is_file()
    finally:
        exp.stop()
    raw = backend.manifest_file.read()[exp.id]  # as written by the manager itself: no crash detection
    assert raw["status"] == "STOPPED"
    assert isinstance(raw["endTime"], int)
    assert exp.port is None


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
