"""fakes.trial_files: the store's table of trial files, and the files a scripted trial shows."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Dict

import pytest

from fakes import FakeManager
from fakes.sqlite_storage import SqliteStorage, trials_directory
from fakes.trial_files import ScriptedLog, ScriptedTrialFiles, TrialFiles
from nni_exp import Experiment

from .conftest import make_config

START_MS = {"Abcde": 1_800_000_000_123, "Fghij": 1_800_000_007_999}


def log_line(start_ms: int, port: int, trial_job_id: str) -> str:
    stamp = datetime.datetime.fromtimestamp(start_ms // 1000).strftime("%Y-%m-%d %H:%M:%S")
    return (f"[{stamp}] INFO (nni.runtime.trial_command_channel.v3/MainThread) Connect to trial command channel "
            f"http://localhost:{port}/env/local-env/{trial_job_id}\n")


def test_scripted_trials_share_one_stored_object_and_read_as_their_own_files() -> None:
    table = TrialFiles(START_MS.__getitem__)
    log = ScriptedLog(8080)
    table.add_scripted("Abcde", log)
    table.add_scripted("Fghij", log)
    assert dict(table.stored_items()) == {"Abcde": log, "Fghij": log}
    for trial_job_id, start_ms in START_MS.items():
        files = table[trial_job_id]
        assert dict(files) == {"trial.log": log_line(start_ms, 8080, trial_job_id), "trial.stdout": "",
                               "trial.stderr": ""}
        assert isinstance(files, ScriptedTrialFiles)
    assert list(table) == ["Abcde", "Fghij"] and len(table) == 2 and "Abcde" in table and "nope" not in table


def test_a_scripted_trial_with_stderr_keeps_its_own_files() -> None:
    table = TrialFiles(START_MS.__getitem__)
    table.add_scripted("Abcde", ScriptedLog(9000), stderr="Traceback ...\nRuntimeError: boom\n")
    stored = dict(table.stored_items())["Abcde"]
    assert isinstance(stored, ScriptedTrialFiles) and table["Abcde"] is stored
    assert stored["trial.stderr"].endswith("RuntimeError: boom\n")
    assert stored["trial.log"] == log_line(START_MS["Abcde"], 9000, "Abcde")


def test_files_set_replace_and_delete() -> None:
    table = TrialFiles(START_MS.__getitem__)
    table.add_scripted("Abcde", ScriptedLog(8080))
    printed: Dict[str, str] = {**table["Abcde"], "trial.log": "changed\n"}
    table["Abcde"] = printed
    assert table["Abcde"] is printed and dict(table.stored_items())["Abcde"] is printed
    del table["Abcde"]
    assert len(table) == 0
    with pytest.raises(KeyError):
        table["Abcde"]
    assert table.get("Abcde") is None


def printing_trial(params: Dict[str, Any], context: Any) -> float:
    context.sleep(1.0)
    if params["x"] > 0.5:
        context.log("high")
    return float(params["x"])


def test_a_runs_trial_files_match_each_trials_start_time(tmp_path: Path) -> None:
    fake = FakeManager(printing_trial, seed=3, storage=SqliteStorage())
    config = make_config(max_trial_number=6, trial_concurrency=2, experiment_working_directory=str(tmp_path))
    with Experiment(config, backend=fake) as exp:
        assert exp.run(8080) is True
        store = fake.manager_at(8080).store
        for job in exp.list_trial_jobs():
            text = fake.handle(8080, "GET", f"/api/v1/nni/trial-file/{job.trialJobId}/trial.log").body
            assert text.startswith(log_line(job.startTime, 8080, job.trialJobId))
            assert ("PRINT high" in text) == (job.hyperParameters[0].parameters["x"] > 0.5)
        stored = [type(files) for _, files in store.trial_files.stored_items()]
        assert ScriptedLog in stored  # the trials that printed nothing keep nothing of their own
    for job_id, files in store.trial_files.items():  # on disk as read, once the experiment stopped
        folder = trials_directory(exp.id, str(tmp_path)) / job_id
        assert {name: (folder / name).read_text() for name in files} == dict(files)
