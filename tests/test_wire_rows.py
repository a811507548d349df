"""The store's answers as values are what their wire texts decode to, and the in-memory backend takes them
without writing any text."""

from __future__ import annotations

import copy
import functools
import gc
import json
from typing import Any, Callable, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeManager, router
from fakes.router import RouterResponse
from fakes.store import ExperimentStore
from fakes.wire_rows import (
    METRIC_FIELDS,
    kept_listed_trial,
    listed_trial_value,
    metric_json,
    metric_value,
    plain_listed_trial,
)
from nni_exp import Experiment

from .conftest import make_config, three_second_trial
from .json_equality import same_json

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2 ** 80), 2 ** 80) | st.floats()
           | st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
#: A metric row: the usual column types most of the time, anything JSON in any column otherwise.
usual_rows = st.tuples(st.integers(0, 2 ** 45), st.text(max_size=6), st.none() | st.text(max_size=3),
                       st.sampled_from(["PERIODICAL", "FINAL"]), st.integers(-3, 2 ** 70), st.text(max_size=12))
metric_rows = usual_rows | st.tuples(*[json_values] * 6) | usual_rows.flatmap(
    lambda row: st.integers(0, 5).flatmap(lambda column: json_values.map(
        lambda value: row[:column] + (value,) + row[column + 1:])))


def outcome(function: Callable[[], Any]) -> Tuple[str, Any]:
    try:
        return "value", function()
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", (type(error), str(error))


def same_outcome(first: Tuple[str, Any], second: Tuple[str, Any]) -> bool:
    return first[0] == second[0] and (same_json(first[1], second[1]) if first[0] == "value" else first == second)


def test_same_json_tells_apart_what_equality_does_not() -> None:
    nan = float("nan")
    assert same_json({"a": [1, 2.5, None, True, "x"], "b": nan}, {"a": [1, 2.5, None, True, "x"], "b": nan})
    for first, second in [(1, 1.0), (1, True), (0, False), ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ([1], (1,)),
                          ([1, 2], [1]), ({"a": [1]}, {"a": [1.0]}), (nan, 0.0), ("1", 1)]:
        assert not same_json(first, second) and not same_json(second, first), (first, second)


@given(metric_rows)
def test_a_metric_rows_value_is_what_its_text_decodes_to(row: Tuple[Any, ...]) -> None:
    assert same_outcome(outcome(lambda: metric_value(row)), outcome(lambda: json.loads(metric_json(row))))


@given(st.dictionaries(st.text(max_size=4) | st.sampled_from(["hyperParameters", "finalMetricData"]), json_values,
                       max_size=4)
       | st.fixed_dictionaries({"trialJobId": st.text(max_size=4), "hyperParameters": st.lists(json_values, max_size=2),
                                "finalMetricData": st.lists(metric_rows.map(lambda row: dict(zip(METRIC_FIELDS, row)))
                                                            | json_values, max_size=2)}))
def test_a_kept_plain_listed_trials_value_is_what_its_text_decodes_to(item: dict) -> None:
    if plain_listed_trial(item):
        text = router.js_dumps(item)
        kept = kept_listed_trial(copy.deepcopy(item))
        first, second = listed_trial_value(kept), listed_trial_value(kept)
        assert same_json(first, json.loads(text)) and same_json(second, json.loads(text))
        for key in ("hyperParameters", "finalMetricData"):  # new lists and dicts on each call
            if isinstance(first.get(key), list):
                assert first[key] is not second[key]
                assert all(a is not b for a, b in zip(first[key], second[key]) if isinstance(a, dict))


def test_the_kept_form_is_not_tracked_by_the_garbage_collector() -> None:
    kept = kept_listed_trial({"trialJobId": "a", "status": "SUCCEEDED", "hyperParameters": ["{}"], "startTime": 1,
                              "finalMetricData": [dict(zip(METRIC_FIELDS, (1, "a", "0", "FINAL", 0, '"1"')))]})
    for _ in range(2):  # a collection untracks a dict whose values it found untracked
        gc.collect()
    assert not gc.is_tracked(kept)


def test_floats_and_other_containers_are_not_plain() -> None:
    usual = {"trialJobId": "a", "hyperParameters": ["{}"], "finalMetricData": [dict(zip(METRIC_FIELDS, (
        1, "a", "0", "FINAL", 0, '"1"')))]}
    assert plain_listed_trial(usual)
    for key, value in [("startTime", 1.0), ("startTime", [1]), ("hyperParameters", [1]), ("other", ["x"]),
                       ("finalMetricData", [{"timestamp": 1}]), ("finalMetricData", ["x"])]:
        assert not plain_listed_trial({**usual, key: value}), (key, value)
    assert not plain_listed_trial({**usual, 1: "x"})


#: A store's history: trial events with arbitrary columns, metric rows, and queries in between.
events = st.tuples(st.just("event"), st.sampled_from(["WAITING", "RUNNING", "SUCCEEDED", "FAILED", "USER_TO_CANCEL",
                                                       "ADD_HYPERPARAMETER", "ADD_RESUMED"]),
                   st.sampled_from(["t1", "t2", "t3"]), st.integers(0, 2 ** 42) | json_values,
                   st.none() | json_values.map(json.dumps) | st.just('{"parameter_index": 1, "parameters": {}}'),
                   st.none() | st.just("/logs/t1") | st.text(max_size=4),
                   st.none() | st.integers(0, 3) | json_values, st.none() | st.text(max_size=3))
metrics = st.tuples(st.just("metric"), metric_rows.map(
    lambda row: (row[0], row[1] if row[1] not in ("", None) and not isinstance(row[1], (list, dict)) else "t1")
    + row[2:]))
queries = st.tuples(st.just("query"), st.none() | st.sampled_from(["SUCCEEDED", "FAILED", "RUNNING"]),
                    st.none() | st.sampled_from(["t1", "t2", "t9"]),
                    st.none() | st.sampled_from(["FINAL", "PERIODICAL"]))


def check_answers(store: ExperimentStore, status: Any, trial_job_id: Any, metric_type: Any) -> None:
    for value, text in [(functools.partial(store.trials_value, status), functools.partial(store.trials_json, status)),
                        (functools.partial(store.metrics_value, trial_job_id, metric_type),
                         functools.partial(store.metrics_json, trial_job_id, metric_type))]:
        expected = outcome(functools.partial(_decoded, text))
        assert same_outcome(outcome(value), expected)
        assert same_outcome(outcome(value), expected)  # from what is kept, the same again


def _decoded(text: Callable[[], str]) -> Any:
    return json.loads(text())


@settings(max_examples=200)
@given(st.lists(events | metrics | queries, max_size=12), queries)
def test_the_stores_answers_as_values_are_what_their_texts_decode_to(history: List[tuple], last: tuple) -> None:
    store = ExperimentStore("exp")
    for step in history + [last]:
        if step[0] == "event":
            outcome(functools.partial(store.add_event, *step[1:]))  # (event, trial id, timestamp, data, log ...)
        elif step[0] == "metric":
            store.add_metric(dict(zip(METRIC_FIELDS, step[1])))
        else:
            check_answers(store, *step[1:])


def test_values_are_new_on_each_call() -> None:
    store = ExperimentStore("exp")
    store.add_event("WAITING", "t1", 1, '{"parameter_id": 0, "parameters": {"x": 1}}', "/logs/t1", 0)
    store.add_event("SUCCEEDED", "t1", 2)
    store.add_metric(dict(zip(METRIC_FIELDS, (3, "t1", "0", "FINAL", 0, '"0.5"'))))
    first, metrics = store.trials_value(), store.metrics_value()
    first[0]["status"] = "changed"
    first[0]["hyperParameters"].append("x")
    first[0]["finalMetricData"][0]["data"] = "changed"
    metrics[0]["data"] = "changed"
    assert same_json(store.trials_value(), json.loads(store.trials_json()))
    assert same_json(store.metrics_value(), json.loads(store.metrics_json()))
    assert store.trials_value()[0]["finalMetricData"][0]["data"] == '"0.5"'


@pytest.fixture
def unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``RouterResponse.json`` without the suite's comparison with the text (see ``conftest.py``)."""
    monkeypatch.setattr(RouterResponse, "json", RouterResponse.json.__wrapped__)  # type: ignore[attr-defined]


def test_the_in_memory_backend_writes_no_text_for_the_large_lists(unchecked: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeManager(three_second_trial, seed=3)
    experiment = Experiment(make_config(max_trial_number=6), backend=fake)
    experiment.run(8123)
    try:
        texts = {path: fake.handle(8123, "GET", f"{router.API_ROOT}{path}").body
                 for path in ("/trial-jobs", "/metric-data")}

        def no_text(*_args: Any) -> str:
            raise AssertionError("wrote a text")

        for name in ("trials_json", "metrics_json"):
            monkeypatch.setattr(ExperimentStore, name, no_text)
        assert same_json(fake.request("GET", 8123, "/trial-jobs"), json.loads(texts["/trial-jobs"]))
        assert same_json(fake.request("GET", 8123, "/metric-data"), json.loads(texts["/metric-data"]))
        assert len(experiment.list_trial_jobs()) == 6 and sum(map(len, experiment.get_job_metrics().values())) == 6
        with pytest.raises(AssertionError, match="wrote a text"):  # a raw HTTP request gets the text, written now
            fake.handle(8123, "GET", f"{router.API_ROOT}/trial-jobs")
    finally:
        experiment.stop()


def test_an_answer_given_by_its_value_writes_its_text_once_when_read(unchecked: None) -> None:
    written: List[int] = []

    def encode() -> str:
        written.append(1)
        return '[1, {"a": 2}]'

    answer = RouterResponse.of_value(200, lambda: [1, {"a": 2}], encode)
    with_headers = answer.with_headers((("X-A", "b"),))
    assert answer.has_value and with_headers.has_value
    assert answer.json() == [1, {"a": 2}] and with_headers.json() == [1, {"a": 2}] and written == []
    assert answer.written() is answer and answer.body == '[1, {"a": 2}]' and written == [1]
    assert with_headers.headers == (("X-A", "b"),) and with_headers.body == '[1, {"a": 2}]' and written == [1, 1]
    assert answer == RouterResponse(200, '[1, {"a": 2}]') and answer != RouterResponse(200, "[1]")
    assert repr(answer) == """RouterResponse(status=200, body='[1, {"a": 2}]', content_type='application/json; \
charset=utf-8', headers=())"""
    assert hash(answer) == hash(RouterResponse(200, '[1, {"a": 2}]'))
    with pytest.raises(AttributeError, match="immutable"):
        answer.status = 404  # type: ignore[misc]
    plain = RouterResponse(500, '{"error": "x"}')
    assert not plain.has_value and plain.json() == {"error": "x"} and RouterResponse(200).json() is None
