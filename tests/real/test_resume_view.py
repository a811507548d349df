"""Stopped experiments on the real manager: has_checkpoint, load_checkpoint, resume and view."""

from __future__ import annotations

from pathlib import Path

import pytest

from nni_exp import Experiment, ExperimentConfig
from nni_exp.errors import CheckpointError, ExperimentNotFoundError, ReadonlyExperimentError
from nni_exp.real import RealBackend

from .conftest import StoppedExperiment, free_port, make_config, wait_for

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")


def test_has_checkpoint(stopped_experiment: StoppedExperiment) -> None:
    backend = RealBackend(home=stopped_experiment.home)
    assert Experiment(None, id=stopped_experiment.id, backend=backend).has_checkpoint()
    assert not Experiment(None, id="unknown1", backend=backend).has_checkpoint()


def test_load_checkpoint(stopped_experiment: StoppedExperiment, caplog: pytest.LogCaptureFixture) -> None:
    backend = RealBackend(home=stopped_experiment.home)
    exp = Experiment(None, id=stopped_experiment.id, backend=backend)
    exp.load_checkpoint()
    assert isinstance(exp.config, ExperimentConfig)
    assert exp.config.json() == stopped_experiment.config_json
    assert exp.config.trial_concurrency == 2 and exp.config.max_trial_number == 2

    # with a config already set: compared (a warning shows the difference), never replaced
    current = make_config(stopped_experiment.workdir.parent / "other", trials=5)
    current.experiment_working_directory = str(stopped_experiment.workdir)
    exp = Experiment(current, id=stopped_experiment.id, backend=backend)
    exp.load_checkpoint()
    assert exp.config is current and current.max_trial_number == 5
    assert "does not match" in caplog.text

    with pytest.raises(CheckpointError, match="failed to be loaded"):
        Experiment(None, id="unknown1", backend=backend).load_checkpoint()


def test_view(stopped_experiment: StoppedExperiment) -> None:
    backend = RealBackend(home=stopped_experiment.home)
    exp = Experiment(None, id=stopped_experiment.id, backend=backend)
    port = free_port()
    assert exp.view(port, non_blocking=True) is exp
    try:
        assert exp.get_status() == "VIEWED"
        assert [job.trialJobId for job in exp.list_trial_jobs()] == stopped_experiment.trial_ids
        assert len(exp.export_data()) == 2
        with pytest.raises(ReadonlyExperimentError):
            exp.update_trial_concurrency(3)
        with pytest.raises(ReadonlyExperimentError):
            exp.kill_trial_job(stopped_experiment.trial_ids[0])
        record = backend.manifest.records()[exp.id]
        assert record["status"] == "VIEWED" and record["port"] == port
        log_dir = stopped_experiment.workdir / exp.id / "log"
        for name in ("nnictl_stdout.log", "nnictl_stderr.log"):  # view runs detached
            lines = (log_dir / name).read_text().splitlines()
            assert lines[0] == "-" * 80 and lines[1].startswith(f"Experiment {exp.id} start: ")
        manager = exp._proc
    finally:
        exp.stop()
    assert manager is not None and not manager.is_alive()
    assert backend.is_port_idle(port)
    assert backend.manifest_file.read()[exp.id]["status"] == "STOPPED"
    # not running any more: the stored data is untouched
    assert backend.load_stopped_config(exp.id, None) == stopped_experiment.config_json


def test_resume_continues_the_experiment(tmp_path: Path, backend: RealBackend) -> None:
    exp = Experiment(make_config(tmp_path, trials=1, concurrency=1), backend=backend)
    assert exp.run(free_port()) is True
    first = [job.trialJobId for job in exp.list_trial_jobs()]
    exp.stop()

    resumed = Experiment(None, id=exp.id, backend=RealBackend(home=backend.manifest_directory.parent))
    port = free_port()
    assert resumed.resume(port, wait_completion=False) is None
    try:
        assert resumed.config is not None and resumed.config.max_trial_number == 1
        assert resumed.port == port
        assert [job.trialJobId for job in resumed.list_trial_jobs()] == first
        wait_for(lambda: resumed.get_status() == "DONE", 15, message="DONE after resume")
        resumed.update_max_trial_number(2)  # revives it: one more trial
        wait_for(lambda: len(resumed.list_trial_jobs()) == 2 and resumed.get_status() == "DONE", 30,
                 message="the second trial")
        assert [job.status for job in resumed.list_trial_jobs()] == ["SUCCEEDED", "SUCCEEDED"]
    finally:
        resumed.stop()
    assert backend.manifest_file.read()[exp.id]["status"] == "STOPPED"
    # the stored config is the latest revision: the update is in it
    stored = backend.load_stopped_config(exp.id, None)
    assert stored is not None and stored["maxTrialNumber"] == 2


def test_resume_unknown_experiment(backend: RealBackend) -> None:
    with pytest.raises(ExperimentNotFoundError):
        Experiment(None, id="unknown1", backend=backend).resume(free_port())
