"""Scenario ``basic`` on every target: a run to DONE, every endpoint, the client API and its errors,
killing a SUCCEEDED trial, MAX_TRIAL_NUM revival, stop, and the deliberate fixes of the README."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

import pytest
import requests

from nni_exp import TrialJob, TrialMetricData, TrialResult
from nni_exp.errors import (
    ConfigError,
    ExperimentNotRunningError,
    ManagerUnreachableError,
    PortInUseError,
    TrialNotFoundError,
)

from .session import Session
from .targets import RawAnswer, TargetKind

Scenario = Callable[[str], Session]

TRIAL_KEYS = ["trialJobId", "status", "hyperParameters", "startTime", "logPath", "sequenceId", "envId"]
METRIC_KEYS = ["timestamp", "trialJobId", "parameterId", "type", "sequence", "data"]
PROFILE_KEYS = ["params", "id", "execDuration", "logDir", "startTime", "nextSequenceId", "revision"]
RECORD_KEYS = ["id", "port", "startTime", "endTime", "status", "platform", "experimentName", "tag", "pid",
               "webuiUrl", "logDir", "prefixUrl"]


def body(answer: RawAnswer, status: int = 200) -> Any:
    """The JSON body of a successful answer."""
    assert answer.status == status, (answer.status, answer.text[:300])
    assert answer.content_type.replace(" ", "").lower() == "application/json;charset=utf-8", answer.content_type
    return answer.json()


def decode_twice(text: str) -> Any:
    """A metric's ``data``: JSON text of JSON text."""
    inner = json.loads(text)
    assert isinstance(inner, str), f"metric data is not encoded twice: {text!r}"
    return json.loads(inner)


def stats(answer: RawAnswer) -> List[tuple]:
    return [(item["trialJobStatus"], item["trialJobNumber"]) for item in body(answer)]


@pytest.fixture
def basic(scenario: Scenario) -> Session:
    return scenario("basic")


def test_status_sequence_to_done(basic: Session) -> None:
    assert basic["start"] is None
    assert basic["two_running"].counts == {"RUNNING": 2}
    done = basic["to_done"]
    assert done.statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    assert done.counts == {"SUCCEEDED": 4}


def test_while_running(basic: Session) -> None:
    assert body(basic["running.check_status"]) == {"status": "RUNNING", "errors": []}
    jobs = body(basic["running.trial_jobs"])
    assert [list(job) for job in jobs] == [TRIAL_KEYS, TRIAL_KEYS]  # no endTime, no finalMetricData, no WAITING
    assert [job["status"] for job in jobs] == ["RUNNING", "RUNNING"]
    assert [job["sequenceId"] for job in jobs] == [0, 1]
    assert stats(basic["running.statistics"]) == [("RUNNING", 2)]
    profile = body(basic["running.profile"])
    assert list(profile) == PROFILE_KEYS  # endTime absent (not null) while running
    assert profile["nextSequenceId"] == 2 and isinstance(profile["execDuration"], int)


def test_trial_jobs_at_done(basic: Session) -> None:
    jobs = body(basic["done.trial-jobs"])
    assert [job["status"] for job in jobs] == ["SUCCEEDED"] * 4
    for index, job in enumerate(jobs):
        assert list(job) == TRIAL_KEYS + ["endTime", "finalMetricData"]
        assert job["sequenceId"] == index
        assert job["logPath"].endswith(f"/environments/local-env/trials/{job['trialJobId']}")
        (hyper,) = job["hyperParameters"]
        assert isinstance(hyper, str)  # JSON text
        parsed = json.loads(hyper)
        assert list(parsed) == ["parameter_id", "parameter_source", "parameters", "parameter_index"]
        assert (parsed["parameter_id"], parsed["parameter_source"]) == (index, "algorithm")
        assert parsed["parameter_index"] == 0
        assert 0 <= parsed["parameters"]["x"] <= 1
        (final,) = job["finalMetricData"]
        assert list(final) == METRIC_KEYS and final["type"] == "FINAL"
        # a string; on the real manager not always this trial's (a race of its local training service)
        assert final["parameterId"] in {"0", "1", "2", "3"}
    assert body(basic["done.trial-jobs/T0"]) == jobs[0]
    assert body(basic["done.trial-jobs?status=SUCCEEDED"]) == jobs
    assert body(basic["done.trial-jobs?status=NOPE"]) == []
    assert stats(basic["done.job-statistics"]) == [("SUCCEEDED", 4)]
    assert body(basic["done.check-status"]) == {"status": "DONE", "errors": []}
    assert body(basic["done.CHECK-STATUS/"]) == {"status": "DONE", "errors": []}  # case, trailing slash


def test_metrics_at_done(basic: Session) -> None:
    metrics = body(basic["done.metric-data"])
    assert len(metrics) == 12 and all(list(m) == METRIC_KEYS for m in metrics)
    for metric in metrics:
        assert isinstance(metric["parameterId"], str) and isinstance(metric["data"], str)
        assert isinstance(decode_twice(metric["data"]), float)
    t0 = basic.trial_id(0)
    own = body(basic["done.metric-data/T0"])
    assert {m["trialJobId"] for m in own} == {t0}
    assert sorted((m["type"], m["sequence"]) for m in own) == [("FINAL", 0), ("PERIODICAL", 0), ("PERIODICAL", 1)]
    periodical, final = [m for m in own if m["type"] == "PERIODICAL"], [m for m in own if m["type"] == "FINAL"]
    assert decode_twice(periodical[1]["data"]) == pytest.approx(decode_twice(final[0]["data"]) * 0.2)
    assert {m["type"] for m in body(basic["done.metric-data?type=FINAL"])} == {"FINAL"}
    assert len(body(basic["done.metric-data?type=PERIODICAL"])) == 8
    assert body(basic["done.metric-data/doesnotexist"]) == []
    latest = body(basic["done.metric-data-latest"])
    assert [(m["type"], m["sequence"]) for m in latest] == [("FINAL", 0)] * 4 + [("PERIODICAL", 1)] * 4
    assert {m["trialJobId"] for m in body(basic["done.metric-data-range/0/1"])} == {t0, basic.trial_id(1)}
    assert body(basic["done.metric-data-range/b/a"]) == []


def test_other_endpoints_at_done(basic: Session) -> None:
    exported = body(basic["done.export-data"])
    assert [list(item) for item in exported] == [["parameter", "value", "trialJobId"]] * 4
    for item in exported:
        assert isinstance(item["value"], str) and isinstance(json.loads(item["value"]), float)  # JSON text
    profile = body(basic["done.experiment"])
    assert list(profile) == PROFILE_KEYS[:5] + ["endTime"] + PROFILE_KEYS[5:]
    assert profile["params"]["maxTrialNumber"] == 4 and profile["nextSequenceId"] == 4
    record = body(basic["done.experiment-metadata"])
    assert list(record) == RECORD_KEYS and record["status"] == "DONE" and isinstance(record["endTime"], int)
    assert body(basic["done.experiments-info"]) == [record]
    assert body(basic["done.experiment/imported-data"]) == []
    assert body(basic["done.tensorboard-tasks"]) == []
    version = basic["done.version"]
    assert (version.status, version.text) == (200, "3.0.0") and "application/json" in version.content_type
    log = basic["done.trial-file/T0/trial.log"]
    assert log.status == 200 and log.content_type.startswith("text/plain")
    stdout = basic["done.trial-file/T0/stdout"]
    assert (stdout.status, stdout.text) == (200, "stdout is empty.")
    missing = basic["done.trial-file/doesnotexist/trial.log"]
    assert missing.status == 500 and body(missing, 500)["error"].startswith("ENOENT: no such file or directory")
    assert body(basic["done.tensorboard/doesnotexist"], 500) == {"error": "Tensorboard task not found"}


def test_client_api_at_done(basic: Session) -> None:
    assert basic["api.status"] == "DONE"
    jobs = basic["api.trials"]
    assert all(isinstance(job, TrialJob) for job in jobs) and [job.status for job in jobs] == ["SUCCEEDED"] * 4
    assert jobs[0].hyperParameters[0].parameter_source == "algorithm"
    assert basic["api.trial"].trialJobId == basic.trial_id(0)
    assert basic["api.statistics"] == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 4}]
    metrics: Dict[str, List[TrialMetricData]] = basic["api.metrics"]
    assert set(metrics) == set(basic.trial_ids[:4])
    assert all(isinstance(m.data, float) and isinstance(m.parameterId, str) for ms in metrics.values() for m in ms)
    assert list(basic["api.metrics_of_trial"]) == [basic.trial_id(0)]
    exported: List[TrialResult] = basic["api.export"]
    assert len(exported) == 4 and all(isinstance(r.value, float) for r in exported)
    assert basic["api.profile"]["id"] == basic.exp("A").id
    assert basic["api.metadata"]["id"] == basic.exp("A").id and basic["api.metadata"]["status"] == "DONE"
    assert basic["api.all_metadata"] == [basic["api.metadata"]]
    connected = basic["api.connect"]
    assert connected.id == basic.exp("A").id


def test_client_api_errors(basic: Session) -> None:
    assert isinstance(basic["not_running"], ExperimentNotRunningError)
    for name in ("error.get_unknown_trial", "error.kill_unknown_trial"):
        error = basic[name]
        assert isinstance(error, TrialNotFoundError)
        assert isinstance(error, TypeError) and isinstance(error, requests.HTTPError)  # what NNI raised
    for name, field in (("error.concurrency", "trial_concurrency"), ("error.max_trial_number", "max_trial_number"),
                        ("error.duration", "max_experiment_duration"), ("error.search_space", "search_space")):
        assert isinstance(basic[name], ConfigError) and basic[name].field == field
    assert isinstance(basic["error.port_in_use"], PortInUseError)
    assert isinstance(basic["stopped.status"], ExperimentNotRunningError)
    assert isinstance(basic["stopped.connect"], ManagerUnreachableError)


def test_deliberate_fixes(basic: Session, target: TargetKind) -> None:
    """Each README row exercised here: the real manager's answer, and the fakes' documented fix."""
    get_unknown = basic["fix.get_unknown_trial"]
    delete_unknown = basic["fix.delete_unknown_trial"]
    route = basic["fix.unknown_route"]
    malformed = basic["fix.malformed_json"]
    update_type = basic["fix.unknown_update_type"]
    not_number = basic["fix.concurrency_not_number"]
    import_data = basic["fix.import_data_not_list"]
    if target.is_fake:
        assert get_unknown.status == 404 and "not found" in body(get_unknown, 404)["error"]
        assert delete_unknown.status == 404 and "not found" in body(delete_unknown, 404)["error"]
        assert route.status == 404 and "no such route" in body(route, 404)["error"]
        assert malformed.status == 400 and "malformed JSON body" in body(malformed, 400)["error"]
        assert update_type.status == 400 and "unknown update_type" in body(update_type, 400)["error"]
        assert not_number.status == 400 and "must be a number" in body(not_number, 400)["error"]
        assert import_data.status == 400 and "must be a list" in body(import_data, 400)["error"]
    else:
        assert (get_unknown.status, get_unknown.text) == (200, "")
        assert delete_unknown.status == 500 and "isEarlyStopped" in body(delete_unknown, 500)["error"]
        assert route.status == 200 and route.text.lower().startswith("<!doctype html>")
        assert malformed.status == 400 and malformed.content_type.startswith("text/html")
        assert update_type.timed_out
        assert (not_number.status, not_number.text) == (200, "")
        assert (import_data.status, import_data.text) == (200, "")


def test_kill_succeeded_trial(basic: Session) -> None:
    assert basic["kill_succeeded"] is None and basic["kill_again"] is None
    trial = body(basic["killed.trial"])
    done = body(basic["done.trial-jobs/T0"])
    assert trial["status"] == "USER_CANCELED" and "finalMetricData" not in trial
    assert trial["endTime"] == done["endTime"]  # kept
    assert body(basic["killed_again.trial"]) == trial
    assert stats(basic["killed.statistics"]) == [("USER_CANCELED", 1), ("SUCCEEDED", 3)]
    assert basic.trial_id(0) not in {item["trialJobId"] for item in body(basic["killed.export"])}
    assert len(body(basic["killed.metrics"])) == 3  # its metrics stay
    assert body(basic["killed.check_status"])["status"] == "DONE"


def test_max_trial_number_revives_done(basic: Session) -> None:
    assert basic["revived"].statuses[-1] == "RUNNING"
    profile = body(basic["revived.running_profile"])
    assert "endTime" not in profile and profile["params"]["maxTrialNumber"] == 5
    # no trial was waiting: nothing starts until the concurrency grows
    assert body(basic["revived.check_status"])["status"] == "RUNNING"
    assert stats(basic["revived.statistics"]) == [("USER_CANCELED", 1), ("SUCCEEDED", 3)]
    assert basic["revived_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    jobs = body(basic["revived.trial_jobs"])
    assert [job["status"] for job in jobs] == ["USER_CANCELED"] + ["SUCCEEDED"] * 4
    profile = body(basic["revived.profile"])
    assert list(profile) == PROFILE_KEYS + ["endTime"]  # endTime removed at revival, added back at the end
    assert profile["nextSequenceId"] == 5 and profile["params"]["trialConcurrency"] == 3


def test_post_experiment_twice(basic: Session, target: TargetKind) -> None:
    """README: the real manager resets half the profile (undefined behaviour); the fakes keep it."""
    assert body(basic["post_again"]) == {"experiment_id": basic.exp("A").id}
    profile = body(basic["post_again.profile"])
    before = body(basic["revived.profile"])
    if target.is_fake:
        assert profile == before
    else:  # a new start time, the posted config (maxTrialNumber back to 4), counters reset or not ...
        assert profile["startTime"] > before["startTime"] and profile["params"]["maxTrialNumber"] == 4


def test_stop_writes_the_manifest(basic: Session) -> None:
    assert basic["stop"] is None
    record = basic["stopped.manifest"]
    assert list(record) == RECORD_KEYS
    assert record["status"] == "STOPPED" and isinstance(record["endTime"], int)
