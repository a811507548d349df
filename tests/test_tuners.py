"""The fake manager's tuners (fakes.tuners), checked against NNI 3.0's own tuners where possible."""

from __future__ import annotations

import logging
import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.search_space import SearchSpaceError, parameters_key
from fakes.tuners import (
    BUILTIN_TUNERS,
    BatchSearchSpaceError,
    BatchTuner,
    CallableTuner,
    GridSearchTuner,
    NoMoreTrials,
    RandomTuner,
    Tuner,
    TunerArgumentError,
    UnknownTunerError,
    builtin_tuner_name,
    create_tuner,
)
from nni_exp.errors import ConfigError

DISCRETE_SPACES: list[dict[str, Any]] = [
    {"a": {"_type": "choice", "_value": [1, "x", 2.5]}, "b": {"_type": "randint", "_value": [-2, 2]}},
    {"lr": {"_type": "quniform", "_value": [0.1, 1.0, 0.25]}},
    {"lr": {"_type": "qloguniform", "_value": [1, 100, 10]}, "c": {"_type": "choice", "_value": [0, 1]}},
    {"q": {"_type": "quniform", "_value": [-5.5, 7.25, 1.5]}, "s": {"_type": "choice", "_value": [[1, 2], None]}},
    {"q": {"_type": "qloguniform", "_value": [0.5, 3.7, 0.7]}, "r": {"_type": "randint", "_value": [0, 1]}},
    {
        "layer": {"_type": "choice", "_value": [
            {"_name": "conv", "k": {"_type": "choice", "_value": [3, 5]},
             "lr": {"_type": "quniform", "_value": [0, 1, 0.5]}},
            {"_name": "pool", "size": {"_type": "randint", "_value": [2, 4]}},
            {"_name": "empty"},
        ]},
        "n": {"_type": "randint", "_value": [1, 3]},
        "opt": {"_type": "choice", "_value": [
            {"_name": "sgd", "m": {"_type": "choice", "_value": [0.0, 0.9]}}, {"_name": "adam"}]},
    },
]

CONTINUOUS_SPACES: list[dict[str, Any]] = [
    {"u": {"_type": "uniform", "_value": [0, 10]}, "l": {"_type": "loguniform", "_value": [0.001, 1]}},
    {"x": {"_type": "quniform", "_value": [2, 3, 1]}, "y": {"_type": "normal", "_value": [0, 1]},
     "c": {"_type": "choice", "_value": [5, 7]}},
    {"n": {"_type": "lognormal", "_value": [0, 1]}, "q": {"_type": "qnormal", "_value": [0, 5, 1]},
     "ql": {"_type": "qlognormal", "_value": [1, 1, 0.5]}},
]


def drain(tuner: Any, limit: int = 1000, exhausted: Any = NoMoreTrials) -> list[Any]:
    """Generate parameters until the tuner is exhausted (the list then ends with "END")."""
    out: list[Any] = []
    for parameter_id in range(limit):
        try:
            out.append(tuner.generate_parameters(parameter_id))
        except exhausted:
            out.append("END")
            break
    return out


def started(tuner: Any, space: dict[str, Any]) -> Any:
    tuner.update_search_space(space)
    return tuner


def same_values(a: Any, b: Any) -> bool:
    """Equal, with floats compared to 1e-12 (normal quantiles: erfinv vs NormalDist)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b) and type(a) is type(b)


@pytest.fixture
def nni_tuners() -> Any:
    pytest.importorskip("nni")
    logging.getLogger("nni").setLevel(logging.WARNING)
    import nni
    from nni.algorithms.hpo import batch_tuner, gridsearch_tuner, random_tuner

    class Real:
        NoMoreTrialError = nni.NoMoreTrialError
        GridSearchTuner = gridsearch_tuner.GridSearchTuner
        RandomTuner = random_tuner.RandomTuner
        BatchTuner = batch_tuner.BatchTuner

    return Real


def test_every_tuner_satisfies_the_protocol() -> None:
    for tuner in (RandomTuner(seed=1), GridSearchTuner(), BatchTuner(), CallableTuner(lambda i, s, r: {})):
        assert isinstance(tuner, Tuner)


# ---------------------------------------------------------------------------------------------
# GridSearch
# ---------------------------------------------------------------------------------------------


@pytest.mark.real_nni
@pytest.mark.parametrize("space", DISCRETE_SPACES)
def test_grid_search_order_equals_nni_on_discrete_spaces(space: dict[str, Any], nni_tuners: Any) -> None:
    expected = drain(started(nni_tuners.GridSearchTuner(), space), exhausted=nni_tuners.NoMoreTrialError)
    actual = drain(started(GridSearchTuner(), space))
    assert expected[-1] == "END"
    assert [parameters_key(p) for p in actual] == [parameters_key(p) for p in expected]


@pytest.mark.real_nni
@pytest.mark.parametrize("space", CONTINUOUS_SPACES)
def test_grid_search_refinement_follows_nni_on_continuous_spaces(space: dict[str, Any], nni_tuners: Any) -> None:
    expected = drain(started(nni_tuners.GridSearchTuner(), space), limit=300,
                     exhausted=nni_tuners.NoMoreTrialError)
    actual = drain(started(GridSearchTuner(), space), limit=300)
    assert len(actual) == len(expected) == 300
    mismatches = [(i, e, a) for i, (e, a) in enumerate(zip(expected, actual)) if not same_values(e, a)]
    assert not mismatches, mismatches[:3]


@pytest.mark.parametrize("space", DISCRETE_SPACES)
def test_grid_search_exhausts_without_repeating(space: dict[str, Any]) -> None:
    tuner = started(GridSearchTuner(), space)
    points = drain(tuner)
    assert points[-1] == "END"
    keys = [parameters_key(p) for p in points[:-1]]
    assert len(keys) == len(set(keys)) > 1
    with pytest.raises(NoMoreTrials):  # stays exhausted
        tuner.generate_parameters(10_000)


def test_grid_search_size_is_the_product_of_categorical_sizes() -> None:
    space = {
        "a": {"_type": "choice", "_value": list(range(4))},
        "b": {"_type": "randint", "_value": [10, 13]},
        "c": {"_type": "choice", "_value": ["x", "y"]},
    }
    points = drain(started(GridSearchTuner(), space))[:-1]
    assert len(points) == 4 * 3 * 2
    assert points[:4] == [
        {"a": 0, "b": 10, "c": "x"}, {"a": 0, "b": 10, "c": "y"},
        {"a": 0, "b": 11, "c": "x"}, {"a": 0, "b": 11, "c": "y"},
    ]
    assert points[-1] == {"a": 3, "b": 12, "c": "y"}


def test_grid_search_skips_imported_parameters() -> None:
    space = {"a": {"_type": "choice", "_value": [1, 2, 3]}}
    tuner = GridSearchTuner()
    tuner.update_search_space(space)
    tuner.import_data([{"parameter": {"a": 2}, "value": 0.5}, {"parameter": {"a": 9}, "value": 1}])
    assert drain(tuner) == [{"a": 1}, {"a": 3}, "END"]


@pytest.mark.real_nni
def test_grid_search_import_data_matches_nni(nni_tuners: Any) -> None:
    space = DISCRETE_SPACES[0]
    data = [{"parameter": {"a": "x", "b": 0}, "value": 1.0}, {"parameter": {"b": -2, "a": 1}, "value": 0.1},
            {"parameter": {"a": 2.5, "b": 1.0}, "value": 0.3}]  # 1.0 != 1: not skipped by NNI either
    expected_tuner = started(nni_tuners.GridSearchTuner(), space)
    expected_tuner.import_data(data)
    tuner = started(GridSearchTuner(), space)
    tuner.import_data(data)
    expected = drain(expected_tuner, exhausted=nni_tuners.NoMoreTrialError)
    assert drain(tuner) == expected
    assert len(expected) == 12 - 2 + 1


def test_grid_search_update_keeps_the_position_in_the_walk() -> None:
    """NNI's GridSearch keeps its position when the space changes (measured on the real manager: the
    quniform [0, 1, 0.5] updated to [0, 1.5, 0.5] after the first trial gives 0.5, 0, 1.5, then ends)."""
    tuner = started(GridSearchTuner(), {"x": {"_type": "quniform", "_value": [0, 1, 0.5]}})
    assert tuner.generate_parameters(0) == {"x": 0.5}
    tuner.update_search_space({"x": {"_type": "quniform", "_value": [0, 1.5, 0.5]}})
    assert drain(tuner) == [{"x": 0.0}, {"x": 1.5}, "END"]


def test_grid_search_update_remembers_points_and_may_skip_some() -> None:
    tuner = started(GridSearchTuner(), {"a": {"_type": "choice", "_value": [1, 2]},
                                        "b": {"_type": "choice", "_value": ["z", "y"]}})
    assert [tuner.generate_parameters(i) for i in range(2)] == [{"a": 1, "b": "z"}, {"a": 1, "b": "y"}]
    tuner.update_search_space({"a": {"_type": "choice", "_value": [1, 4, 5]}})
    assert drain(tuner) == [{"a": 4}, {"a": 5}, "END"]  # {"a": 1} is skipped: the walk was past it


def test_grid_search_update_with_more_parameters_fails_as_nni() -> None:
    tuner = started(GridSearchTuner(), {"a": {"_type": "choice", "_value": [1, 2]}})
    assert tuner.generate_parameters(0) == {"a": 1}
    tuner.update_search_space({"a": {"_type": "choice", "_value": [1, 2, 3]},
                               "b": {"_type": "choice", "_value": ["z"]}})
    with pytest.raises(IndexError):
        tuner.generate_parameters(1)


@pytest.mark.real_nni
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.integers(1, 3), st.sampled_from(range(len(DISCRETE_SPACES)))
                                .map(lambda i: -1 - i)), max_size=8),
       first=st.sampled_from(range(len(DISCRETE_SPACES))))
def test_grid_search_with_updates_equals_nni(nni_tuners: Any, steps: list[int], first: int) -> None:
    """Any sequence of suggestions (n > 0: draw n) and updates (n < 0: switch to DISCRETE_SPACES[-n-1])."""
    ours, theirs = started(GridSearchTuner(), DISCRETE_SPACES[first]), started(
        nni_tuners.GridSearchTuner(), DISCRETE_SPACES[first])

    def outcome(tuner: Any, exhausted: Any, action: Any) -> Any:
        try:
            return action(tuner)
        except exhausted:
            return "END"
        except IndexError:
            return "IndexError"

    for step in steps:
        if step < 0:
            space = DISCRETE_SPACES[-step - 1]
            assert outcome(ours, NoMoreTrials, lambda t, s=space: t.update_search_space(s)) == outcome(
                theirs, nni_tuners.NoMoreTrialError, lambda t, s=space: t.update_search_space(s))
            continue
        for _ in range(step):
            mine = outcome(ours, NoMoreTrials, lambda t: t.generate_parameters(0))
            nni_one = outcome(theirs, nni_tuners.NoMoreTrialError, lambda t: t.generate_parameters(0))
            assert (parameters_key(mine) if isinstance(mine, dict) else mine) == (
                parameters_key(nni_one) if isinstance(nni_one, dict) else nni_one)
            if mine == "IndexError":
                return


def test_grid_search_rejects_empty_and_bad_spaces() -> None:
    with pytest.raises(SearchSpaceError, match="empty"):
        GridSearchTuner().update_search_space({})
    with pytest.raises(SearchSpaceError, match='"x"'):
        GridSearchTuner().update_search_space({"x": {"_type": "uniform", "_value": [1, 0]}})
    with pytest.raises(RuntimeError, match="update_search_space"):
        GridSearchTuner().generate_parameters(0)


# ---------------------------------------------------------------------------------------------
# Random
# ---------------------------------------------------------------------------------------------

MIXED_SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "layer": {"_type": "choice", "_value": [
        {"_name": "conv", "k": {"_type": "choice", "_value": [3, 5]}, "d": {"_type": "uniform", "_value": [0, 1]}},
        {"_name": "pool", "size": {"_type": "randint", "_value": [2, 4]}},
        {"_name": "identity"},
    ]},
    "bs": {"_type": "qloguniform", "_value": [8, 256, 8]},
}


def test_random_tuner_same_seed_same_sequence() -> None:
    first = drain(started(RandomTuner(seed=42), MIXED_SPACE), limit=30)
    assert first == drain(started(RandomTuner(seed=42), MIXED_SPACE), limit=30)
    assert first != drain(started(RandomTuner(seed=43), MIXED_SPACE), limit=30)
    # an injected rng is used as is
    assert drain(started(RandomTuner(rng=random.Random(5)), MIXED_SPACE), limit=10) == drain(
        started(RandomTuner(rng=random.Random(5)), MIXED_SPACE), limit=10)
    # without seed nor rng a seed is drawn and kept, so the run can be reproduced
    tuner = RandomTuner()
    assert isinstance(tuner.seed, int)
    assert drain(started(tuner, MIXED_SPACE), limit=5) == drain(
        started(RandomTuner(seed=tuner.seed), MIXED_SPACE), limit=5)


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v if k == "_name" else shape(v)) for k, v in value.items()}
    return type(value).__name__


@pytest.mark.real_nni
def test_random_nested_choice_shape_equals_nni(nni_tuners: Any) -> None:
    expected = {parameters_key(shape(p)) for p in drain(started(nni_tuners.RandomTuner(seed=1), MIXED_SPACE), 300)}
    actual = {parameters_key(shape(p)) for p in drain(started(RandomTuner(seed=1), MIXED_SPACE), 300)}
    assert actual == expected
    assert parameters_key(shape({"lr": 0.1, "layer": {"_name": "pool", "size": 3}, "bs": 8.0})) in actual
    assert len(actual) == 3  # one shape per option, "identity" giving {"_name": "identity"}


@pytest.mark.real_nni
@pytest.mark.parametrize("space", DISCRETE_SPACES)
def test_random_tuner_exhausts_finite_spaces_like_nni(space: dict[str, Any], nni_tuners: Any) -> None:
    expected = drain(started(nni_tuners.RandomTuner(seed=3), space), exhausted=nni_tuners.NoMoreTrialError)
    actual = drain(started(RandomTuner(seed=3), space))
    assert actual[-1] == expected[-1] == "END"
    assert sorted(parameters_key(p) for p in actual[:-1]) == sorted(parameters_key(p) for p in expected[:-1])
    assert len({parameters_key(p) for p in actual[:-1]}) == len(actual) - 1  # no repeats


def test_random_tuner_keeps_going_on_continuous_spaces() -> None:
    tuner = started(RandomTuner(seed=0), {"u": {"_type": "uniform", "_value": [0, 1]},
                                         "c": {"_type": "choice", "_value": [1]}})
    points = drain(tuner, limit=500)
    assert len(points) == 500 and "END" not in points


def test_random_tuner_update_search_space_mid_experiment() -> None:
    tuner = started(RandomTuner(seed=9), {"a": {"_type": "choice", "_value": [1, 2]}})
    first = drain(tuner)
    assert sorted(p["a"] for p in first[:-1]) == [1, 2] and first[-1] == "END"
    tuner.update_search_space({"b": {"_type": "randint", "_value": [0, 3]}})
    second = drain(tuner)
    assert sorted(p["b"] for p in second[:-1]) == [0, 1, 2] and second[-1] == "END"
    tuner.update_search_space({"a": {"_type": "choice", "_value": [1, 2]}})  # history is reset
    assert len(drain(tuner)) == 3


def test_random_tuner_ignores_results_and_imports() -> None:
    tuner = started(RandomTuner(seed=1), {"a": {"_type": "choice", "_value": [1]}})
    tuner.import_data([{"parameter": {"a": 1}, "value": 1.0}])
    tuner.receive_trial_result(0, {"a": 1}, 0.5)
    assert drain(tuner) == [{"a": 1}, "END"]


def test_random_tuner_validates_and_needs_a_space() -> None:
    with pytest.raises(SearchSpaceError, match='"a"'):
        RandomTuner(seed=1).update_search_space({"a": {"_type": "randint", "_value": [1.5, 3]}})
    with pytest.raises(RuntimeError, match="update_search_space"):
        RandomTuner(seed=1).generate_parameters(0)


# ---------------------------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------------------------

BATCH_SPACE = {"combine": {"_type": "choice", "_value": [
    {"optimizer": "Adam", "lr": 0.001}, {"optimizer": "SGD", "lr": 0.01}, {"optimizer": "SGD", "lr": 0.1},
]}}


def test_batch_returns_the_dicts_in_order_then_stops() -> None:
    tuner = started(BatchTuner(), BATCH_SPACE)
    assert drain(tuner) == [*BATCH_SPACE["combine"]["_value"], "END"]
    with pytest.raises(NoMoreTrials):
        tuner.generate_parameters(99)
    assert drain(BatchTuner()) == ["END"]  # before any search space


@pytest.mark.real_nni
def test_batch_order_and_import_data_equal_nni(nni_tuners: Any) -> None:
    expected = drain(started(nni_tuners.BatchTuner(), BATCH_SPACE), exhausted=nni_tuners.NoMoreTrialError)
    assert drain(started(BatchTuner(), BATCH_SPACE)) == expected

    data = [{"parameter": {"optimizer": "SGD", "lr": 0.1}, "value": 0.9},
            {"parameter": {"optimizer": "SGD", "lr": 0.01}, "value": 0}]  # falsy value: ignored
    results = []
    for tuner in (started(nni_tuners.BatchTuner(), BATCH_SPACE), started(BatchTuner(), BATCH_SPACE)):
        tuner.generate_parameters(0)
        tuner.import_data(data)
        results.append(drain(tuner, exhausted=(NoMoreTrials, nni_tuners.NoMoreTrialError)))
    assert results[0] == results[1] == [{"optimizer": "SGD", "lr": 0.01}, "END"]

    # a new space keeps the position, in NNI as here
    results = []
    for tuner in (started(nni_tuners.BatchTuner(), BATCH_SPACE), started(BatchTuner(), BATCH_SPACE)):
        tuner.generate_parameters(0)
        tuner.update_search_space({"c": {"_type": "choice", "_value": [{"x": 1}, {"x": 2}, {"x": 3}]}})
        results.append(drain(tuner, exhausted=(NoMoreTrials, nni_tuners.NoMoreTrialError)))
    assert results[0] == results[1] == [{"x": 2}, {"x": 3}, "END"]


BAD_BATCH_SPACES: list[tuple[Any, str, bool]] = [
    ({}, "exactly one key", True),
    ({**BATCH_SPACE, "other": BATCH_SPACE["combine"]}, "exactly one key", True),
    ({"c": {"_type": "randint", "_value": [0, 3]}}, '"choice"', True),
    ({"c": {"_type": "choice", "_value": "abc"}}, "must be a list", True),
    ({"c": {"_type": "choice", "_value": [{"x": 1}, 2]}}, "option #1", False),  # NNI does not check
]


@pytest.mark.parametrize(("space", "fragment", "nni_rejects"), BAD_BATCH_SPACES)
def test_batch_rejects_bad_spaces(space: Any, fragment: str, nni_rejects: bool) -> None:
    with pytest.raises(BatchSearchSpaceError, match=fragment) as info:
        BatchTuner().update_search_space(space)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, SearchSpaceError)


@pytest.mark.real_nni
@pytest.mark.parametrize("space", [case[0] for case in BAD_BATCH_SPACES if case[2]])
def test_nni_batch_rejects_the_same_spaces_with_runtime_error(space: Any, nni_tuners: Any) -> None:
    with pytest.raises(RuntimeError):
        nni_tuners.BatchTuner().update_search_space(space)


# ---------------------------------------------------------------------------------------------
# CallableTuner
# ---------------------------------------------------------------------------------------------


def test_callable_tuner_passes_id_space_and_rng() -> None:
    calls: list[tuple[int, dict[str, Any]]] = []
    rng = random.Random(3)

    def fn(parameter_id: int, space: dict[str, Any], given_rng: random.Random) -> dict[str, Any] | None:
        assert given_rng is rng
        calls.append((parameter_id, space))
        return None if parameter_id >= 2 else {"id": parameter_id, "r": given_rng.random()}

    tuner = CallableTuner(fn, rng=rng)
    assert tuner.generate_parameters(0)["id"] == 0
    tuner.update_search_space({"x": {"_type": "choice", "_value": [1]}})
    assert tuner.generate_parameters(1)["id"] == 1
    with pytest.raises(NoMoreTrials):
        tuner.generate_parameters(2)
    space = {"x": {"_type": "choice", "_value": [1]}}
    assert calls == [(0, {}), (1, space), (2, space)]


def test_callable_tuner_rejects_non_dict_results() -> None:
    with pytest.raises(TypeError, match="dict or None"):
        CallableTuner(lambda i, s, r: [1, 2]).generate_parameters(0)  # type: ignore[arg-type,return-value]


# ---------------------------------------------------------------------------------------------
# create_tuner
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), [
    ("Random", RandomTuner), ("random", RandomTuner), ("GridSearch", GridSearchTuner), ("gridsearch", GridSearchTuner),
    ("Batch", BatchTuner), ("BATCHTUNER", BatchTuner), ("TPE", RandomTuner), ("tpe_legacy", RandomTuner),
    ("Anneal", RandomTuner), ("Evolution", RandomTuner), ("SMAC", RandomTuner), ("metistuner", RandomTuner),
    ("GP", RandomTuner), ("gptuner", RandomTuner), ("PPO", RandomTuner), ("PPOTuner", RandomTuner),
    ("PBT", RandomTuner), ("DNGOTuner", RandomTuner), ("NetworkMorphism", RandomTuner),
    ("RegularizedEvolutionTuner", RandomTuner), ("Hyperband", RandomTuner), ("bohb", RandomTuner),
])
def test_create_tuner_maps_builtin_names_case_insensitively(name: str, kind: type) -> None:
    assert isinstance(create_tuner({"name": name}, rng=random.Random(0)), kind)


def test_every_builtin_name_and_alias_is_accepted() -> None:
    for name, aliases in BUILTIN_TUNERS.items():
        for alias in (name, *aliases):
            assert builtin_tuner_name(alias.upper()) == name
            assert isinstance(create_tuner({"name": alias}, rng=random.Random(0)), Tuner)


@pytest.mark.real_nni
def test_builtin_names_equal_nni_registry() -> None:
    pytest.importorskip("nni")
    from nni.tools.package_utils import config_manager

    metas = [m for m in config_manager.get_all_algo_meta() if m.algo_type == "tuner" and m.is_builtin]
    assert {m.name: (m.alias,) if m.alias else () for m in metas} == BUILTIN_TUNERS


def test_unknown_tuner_name_raises_nni_message() -> None:
    with pytest.raises(UnknownTunerError) as info:
        create_tuner({"name": "NoSuchTuner", "classArgs": {}}, rng=random.Random(0))
    assert str(info.value) == "Builtin name is not found: nosuchtuner"
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)


@pytest.mark.real_nni
def test_unknown_tuner_message_equals_nni() -> None:
    pytest.importorskip("nni")
    from nni.tools.package_utils.tuner_factory import create_builtin_class_instance

    with pytest.raises(RuntimeError) as expected:
        create_builtin_class_instance("NoSuchTuner", {}, "tuners")
    with pytest.raises(UnknownTunerError) as actual:
        builtin_tuner_name("NoSuchTuner")
    assert str(actual.value) == str(expected.value)


def generated(tuner: Tuner, n: int = 10) -> list[Any]:
    tuner.update_search_space(MIXED_SPACE)
    return [tuner.generate_parameters(i) for i in range(n)]


def test_create_tuner_honours_class_args_seed() -> None:
    for name in ("Random", "TPE", "Evolution", "Hyperband"):
        a = create_tuner({"name": name, "classArgs": {"seed": 7, "optimize_mode": "maximize"}}, rng=random.Random(1))
        b = create_tuner({"name": name, "classArgs": {"seed": 7}}, rng=random.Random(2))
        assert generated(a) == generated(b) == generated(RandomTuner(seed=7))
    # without a seed the given rng drives the sampling
    assert generated(create_tuner({"name": "TPE"}, rng=random.Random(4))) == generated(
        RandomTuner(rng=random.Random(4)))
    assert generated(create_tuner(None, rng=random.Random(4))) == generated(RandomTuner(rng=random.Random(4)))


def test_create_tuner_custom_class_is_random_sampling() -> None:
    config = {"className": "my_tuner.MyTuner", "codeDirectory": "/nowhere", "classArgs": {"seed": 3, "x": 1}}
    tuner = create_tuner(config, rng=random.Random(0))
    assert isinstance(tuner, RandomTuner)
    assert generated(tuner) == generated(RandomTuner(seed=3))
    assert isinstance(create_tuner({"class_name": "a.B"}, rng=random.Random(0)), RandomTuner)
    with pytest.raises(ConfigError, match="className"):
        create_tuner({"classArgs": {}}, rng=random.Random(0))


@pytest.mark.parametrize(("name", "args"), [
    ("Batch", {"seed": 1}), ("GridSearch", {"seed": 1}), ("Random", {"algorithm_name": "tpe"}),
])
def test_create_tuner_rejects_class_args_nni_constructors_reject(name: str, args: dict[str, Any]) -> None:
    with pytest.raises(TunerArgumentError, match=next(iter(args))) as info:
        create_tuner({"name": name, "classArgs": args}, rng=random.Random(0))
    assert isinstance(info.value, TypeError)
    assert isinstance(create_tuner({"name": "GridSearch", "classArgs": {"optimize_mode": "maximize"}},
                                   rng=random.Random(0)), GridSearchTuner)


def test_create_tuner_override() -> None:
    instance = BatchTuner()
    assert create_tuner({"name": "TPE"}, rng=random.Random(0), override=instance) is instance
    rng = random.Random(0)
    tuner = create_tuner({"name": "NotEvenChecked"}, rng=rng, override=lambda i, space, r: {"i": i})
    assert isinstance(tuner, CallableTuner) and tuner.rng is rng
    assert tuner.generate_parameters(4) == {"i": 4}
    with pytest.raises(TypeError):
        create_tuner(None, rng=rng, override=42)  # type: ignore[arg-type]
