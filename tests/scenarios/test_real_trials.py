"""Scenarios ``real_trials`` and ``real_trials_kill``: the same ``trial.py`` runs for real on every
target (the fakes with ``real_trials=True`` / ``--real-trials``)."""

from __future__ import annotations

from typing import Callable

import pytest

from .session import Session
from .test_basic import TRIAL_KEYS, body, decode_twice, stats

Scenario = Callable[[str], Session]


@pytest.fixture
def real_trials(scenario: Scenario) -> Session:
    return scenario("real_trials")


@pytest.fixture
def real_trials_kill(scenario: Scenario) -> Session:
    return scenario("real_trials_kill")


def test_real_trials_run_to_done(real_trials: Session) -> None:
    assert real_trials["to_done"].statuses[-1] == "DONE"
    assert [job["status"] for job in body(real_trials["trial_jobs"])] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert sorted(stats(real_trials["statistics"])) == [("FAILED", 1), ("SUCCEEDED", 2)]
    failed = body(real_trials["failed_trial"])
    assert list(failed) == TRIAL_KEYS + ["endTime", "stderrPath"]
    assert failed["stderrPath"] == failed["logPath"] + "/stderr"


def test_real_trial_metrics_and_files(real_trials: Session) -> None:
    metrics = body(real_trials["metrics"])
    assert sorted(m["type"] for m in metrics) == ["FINAL", "PERIODICAL", "PERIODICAL"]
    final = next(m for m in metrics if m["type"] == "FINAL")
    assert list(decode_twice(final["data"])) == ["default", "other"]
    # what the trial prints goes to trial.log on the local platform: trial.stdout stays empty
    stdout = real_trials["stdout"]
    assert (stdout.status, stdout.text) == (200, "stdout is empty.")
    assert real_trials["stderr"].text == "stderr is empty."
    assert "RuntimeError: scripted failure of trial #0" in real_trials["failed_stderr"].text
    log = real_trials["trial_log"].text.splitlines()
    assert "INFO (nni.runtime.trial_command_channel.v3/MainThread) Connect to trial command channel http://" \
        in log[0]


def test_killing_a_real_trial(real_trials_kill: Session) -> None:
    killed = body(real_trials_kill["killed"])
    # SIGINT reaches the trial after its first report (past the interpreter's start-up): it ends by
    # the signal, so the local service says USER_CANCELED, with the time it exited
    assert killed["status"] == "USER_CANCELED"
    assert killed["endTime"] >= killed["startTime"]
    assert ("USER_CANCELED", 1) in stats(real_trials_kill["statistics"])
