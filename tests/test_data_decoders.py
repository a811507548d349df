"""nni_exp.data's decoders (trial_job, hyper_parameters, metric_data, trial_result) are the classes called
with keyword arguments: the same objects, attributes in the same order, or the same error."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nni_exp import data
from nni_exp.data import TrialHyperParameters, TrialJob, TrialMetricData, TrialResult

scalars = (st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False)
           | st.text(max_size=6))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
#: A value's JSON text, sometimes spoiled (cut short or followed by junk).
json_texts = (json_values.map(json.dumps)
              | json_values.map(json.dumps).map(lambda text: text[:-1])
              | json_values.map(lambda value: json.dumps(value) + "x"))


def items(required: Dict[str, st.SearchStrategy[Any]],
          optional: Dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Dicts with the ``required`` keys (with their usual values or any) and any of the ``optional``
    ones, sometimes an unknown key, sometimes a required key missing; sometimes not a dict at all."""
    usual = st.fixed_dictionaries({key: strategy | json_values for key, strategy in required.items()},
                                  optional=optional)
    spoiled = st.fixed_dictionaries({}, optional={key: strategy | json_values
                                                  for key, strategy in {**required, **optional}.items()})
    extra = st.dictionaries(st.sampled_from(["envId", "other", "message", "self", "kwargs"]) | st.integers(0, 1),
                            json_values, max_size=1)
    dicts = st.tuples(usual | spoiled, extra | st.just({})).map(lambda pair: {**pair[0], **pair[1]})
    return dicts | st.just([]) | st.just("x") | st.integers()


metric_items = items({
    "timestamp": st.integers(0, 2 ** 42), "trialJobId": st.text(max_size=5),
    "parameterId": st.none() | st.text(max_size=3),
    "type": st.sampled_from(["FINAL", "PERIODICAL"]), "sequence": st.integers(0, 9),
    "data": json_texts.map(json.dumps) | json_texts | st.integers(),
}, {})
hyper_texts = st.fixed_dictionaries(
    {"parameter_id": st.none() | st.integers(0, 99), "parameter_source": st.sampled_from(["algorithm", "customized"]),
     "parameters": st.dictionaries(st.text(max_size=3), json_values, max_size=3)},
    optional={"parameter_index": st.integers(0, 3), "placement_constraint": json_values, "version_info": json_values,
              "unknown": json_values},
).map(json.dumps) | json_texts
job_items = items({
    "trialJobId": st.text(max_size=5), "status": st.sampled_from(["RUNNING", "SUCCEEDED", "FAILED"]),
    "startTime": st.integers(0, 2 ** 42), "sequenceId": st.integers(0, 99),
}, {
    "logPath": st.text(max_size=8), "endTime": st.integers(0, 2 ** 42), "stderrPath": st.text(max_size=8),
    "hyperParameters": st.lists(hyper_texts, max_size=2) | st.just(None) | st.text(max_size=2),
    "finalMetricData": st.lists(metric_items, max_size=2) | st.just(None), "message": st.text(max_size=3),
})
result_items = items({"parameter": json_values, "value": json_texts, "trialJobId": st.text(max_size=5)}, {})


def outcome(build: Callable[[Any], Any], item: Any) -> Tuple[str, Any]:
    """What building from ``item`` gives: the object's class and attributes (``vars``, order included,
    nested records likewise), or the error's type and message."""
    try:
        built = build(item)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", (type(error), str(error))
    return "value", _shown(built)


def _shown(value: Any) -> Any:
    if isinstance(value, (TrialJob, TrialMetricData, TrialHyperParameters, TrialResult)):
        return type(value).__name__, [(key, _shown(item)) for key, item in vars(value).items()]
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return repr(value)


def _decodes(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


hyper_values = hyper_texts.map(lambda text: json.loads(text) if _decodes(text) else text) | json_values


@pytest.mark.parametrize("decoder, cls, drawn", [
    (data.trial_job, TrialJob, job_items),
    (data.metric_data, TrialMetricData, metric_items),
    (data.hyper_parameters, TrialHyperParameters, hyper_values),
    (data.trial_result, TrialResult, result_items),
], ids=["trial_job", "metric_data", "hyper_parameters", "trial_result"])
@settings(max_examples=400)
@given(st.data())
def test_each_decoder_is_the_keyword_call(decoder: Callable[[Any], Any], cls: type, drawn: st.SearchStrategy[Any],
                                          draws: st.DataObject) -> None:
    item = draws.draw(drawn)
    assert outcome(decoder, item) == outcome(lambda value: cls(**value), item)


WIRE_JOB = {
    "trialJobId": "iT3pc", "status": "SUCCEEDED",
    "hyperParameters": ['{"parameter_id":0,"parameter_source":"algorithm","parameters":{"x":0.77},'
                        '"parameter_index":0}'],
    "startTime": 1795815262871, "logPath": "/w/trials/iT3pc", "sequenceId": 0, "envId": "local-env",
    "endTime": 1795815272223,
    "finalMetricData": [{"timestamp": 1795815267808, "trialJobId": "iT3pc", "parameterId": "0", "type": "FINAL",
                         "sequence": 0, "data": '"0.5"'}],
}


def test_a_listed_trial_decodes_on_the_fast_path() -> None:
    """The usual item is built without the keyword call (else the decoders would be no faster)."""
    original = TrialJob.__init__

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the keyword call was used")

    TrialJob.__init__ = refuse  # type: ignore[method-assign]
    TrialMetricData.__init__, metric_init = refuse, TrialMetricData.__init__  # type: ignore[method-assign]
    TrialHyperParameters.__init__, hyper_init = refuse, TrialHyperParameters.__init__  # type: ignore[method-assign]
    try:
        job = data.trial_job(WIRE_JOB)
    finally:
        TrialJob.__init__ = original  # type: ignore[method-assign]
        TrialMetricData.__init__ = metric_init  # type: ignore[method-assign]
        TrialHyperParameters.__init__ = hyper_init  # type: ignore[method-assign]
    assert job == TrialJob(**WIRE_JOB)
    assert job.hyperParameters[0].parameters == {"x": 0.77} and job.finalMetricData[0].data == 0.5


@pytest.mark.parametrize("item, error", [
    ({"trialJobId": "a", "status": "RUNNING"}, "missing 2 required positional arguments"),
    ({"trialJobId": "a", "status": "RUNNING", "startTime": 1, "sequenceId": 0, "hyperParameters": ["{"]},
     "Expecting property name"),
    ({"timestamp": 1, "trialJobId": "a", "parameterId": "0", "type": "FINAL", "sequence": 0, "junk": 1},
     "unexpected keyword argument 'junk'"),
])
def test_bad_items_fail_as_the_keyword_call(item: Dict[str, Any], error: str) -> None:
    build = data.trial_job if "status" in item else data.metric_data
    with pytest.raises((TypeError, ValueError), match=error):
        build(item)
