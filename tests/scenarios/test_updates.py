"""Scenarios ``concurrency``, ``search_space``, ``duration_limit`` and ``grid`` on every target
(MAX_TRIAL_NUM is in ``basic``)."""

from __future__ import annotations

import json
from typing import Callable

import pytest

from .session import Session
from .test_basic import body, stats

Scenario = Callable[[str], Session]


def test_trial_concurrency_zero_pauses_and_two_resumes(scenario: Scenario) -> None:
    s = scenario("concurrency")
    assert s["pause"] is None and s["resume"] is None
    assert body(s["paused.profile"])["params"]["trialConcurrency"] == 0
    assert body(s["paused.check_status"])["status"] == "RUNNING"
    assert stats(s["paused.statistics"]) == [("SUCCEEDED", 1)]  # the running trial finished, none started
    assert s["two_running"].counts == {"SUCCEEDED": 1, "RUNNING": 2}
    assert s["to_done"].statuses[-1] == "DONE"
    assert stats(s["done.statistics"]) == [("SUCCEEDED", 3)]


def test_search_space_update_applies_to_later_trials(scenario: Scenario) -> None:
    s = scenario("search_space")
    assert s["update"] is None
    assert body(s["updated.profile"])["params"]["searchSpace"] == {"x": {"_type": "uniform", "_value": [10, 20]}}
    jobs = body(s["trial_jobs"])
    xs = [json.loads(job["hyperParameters"][0])["parameters"]["x"] for job in jobs]
    assert [job["status"] for job in jobs] == ["SUCCEEDED"] * 4
    assert all(0 <= x <= 1 for x in xs[:2]), xs  # generated before the update
    assert all(10 <= x <= 20 for x in xs[2:]), xs


def test_duration_limit(scenario: Scenario) -> None:
    s = scenario("duration_limit")
    assert s["to_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    assert stats(s["done.statistics"]) == [("SUCCEEDED", 2)]  # running trials are not killed
    done, later = body(s["done.profile"]), body(s["later.profile"])
    assert isinstance(done["endTime"], int)
    assert later["execDuration"] == done["execDuration"] >= 3  # frozen at DONE
    assert s["update"] is None and s["revived"].statuses[-1] == "RUNNING"
    revived = body(s["revived.profile"])
    assert "endTime" not in revived and revived["params"]["maxExperimentDuration"] == "1m"


def test_grid_exhaustion_stays_tuner_no_more_trial(scenario: Scenario) -> None:
    s = scenario("grid")
    assert s["exhausted"].statuses == ["RUNNING", "TUNER_NO_MORE_TRIAL"]
    assert s["wait_completion"] is True  # NNI's run() would wait forever
    assert body(s["later.check_status"]) == {"status": "TUNER_NO_MORE_TRIAL", "errors": []}
    jobs = body(s["trial_jobs"])
    assert sorted(json.loads(job["hyperParameters"][0])["parameters"]["x"] for job in jobs) == [1, 2, 3]
    assert "endTime" not in body(s["profile"])  # never DONE
    record = s["manifest"]
    assert record["status"] == "STOPPED" and isinstance(record["endTime"], int)


@pytest.mark.parametrize("name", ["concurrency", "search_space", "duration_limit", "grid"])
def test_no_failed_trials(scenario: Scenario, name: str) -> None:
    """The scripted trials of these scenarios all succeed on every target (a sanity check of the
    trial script and of the fake trial built from the same behaviour)."""
    s = scenario(name)
    for step in s.steps:
        if step["op"] == "wait":
            assert "FAILED" not in step["result"]["counts"], step
