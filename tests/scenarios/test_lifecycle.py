"""Scenarios ``stop_resume_view`` and ``url_prefix`` on every target."""

from __future__ import annotations

from typing import Callable

import pytest

from nni_exp.errors import ExperimentNotFoundError, ReadonlyExperimentError

from .session import Session
from .targets import TargetKind
from .test_basic import RECORD_KEYS, body, stats

Scenario = Callable[[str], Session]


@pytest.fixture
def srv(scenario: Scenario) -> Session:
    return scenario("stop_resume_view")


def test_stop_with_running_trials(srv: Session) -> None:
    assert srv["running"].counts == {"RUNNING": 2}
    assert srv["stop"] is None
    record = srv["stopped.manifest"]
    assert list(record) == RECORD_KEYS and record["status"] == "STOPPED" and isinstance(record["endTime"], int)
    assert srv["has_checkpoint"] is True


def test_resume_requeues_running_trials(srv: Session) -> None:
    assert srv["resume"] is None
    assert body(srv["resumed.check_status"])["status"] == "RUNNING"
    assert stats(srv["resumed.statistics"]) == [("ADD_RESUMED", 2)]
    jobs = body(srv["resumed.trial_jobs"])
    assert [job["trialJobId"] for job in jobs] == srv.trial_ids[:2]
    assert [job["status"] for job in jobs] == ["ADD_RESUMED", "ADD_RESUMED"]
    before, after = body(srv["before_stop.profile"]), body(srv["resumed.profile"])
    assert after["startTime"] == before["startTime"]  # the profile's start is kept
    assert after["nextSequenceId"] == 2  # reset to the highest resumed sequenceId + 1
    assert list(after) == ["params", "id", "execDuration", "startTime", "logDir", "nextSequenceId", "revision"]
    record = srv["resumed.manifest"]
    assert record["status"] == "RUNNING" and record["endTime"] == "N/A"
    assert srv["rerunning"].counts == {"RUNNING": 2}  # the same trials run again
    assert srv["resumed_done"].statuses[-1] == "DONE"
    assert [job["status"] for job in body(srv["resumed_done.trial_jobs"])] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(body(srv["resumed_done.trial_jobs"])) == 2
    stopped = srv["resumed_stopped.manifest"]
    assert stopped["status"] == "STOPPED" and isinstance(stopped["endTime"], int)


def test_view_is_read_only(srv: Session) -> None:
    assert srv["view"] is srv.exp("V")
    assert body(srv["viewed.check_status"])["status"] == "VIEWED"
    assert [job.trialJobId for job in srv["viewed.trials"]] == srv.trial_ids[:2]
    viewed = srv["viewed.manifest"]
    assert viewed["status"] == "VIEWED" and viewed["endTime"] == "N/A"
    assert isinstance(srv["readonly.update"], ReadonlyExperimentError)
    assert isinstance(srv["readonly.kill"], ReadonlyExperimentError)
    for name, what in (("readonly.add_trial", "add customized trial job"), ("readonly.import_data", "import data"),
                       ("readonly.put", "update experiment profile")):
        assert body(srv[name], 500) == {"error": f"Error: can not {what} in readonly mode!"}
    assert srv["stop_view"] is None
    record = srv["view_stopped.manifest"]
    assert record["status"] == "STOPPED" and record["endTime"] == "N/A"  # a view never sets endTime


def test_unknown_experiment(srv: Session) -> None:
    assert isinstance(srv["resume_unknown"], ExperimentNotFoundError)
    assert isinstance(srv["view_unknown"], ExperimentNotFoundError)


def test_url_prefix(scenario: Scenario, target: TargetKind) -> None:
    s = scenario("url_prefix")
    assert s["run"] is True and s["status"] == "DONE"
    assert body(s["inside"]) == {"status": "DONE", "errors": []}
    for name in ("outside", "other_prefix"):
        answer = s[name]
        assert (answer.status, answer.text) == (404, 'Outside prefix "/pre"')
        assert answer.content_type.startswith("text/html")
    assert s["manifest"]["prefixUrl"] == "pre"
    assert body(s["metadata"])["prefixUrl"] == "pre"
    assert s["stopped.manifest"]["status"] == "STOPPED"


def test_metadata_without_manifest_record(scenario: Scenario, target: TargetKind) -> None:
    """README deliberate fix: the real manager never answers; the fakes answer 404."""
    answer = scenario("url_prefix")["fix.metadata_without_record"]
    if target.is_fake:
        assert answer.status == 404 and "no manifest record" in answer.json()["error"]
    else:
        assert answer.timed_out
