"""Search-space validation, sampling and grid enumeration of the fake (fakes.search_space)."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.search_space import (
    SEARCH_SPACE_TYPES,
    FlatSpace,
    GridWalker,
    SearchSpaceError,
    grid_points,
    parameters_key,
    sample,
    validate_search_space,
)
from nni_exp.errors import ConfigError

# ---------------------------------------------------------------------------------------------
# strategies: valid specs of every _type, and (nested) spaces built from them
# ---------------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
positive_width = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
q_values = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
scalars = st.one_of(
    st.integers(-1000, 1000), st.text(max_size=5), finite, st.booleans(), st.none(),
    st.lists(st.integers(0, 9), max_size=3),
)


@st.composite
def uniform_bounds(draw: Any) -> tuple[float, float]:
    low = draw(finite)
    return low, low + draw(positive_width)


@st.composite
def log_bounds(draw: Any) -> tuple[float, float]:
    low = draw(st.floats(min_value=1e-6, max_value=1e6))
    return low, low * draw(st.floats(min_value=1.001, max_value=1e4))


@st.composite
def spec_of(draw: Any, type_: str) -> dict[str, Any]:
    if type_ == "choice":
        values: list[Any] = draw(st.lists(scalars, min_size=1, max_size=6))
    elif type_ == "randint":
        low = draw(st.integers(-1000, 1000))
        values = [low, low + draw(st.integers(1, 1000))]
    elif type_ in ("uniform", "quniform"):
        values = list(draw(uniform_bounds()))
    elif type_ in ("loguniform", "qloguniform"):
        values = list(draw(log_bounds()))
    elif type_ in ("normal", "qnormal"):
        values = [draw(finite), draw(st.floats(min_value=1e-3, max_value=1e4))]
    else:  # lognormal, qlognormal: keep exp() finite
        values = [draw(st.floats(-5, 5)), draw(st.floats(min_value=1e-3, max_value=3))]
    if type_.startswith("q"):
        values.append(draw(q_values))
    return {"_type": type_, "_value": values}


any_spec = st.sampled_from(SEARCH_SPACE_TYPES).flatmap(spec_of)
names = st.text(alphabet="abcdefghij", min_size=1, max_size=4)


def flat_spaces(max_size: int = 4) -> Any:
    return st.dictionaries(names, any_spec, min_size=1, max_size=max_size)


@st.composite
def nested_choice(draw: Any, depth: int) -> dict[str, Any]:
    option_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    options = []
    for option_name in option_names:
        sub = draw(spaces_with_nesting(depth - 1)) if depth > 0 else {}
        options.append({"_name": option_name, **sub})
    return {"_type": "choice", "_value": options}


def spaces_with_nesting(depth: int = 2) -> Any:
    spec = any_spec if depth <= 0 else st.one_of(any_spec, nested_choice(depth))
    return st.dictionaries(names, spec, min_size=0 if depth < 2 else 1, max_size=3)


# ---------------------------------------------------------------------------------------------
# the invariant: a sampled value lies inside its spec
# ---------------------------------------------------------------------------------------------


def is_multiple(value: float, q: float) -> bool:
    ratio = value / q
    return abs(ratio - round(ratio)) <= 1e-9 * max(1.0, abs(ratio))


def check_value(path: str, spec: dict[str, Any], value: Any) -> None:
    type_, values = spec["_type"], spec["_value"]
    if type_ == "choice":
        if all(isinstance(v, dict) and "_name" in v for v in values):
            assert isinstance(value, dict) and "_name" in value, path
            options = [v for v in values if v["_name"] == value["_name"]]
            assert options, f"{path}: unknown option {value['_name']!r}"
            sub_space = {k: v for k, v in options[0].items() if k != "_name"}
            check_params(sub_space, {k: v for k, v in value.items() if k != "_name"}, path)
        else:
            assert any(value == v and type(value) is type(v) for v in values), (path, value, values)
        return
    if type_ == "randint":
        assert type(value) is int, (path, value)
        assert values[0] <= value < values[1], (path, value, values)
        return
    assert type(value) is float, (path, value)
    low, high = values[0], values[1]
    if type_ in ("uniform", "loguniform", "quniform", "qloguniform"):
        assert low <= value <= high, (path, value, values)
    if type_ in ("loguniform", "qloguniform", "lognormal"):
        assert value > 0, (path, value)
    if type_ == "qlognormal":
        assert value >= 0, (path, value)
    if type_.startswith("q"):
        q = values[2]
        if type_ in ("quniform", "qloguniform"):  # NNI clips into [low, high] after rounding
            assert value in (float(low), float(high)) or is_multiple(value, q), (path, value, values)
        else:
            assert is_multiple(value, q), (path, value, values)
    assert math.isfinite(value)


def check_params(space: dict[str, Any], params: dict[str, Any], prefix: str = "") -> None:
    assert set(params) == {name for name in space if name != "_name"}, (prefix, params, space)
    for name, spec in space.items():
        if name != "_name":
            check_value(f"{prefix}.{name}", spec, params[name])


@pytest.mark.parametrize("type_", SEARCH_SPACE_TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_samples_of_every_type_lie_in_their_space(type_: str, data: Any, seed: int) -> None:
    space = {"p": data.draw(spec_of(type_))}
    validate_search_space(space)
    rng = random.Random(seed)
    for _ in range(20):
        check_params(space, sample(space, rng))


@settings(max_examples=150, deadline=None)
@given(space=flat_spaces(), seed=st.integers(0, 2**32))
def test_samples_of_mixed_spaces_lie_in_their_space(space: dict[str, Any], seed: int) -> None:
    validate_search_space(space)
    rng = random.Random(seed)
    for _ in range(5):
        check_params(space, sample(space, rng))


@settings(max_examples=150, deadline=None)
@given(space=spaces_with_nesting(), seed=st.integers(0, 2**32))
def test_nested_choice_samples_have_the_chosen_options_shape(space: dict[str, Any], seed: int) -> None:
    validate_search_space(space)
    rng = random.Random(seed)
    for _ in range(5):
        check_params(space, sample(space, rng))


@settings(max_examples=60, deadline=None)
@given(space=spaces_with_nesting())
def test_grid_points_lie_in_the_space_and_never_repeat(space: dict[str, Any]) -> None:
    seen = set()
    for count, point in enumerate(grid_points(space)):
        check_params(space, point)
        key = parameters_key(point)
        assert key not in seen
        seen.add(key)
        if count >= 60:
            break


# ---------------------------------------------------------------------------------------------
# exact NNI semantics of individual types
# ---------------------------------------------------------------------------------------------


def draws(space: dict[str, Any], n: int = 2000, seed: int = 1234) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    flat = FlatSpace(space)
    return [flat.sample(rng) for _ in range(n)]


def test_randint_upper_bound_is_exclusive_and_every_value_occurs() -> None:
    values = [p["x"] for p in draws({"x": {"_type": "randint", "_value": [-2, 3]}})]
    counts = Counter(values)
    assert set(counts) == {-2, -1, 0, 1, 2}
    assert all(type(v) is int for v in values)
    assert min(counts.values()) > 2000 / 5 * 0.8


def test_choice_returns_the_option_itself_with_uniform_frequencies() -> None:
    options: list[Any] = [1, "two", 3.0, None, [4, 5]]
    values = [p["c"] for p in draws({"c": {"_type": "choice", "_value": options}})]
    for option in options:
        hits = [v for v in values if v == option and type(v) is type(option)]
        assert 2000 / 5 * 0.8 < len(hits) < 2000 / 5 * 1.2
    # a returned list is a copy: mutating it does not change the space
    space = {"c": {"_type": "choice", "_value": [[1, 2]]}}
    sample(space, random.Random(0))["c"].append(3)
    assert space["c"]["_value"] == [[1, 2]]


def test_uniform_mean_and_spread() -> None:
    values = [p["u"] for p in draws({"u": {"_type": "uniform", "_value": [2, 12]}})]
    assert abs(statistics.fmean(values) - 7) < 0.25
    assert abs(statistics.pstdev(values) - 10 / math.sqrt(12)) < 0.15
    assert 2 <= min(values) < 2.1 and 11.9 < max(values) <= 12


def test_normal_mean_and_sigma() -> None:
    values = [p["n"] for p in draws({"n": {"_type": "normal", "_value": [-3, 2]}})]
    assert abs(statistics.fmean(values) + 3) < 0.15
    assert abs(statistics.pstdev(values) - 2) < 0.15


def test_loguniform_is_uniform_in_log_space() -> None:
    values = [p["l"] for p in draws({"l": {"_type": "loguniform", "_value": [1e-4, 1]}})]
    logs = [math.log10(v) for v in values]
    assert abs(statistics.fmean(logs) + 2) < 0.1
    assert sum(v < 1e-2 for v in values) / len(values) == pytest.approx(0.5, abs=0.05)


def test_lognormal_is_normal_in_log_space() -> None:
    values = [p["l"] for p in draws({"l": {"_type": "lognormal", "_value": [1, 0.5]}})]
    logs = [math.log(v) for v in values]
    assert abs(statistics.fmean(logs) - 1) < 0.05
    assert abs(statistics.pstdev(logs) - 0.5) < 0.05


def test_quniform_rounds_half_to_even_then_clips() -> None:
    # [0.1, 1.0] with q=0.25: 0.0 clips up to 0.1, 1.0 stays, the rest are multiples of 0.25
    values = Counter(p["q"] for p in draws({"q": {"_type": "quniform", "_value": [0.1, 1.0, 0.25]}}))
    assert set(values) == {0.1, 0.25, 0.5, 0.75, 1.0}
    assert all(type(v) is float for v in values)
    # quniform [0, 10, 5]: 0 <= x < 2.5 -> 0, 2.5 < x < 7.5 -> 5, x > 7.5 -> 10 (1:2:1)
    values = Counter(p["q"] for p in draws({"q": {"_type": "quniform", "_value": [0, 10, 5]}}))
    assert set(values) == {0.0, 5.0, 10.0}
    assert values[5.0] / 2000 == pytest.approx(0.5, abs=0.05)


def test_qloguniform_and_qlognormal_values() -> None:
    values = {p["q"] for p in draws({"q": {"_type": "qloguniform", "_value": [1, 1000, 100]}})}
    assert 1.0 in values and 1000.0 in values  # clipped ends
    assert all(v in (1.0, 1000.0) or v % 100 == 0 for v in values)
    # qlognormal is not clipped: small values round to 0.0
    values = {p["q"] for p in draws({"q": {"_type": "qlognormal", "_value": [0, 1, 2]}})}
    assert 0.0 in values and all(v % 2 == 0 for v in values)


def test_qnormal_is_multiple_of_q_and_unclipped() -> None:
    values = [p["q"] for p in draws({"q": {"_type": "qnormal", "_value": [0, 10, 3]}})]
    assert all(v % 3 == 0 for v in values)
    assert min(values) < -20 and max(values) > 20


def test_nested_choice_parameter_shape() -> None:
    space = {
        "layer": {"_type": "choice", "_value": [
            {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]}},
            {"_name": "pool", "size": {"_type": "randint", "_value": [2, 4]}},
            {"_name": "identity"},
        ]},
        "lr": {"_type": "uniform", "_value": [0, 1]},
    }
    shapes = {
        (p["layer"]["_name"], tuple(p["layer"])) for p in draws(space, n=200)
    }
    assert shapes == {
        ("conv", ("_name", "kernel")),
        ("pool", ("_name", "size")),
        ("identity", ("_name",)),
    }
    first = draws(space, n=1)[0]
    assert list(first) == ["layer", "lr"]


def test_two_level_nested_choice() -> None:
    space = {"outer": {"_type": "choice", "_value": [
        {"_name": "a", "inner": {"_type": "choice", "_value": [
            {"_name": "x", "v": {"_type": "randint", "_value": [0, 2]}}, {"_name": "y"}]}},
        {"_name": "b"},
    ]}}
    seen = {parameters_key(p) for p in draws(space, n=300)}
    assert seen == {parameters_key(p) for p in [
        {"outer": {"_name": "a", "inner": {"_name": "x", "v": 0}}},
        {"outer": {"_name": "a", "inner": {"_name": "x", "v": 1}}},
        {"outer": {"_name": "a", "inner": {"_name": "y"}}},
        {"outer": {"_name": "b"}},
    ]}


def test_same_seed_same_sequence_different_seed_different_sequence() -> None:
    space = {
        "u": {"_type": "uniform", "_value": [0, 1]},
        "c": {"_type": "choice", "_value": ["a", "b", "c"]},
        "n": {"_type": "qnormal", "_value": [0, 5, 1]},
    }
    assert draws(space, n=50, seed=7) == draws(space, n=50, seed=7)
    assert draws(space, n=50, seed=7) != draws(space, n=50, seed=8)


def test_sample_does_not_need_numpy_or_nni() -> None:
    import fakes.search_space as module

    source = open(module.__file__, encoding="utf-8").read()
    assert "import numpy" not in source and "import nni\n" not in source and "from nni " not in source


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

# (space, fragments of the message, whether NNI's own validator in strict mode rejects it too:
# NNI does not check q, empty or mixed choices, infinities, nor nested sub-spaces)
BAD_SPACES: list[tuple[object, list[str], bool]] = [
    ([1, 2], ["must be a dict", "list"], True),
    ({"x": 3}, ['"x"', "expected a dict"], True),
    ({"x": {"_value": [1, 2]}}, ['"x"', "'_type'"], True),
    ({"x": {"_type": "uniform"}}, ['"x"', "'_value'"], True),
    ({"x": {"_type": "gaussian", "_value": [0, 1]}}, ['"x"', "unknown _type 'gaussian'"], True),
    ({"x": {"_type": "choice", "_value": "abc"}}, ['"x"', "must be a list"], True),
    ({"x": {"_type": "choice", "_value": []}}, ['"x"', "at least one option"], False),
    ({"x": {"_type": "uniform", "_value": [0, 1, 2]}}, ['"x"', "needs 2 values", "got 3"], True),
    ({"x": {"_type": "quniform", "_value": [0, 1]}}, ['"x"', "needs 3 values", "q]"], True),
    ({"x": {"_type": "randint", "_value": [0, 2.5]}}, ['"x"', "integers"], True),
    ({"x": {"_type": "uniform", "_value": [0, "1"]}}, ['"x"', "must be numbers"], True),
    ({"x": {"_type": "uniform", "_value": [0, float("inf")]}}, ['"x"', "finite"], False),
    ({"x": {"_type": "uniform", "_value": [2, 1]}}, ['"x"', "low < high", "low=2 high=1"], True),
    ({"x": {"_type": "randint", "_value": [3, 3]}}, ['"x"', "low < high"], True),
    ({"x": {"_type": "quniform", "_value": [0, 1, 0]}}, ['"x"', "q > 0", "q=0"], False),
    ({"x": {"_type": "qloguniform", "_value": [1, 10, -1]}}, ['"x"', "q > 0"], False),
    ({"x": {"_type": "loguniform", "_value": [0, 1]}}, ['"x"', "low > 0", "log"], True),
    ({"x": {"_type": "qloguniform", "_value": [-1, 1, 0.1]}}, ['"x"', "low > 0"], True),
    ({"x": {"_type": "normal", "_value": [0, 0]}}, ['"x"', "sigma > 0"], True),
    ({"x": {"_type": "qlognormal", "_value": [0, -1, 1]}}, ['"x"', "sigma > 0"], True),
    ({"x": {"_type": "choice", "_value": [{"_name": "a"}, {"b": 1}]}}, ['"x"', "option #1", '"_name"'], False),
    ({"x": {"_type": "choice", "_value": [{"_name": "a"}, 3]}}, ['"x"', "option #1"], False),
    (
        {"layer": {"_type": "choice", "_value": [
            {"_name": "conv", "k": {"_type": "randint", "_value": [5, 1]}}]}},
        ['"layer[conv].k"', "low < high"],
        False,
    ),
    (
        {"a": {"_type": "choice", "_value": [{"_name": "o", "b": {"_type": "choice", "_value": [
            {"_name": "p", "c": {"_type": "normal"}}]}}]}},
        ['"a[o].b[p].c"', "'_value'"],
        False,
    ),
]


@pytest.mark.parametrize(("space", "fragments"), [case[:2] for case in BAD_SPACES])
def test_bad_spaces_raise_search_space_error_naming_path_and_problem(space: object, fragments: list[str]) -> None:
    with pytest.raises(SearchSpaceError) as info:
        validate_search_space(space)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    assert info.value.field == "search_space"
    # sampling and grids validate too
    if isinstance(space, dict):
        with pytest.raises(SearchSpaceError):
            sample(space, random.Random(0))
        with pytest.raises(SearchSpaceError):
            next(grid_points(space))


@pytest.mark.parametrize("space", [
    {},
    {"x": {"_type": "choice", "_value": [{"a": 1}, {"a": 2}]}},  # Batch-style: plain dict options
    {"x": {"_type": "choice", "_value": [[1, 2], None, True, "s", 1.5]}},
    {"x": {"_type": "randint", "_value": [-5, -4]}},
    {"x": {"_type": "normal", "_value": [-1e3, 1e-3]}},
    {"x": {"_type": "choice", "_value": [{"_name": "a"}, {"_name": "b", "y": {"_type": "uniform", "_value": [0, 1]}}]}},
    {"x": {"_type": "uniform", "_value": [0, 1], "extra": "ignored"}},
])
def test_valid_spaces_pass(space: dict[str, Any]) -> None:
    validate_search_space(space)
    sample(space, random.Random(0))


@pytest.mark.real_nni
@pytest.mark.parametrize("space", [case[0] for case in BAD_SPACES if case[2]])
def test_nni_strict_validation_rejects_the_same_spaces(space: object) -> None:
    pytest.importorskip("nni")
    from nni.common.hpo_utils import validate_search_space as nni_validate

    with pytest.raises(ValueError):
        nni_validate(space, raise_exception=True)


# ---------------------------------------------------------------------------------------------
# grid enumeration
# ---------------------------------------------------------------------------------------------


def test_grid_order_is_an_odometer_over_categorical_parameters() -> None:
    space = {
        "a": {"_type": "choice", "_value": ["x", "y"]},
        "b": {"_type": "randint", "_value": [0, 3]},
    }
    assert list(grid_points(space)) == [
        {"a": "x", "b": 0}, {"a": "x", "b": 1}, {"a": "x", "b": 2},
        {"a": "y", "b": 0}, {"a": "y", "b": 1}, {"a": "y", "b": 2},
    ]


def test_grid_of_a_quantized_parameter_starts_at_the_median_and_ends() -> None:
    points = [p["q"] for p in grid_points({"q": {"_type": "quniform", "_value": [0.1, 1.0, 0.25]}})]
    assert points == [0.5, 0.25, 0.75, 1.0, 0.1]


def test_grid_of_continuous_parameters_refines_by_quantiles() -> None:
    walker = GridWalker(FlatSpace({"u": {"_type": "uniform", "_value": [0, 8]}}))
    points = [walker.next() for _ in range(7)]
    assert [p["u"] for p in points if p] == [4.0, 2.0, 6.0, 1.0, 3.0, 5.0, 7.0]
    assert not walker.exhausted
    normal = GridWalker(FlatSpace({"n": {"_type": "normal", "_value": [1, 2]}}))
    first, second, third = normal.next(), normal.next(), normal.next()
    assert first == {"n": 1.0}
    assert second is not None and third is not None
    assert second["n"] == pytest.approx(1 - 2 * 0.6744897501960817)
    assert third["n"] == pytest.approx(1 + 2 * 0.6744897501960817)


def test_grid_with_nested_choice_only_varies_the_chosen_branch() -> None:
    space = {"opt": {"_type": "choice", "_value": [
        {"_name": "sgd", "m": {"_type": "choice", "_value": [0.0, 0.9]}},
        {"_name": "adam"},
    ]}, "bs": {"_type": "choice", "_value": [16, 32]}}
    assert list(grid_points(space)) == [
        {"opt": {"_name": "sgd", "m": 0.0}, "bs": 16},
        {"opt": {"_name": "sgd", "m": 0.0}, "bs": 32},
        {"opt": {"_name": "sgd", "m": 0.9}, "bs": 16},
        {"opt": {"_name": "sgd", "m": 0.9}, "bs": 32},
        {"opt": {"_name": "adam"}, "bs": 16},
        {"opt": {"_name": "adam"}, "bs": 32},
    ]


def test_parameters_key_distinguishes_int_and_float_like_nni() -> None:
    assert parameters_key({"a": 1, "b": 2}) == parameters_key({"b": 2, "a": 1})
    assert parameters_key({"a": 1}) != parameters_key({"a": 1.0})
