"""Scenarios ``failing`` (FAILED trials, a dict final metric) and ``kill_running`` on every target."""

from __future__ import annotations

import json
from typing import Callable

import pytest

from .session import Session
from .targets import TargetKind
from .test_basic import TRIAL_KEYS, body, decode_twice, stats

Scenario = Callable[[str], Session]


@pytest.fixture
def failing(scenario: Scenario) -> Session:
    return scenario("failing")


@pytest.fixture
def kill_running(scenario: Scenario) -> Session:
    return scenario("kill_running")


def test_failed_trials_still_end_done(failing: Session) -> None:
    assert failing["to_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    assert [job["status"] for job in body(failing["trial_jobs"])] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert stats(failing["statistics"]) == [("FAILED", 1), ("SUCCEEDED", 2)]  # first-seen order


def test_failed_trial_record(failing: Session) -> None:
    job = body(failing["failed_trial"])
    assert list(job) == TRIAL_KEYS + ["endTime", "stderrPath"]  # no finalMetricData
    assert job["stderrPath"] == job["logPath"] + "/stderr"
    assert [m["type"] for m in body(failing["failed_metrics"])] == ["PERIODICAL", "PERIODICAL"]
    stderr = failing["stderr"]  # trial.stderr: not one of the text names, so served as bytes
    assert stderr.status == 200 and stderr.content_type == "application/octet-stream"
    assert "RuntimeError: scripted failure of trial #0" in stderr.text
    api = failing["api.failed_trial"]
    assert api.status == "FAILED" and api.finalMetricData == [] and api.stderrPath == job["stderrPath"]


def test_dict_final_metric(failing: Session) -> None:
    finals = body(failing["finals"])
    assert len(finals) == 2
    for metric in finals:
        inner = json.loads(metric["data"])
        assert inner == json.dumps(decode_twice(metric["data"]))  # Python's ", " spacing inside
        assert list(decode_twice(metric["data"])) == ["default", "other"]
    own = body(failing["dict_metrics"])
    assert sorted(m["type"] for m in own) == ["FINAL", "PERIODICAL", "PERIODICAL"]
    exported = body(failing["export"])
    assert [item["trialJobId"] for item in exported] == [failing.trial_id(1), failing.trial_id(2)]
    for item in exported:
        assert isinstance(item["value"], str)
        value = json.loads(item["value"])
        assert item["value"] == json.dumps(value) and value["other"] == 1
    results = failing["api.export"]
    assert [sorted(result.value) for result in results] == [["default", "other"]] * 2
    assert [m.data["other"] for m in failing["api.dict_metrics"][failing.trial_id(1)] if m.type == "FINAL"] == [1]
    assert [job.status for job in failing["api.trials"]] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]


def test_kill_running_trial(kill_running: Session, target: TargetKind) -> None:
    assert kill_running["kill"] is None
    at_once = body(kill_running["killed_at_once"])
    assert at_once["status"] == "USER_CANCELED"
    if not target.realtime:  # elsewhere the next tick may already have come
        assert "endTime" not in at_once
    later = body(kill_running["killed"])
    assert later["status"] == "USER_CANCELED" and isinstance(later["endTime"], int)
    assert "finalMetricData" not in later
    assert kill_running["next_running"].counts == {"USER_CANCELED": 1, "RUNNING": 1}
    assert stats(kill_running["statistics"]) == [("USER_CANCELED", 1), ("RUNNING", 1)]
    assert kill_running["kill_again"] is None
    assert body(kill_running["killed_again"]) == later
    record = kill_running["manifest"]
    assert record["status"] == "STOPPED" and isinstance(record["endTime"], int)


def test_search_space_update_before_the_tuner_connected(kill_running: Session, target: TargetKind) -> None:
    """README deliberate fix: the real manager never answers; the fakes answer 409."""
    answer = kill_running["fix.search_space_before_tuner"]
    if target.is_fake:
        assert answer.status == 409 and "tuner has not been setup" in answer.json()["error"]
    else:
        assert answer.timed_out


def test_import_data_before_the_tuner_connected(kill_running: Session, target: TargetKind) -> None:
    """README deliberate fix: the real manager never answers (and imports nothing); the fakes answer 409."""
    answer = kill_running["fix.import_data_before_tuner"]
    if target.is_fake:
        assert answer.status == 409 and "tuner has not been setup" in answer.json()["error"]
    else:
        assert answer.timed_out
    assert body(kill_running["imported_before_tuner"]) == []
