"""fakes.trial_record: the compact record folds events exactly as a plain dict fold does, key order included."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes.store import ExperimentStore
from fakes.trial_record import TERMINAL_EVENTS, LogDirectory, TrialRecord, status_after

EVENTS = ["WAITING", "RUNNING", "ADD_CUSTOMIZED", "ADD_HYPERPARAMETER", "ADD_RESUMED", "USER_TO_CANCEL",
          *sorted(TERMINAL_EVENTS)]
Event = Tuple[str, int, Optional[str], Optional[int], Optional[str]]


def dict_fold(events: List[Event]) -> Dict[str, Any]:
    """The reference: the data store's replay written as a fold over a plain dict."""
    record: Dict[str, Any] = {}
    for event, timestamp, log_path, sequence_id, env_id in events:
        if not record:
            record = {"trialJobId": "Ab1cd", "status": status_after("UNKNOWN", event), "hyperParameters": []}
        if event in ("RUNNING", "WAITING"):
            if event == "RUNNING":
                record["startTime"] = timestamp
            if log_path is not None:
                record["logPath"] = log_path
            record.setdefault("startTime", timestamp)
        elif event in TERMINAL_EVENTS:
            if log_path is not None:
                record["logPath"] = log_path
            record["endTime"] = timestamp
            record.setdefault("startTime", timestamp)
        record["status"] = status_after(record["status"], event)
        if sequence_id is not None and "sequenceId" not in record:
            record["sequenceId"] = sequence_id
        if env_id:
            record["envId"] = env_id
    return record


events = st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 2 ** 45),
                            st.none() | st.sampled_from(["/exp/trials/Ab1cd", "/elsewhere", ""]),
                            st.none() | st.integers(0, 5), st.sampled_from([None, "", "local-env"])),
                  min_size=1, max_size=8)


@given(events)
def test_the_record_folds_events_as_the_dict_fold(trial_events: List[Event]) -> None:
    record = TrialRecord("Ab1cd", trial_events[0][0])
    for event, timestamp, log_path, sequence_id, env_id in trial_events:
        record.fold(event, timestamp, log_path, sequence_id, env_id)
    expected = dict_fold(trial_events)
    assert list(record.as_dict().items()) == list(expected.items())
    for key in ("startTime", "endTime", "logPath", "sequenceId", "envId", "finalMetricData"):
        assert (key in record) == (key in expected)


@given(events)
def test_the_store_keeps_a_log_directory_and_shows_the_path(trial_events: List[Event]) -> None:
    store = ExperimentStore("exp")
    for event, timestamp, log_path, sequence_id, env_id in trial_events:
        store.add_event(event, "Ab1cd", timestamp, log_path=log_path, sequence_id=sequence_id, env_id=env_id)
    listed = store.trials()[0]
    expected = dict_fold(trial_events)
    assert list(listed) == list(expected) and listed.get("logPath") == expected.get("logPath")


def test_a_path_made_of_the_trial_id_keeps_one_directory_per_experiment() -> None:
    store = ExperimentStore("exp")
    for trial_job_id in ("Ab1cd", "Ef2gh"):
        store.add_event("RUNNING", trial_job_id, 1, log_path=f"/exp/trials/{trial_job_id}")
    store.add_event("RUNNING", "Ij3kl", 1, log_path="/somewhere/else")
    logs = [store._records[trial_job_id]._log for trial_job_id in ("Ab1cd", "Ef2gh", "Ij3kl")]
    assert type(logs[0]) is LogDirectory and logs[0] is logs[1] and logs[0] == "/exp/trials/"
    assert type(logs[2]) is str and logs[2] == "/somewhere/else"
    assert [job["logPath"] for job in store.trials()] == ["/exp/trials/Ab1cd", "/exp/trials/Ef2gh", "/somewhere/else"]
    assert type(store.trials()[0]["logPath"]) is str


def test_hyper_parameter_strings_are_kept_bare_then_listed() -> None:
    record = TrialRecord("Ab1cd", "WAITING")
    assert record["hyperParameters"] == [] and record.hyper_parameters == []
    record.add_hyper_parameter("a")
    assert record["hyperParameters"] == ["a"]
    record.add_hyper_parameter("b")
    record.add_hyper_parameter("c")
    shown = record["hyperParameters"]
    assert shown == ["a", "b", "c"]
    shown.append("d")  # a new list each time
    assert record.hyper_parameters == ["a", "b", "c"]


def test_a_key_the_record_lacks_raises_key_error() -> None:
    record = TrialRecord("Ab1cd", "WAITING")
    with pytest.raises(KeyError, match="endTime"):
        record["endTime"]
    with pytest.raises(KeyError, match="anything"):
        record["anything"]
    assert "TrialRecord({'trialJobId': 'Ab1cd', 'status': 'WAITING', 'hyperParameters': []})" == repr(record)
