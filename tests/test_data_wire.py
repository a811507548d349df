"""nni_exp.data's ``*_from_wire`` builders give exactly what the constructors give (``TrialJob(**record)``
...): equal objects with the same ``__dict__`` in the same order, or the same error."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict, List, Tuple

from hypothesis import given
from hypothesis import strategies as st

from nni_exp.data import (
    TrialHyperParameters,
    TrialJob,
    TrialMetricData,
    TrialResult,
    metric_from_wire,
    result_from_wire,
    trial_job_from_wire,
)

scalars = (st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False)
           | st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
#: Texts a field encoded as JSON may hold: JSON of any value, and a few that are not JSON.
encoded = values.map(json.dumps) | st.sampled_from(["", "{", "NaN", " 1", "1 ", "[1] x"])


def metric_records() -> st.SearchStrategy[Dict[str, Any]]:
    return st.fixed_dictionaries({
        "timestamp": st.integers(0, 2 ** 45), "trialJobId": st.text(max_size=5),
        "parameterId": st.none() | st.text(max_size=3), "type": st.sampled_from(["FINAL", "PERIODICAL"]),
        "sequence": st.integers(0, 10), "data": encoded.map(json.dumps) | encoded,
    })


def hyper_parameter_texts() -> st.SearchStrategy[str]:
    usual = st.fixed_dictionaries({"parameter_id": st.integers(0, 9) | st.none(),
                                   "parameter_source": st.sampled_from(["algorithm", "customized", "resumed"]),
                                   "parameters": st.dictionaries(st.text(max_size=3), values, max_size=3),
                                   "parameter_index": st.integers(0, 3)})
    return usual.flatmap(mutations).map(json.dumps) | encoded


def trial_records() -> st.SearchStrategy[Dict[str, Any]]:
    usual = st.fixed_dictionaries(
        {"trialJobId": st.text(max_size=5), "status": st.sampled_from(["RUNNING", "SUCCEEDED", "FAILED"]),
         "hyperParameters": st.lists(hyper_parameter_texts(), max_size=2), "startTime": st.integers(0, 2 ** 45),
         "sequenceId": st.integers(0, 99)},
        optional={"logPath": st.text(max_size=5), "endTime": st.integers(0, 2 ** 45), "envId": st.just("local-env"),
                  "finalMetricData": st.lists(metric_records().flatmap(mutations), max_size=2),
                  "stderrPath": st.text(max_size=5), "message": st.none() | st.text(max_size=3)})
    return usual.flatmap(mutations)


def mutations(record: Dict[str, Any]) -> st.SearchStrategy[Any]:
    """``record`` as the manager sends it, or with a key dropped, added (``self`` too), renamed or moved,
    or not a dict at all."""
    keys = sorted(record)

    def without(key: str) -> Dict[str, Any]:
        return {k: v for k, v in record.items() if k != key}

    def moved_last(key: str) -> Dict[str, Any]:
        return {**without(key), key: record[key]}

    options = [st.just(record),
               st.sampled_from(["self", "kwargs", "extra", "data"]).map(lambda key: {**record, key: 1}),
               st.sampled_from([None, [], "text", 3])]
    if keys:
        options += [st.sampled_from(keys).map(without), st.sampled_from(keys).map(moved_last)]
    return st.one_of(options)


def outcome(build: Callable[[Any], Any], record: Any) -> Tuple[str, Any]:
    """What ``build(record)`` gives, in a comparable form: the error's type and text, or each object's class
    and ``__dict__`` items in order (nested records too)."""
    try:
        built = build(copy.deepcopy(record))
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", (type(error), str(error))
    return "value", _shape(built)


def _shape(value: Any) -> Any:
    if isinstance(value, (TrialJob, TrialHyperParameters, TrialMetricData, TrialResult)):
        return type(value).__name__, [(key, _shape(item)) for key, item in vars(value).items()]
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return json.dumps(value)  # 1 and 1.0 differ, as do True and 1


def _constructor(cls: type) -> Callable[[Any], Any]:
    return lambda record: cls(**record)


@given(metric_records().flatmap(mutations))
def test_metric_from_wire_is_the_constructor(record: Any) -> None:
    assert outcome(metric_from_wire, record) == outcome(_constructor(TrialMetricData), record)


@given(st.fixed_dictionaries({"parameter": values, "value": encoded, "trialJobId": st.text(max_size=5)})
       .flatmap(mutations))
def test_result_from_wire_is_the_constructor(record: Any) -> None:
    assert outcome(result_from_wire, record) == outcome(_constructor(TrialResult), record)


@given(trial_records())
def test_trial_job_from_wire_is_the_constructor(record: Any) -> None:
    assert outcome(trial_job_from_wire, record) == outcome(_constructor(TrialJob), record)


def test_the_usual_records_take_the_fast_path_and_keep_the_constructors_order() -> None:
    hyper = '{"parameter_id":0,"parameter_source":"algorithm","parameters":{"x":0.25},"parameter_index":0}'
    metric = {"timestamp": 5, "trialJobId": "Ab1cd", "parameterId": "0", "type": "FINAL", "sequence": 0,
              "data": '"0.5"'}
    record = {"trialJobId": "Ab1cd", "status": "SUCCEEDED", "hyperParameters": [hyper], "startTime": 1,
              "logPath": "/l", "sequenceId": 0, "envId": "local-env", "endTime": 5, "finalMetricData": [metric]}
    job = trial_job_from_wire(copy.deepcopy(record))
    assert job == TrialJob(**copy.deepcopy(record))
    assert list(vars(job)) == list(vars(TrialJob(**copy.deepcopy(record))))
    assert list(vars(job.hyperParameters[0])) == ["parameter_id", "parameter_source", "parameters", "parameter_index",
                                                  "placement_constraint", "version_info"]
    assert job.hyperParameters[0].parameters == {"x": 0.25} and job.hyperParameters[0].version_info is None
    assert job.finalMetricData[0].data == 0.5 and job.message == "--" and job.stderrPath == ""
    # the decoded record became the metric's __dict__: nothing was copied
    wire_metric = copy.deepcopy(metric)
    assert vars(metric_from_wire(wire_metric)) is wire_metric


def test_a_record_lacking_a_required_key_fails_as_the_constructor_does_before_decoding_anything() -> None:
    metrics: List[Dict[str, Any]] = [{"timestamp": 5, "trialJobId": "Ab1cd", "parameterId": "0", "type": "FINAL",
                                      "sequence": 0, "data": '"0.5"'}]
    record = {"trialJobId": "Ab1cd", "status": "SUCCEEDED", "startTime": 1, "finalMetricData": metrics}
    assert outcome(trial_job_from_wire, record) == outcome(_constructor(TrialJob), record)
    assert outcome(trial_job_from_wire, record)[0] == "error"
    try:
        trial_job_from_wire(record)
    except TypeError:
        pass
    assert metrics[0]["data"] == '"0.5"'  # left as it came
