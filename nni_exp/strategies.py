"""hypothesis strategies for NNI experiments.

* :func:`search_spaces` — valid NNI search spaces, every ``_type``, nested choices;
  :func:`invalid_search_spaces` — malformed ones, with the parameter path the error names;
* :func:`parameters` — parameter dicts drawn inside a given space, with NNI's semantics
  (``randint`` excludes its upper bound, q-types are rounded to a multiple of ``q`` ...);
  :func:`parameters_in_space` / :func:`assert_parameters_in_space` check a dict against a space;
* :func:`experiment_configs` — valid :class:`~nni_exp.config.ExperimentConfig` objects (which
  also start on the fake manager); :func:`invalid_experiment_configs` — configs with one wrong
  field, and which field :class:`~nni_exp.errors.ConfigError` names;
* :func:`durations` — NNI durations: ``'90s'``, ``'1.5h'``, ``'2d'`` or an int of seconds;
* :func:`metrics` and :func:`trial_behaviours` — metric values and scripted trials (durations,
  intermediate streams, final results, failures) usable as ``FakeManager(trial=...)``;

The ``RuleBasedStateMachine`` over the Experiment API built on these strategies is
``nni_exp.testing.ExperimentStateMachine`` (:mod:`nni_exp.testing.state_machine`).

``st.from_type`` (and ``st.builds`` on annotated functions) works for ``ExperimentConfig`` and
``AlgorithmConfig`` through the ``hypothesis`` entry point (:mod:`nni_exp.hypothesis_entry`, which
imports this module only when hypothesis resolves one of them), and for :class:`TrialBehaviour` once
this module is imported.
"""

from __future__ import annotations

from typing import Any


def _register_type_strategies() -> None:
    """Registers strategies for nni-exp's types (the ``hypothesis`` entry point of releases before
    :mod:`nni_exp.hypothesis_entry`, which installed copies may still name).

    Hypothesis runs it while it is being imported, so it is defined before this module imports
    hypothesis (importing this module first must not break ``import hypothesis``). It only
    registers lazy factories (nothing is built until a strategy is used) and never raises.
    """
    try:
        from hypothesis import strategies as hypothesis_strategies

        from nni_exp.config import AlgorithmConfig, ExperimentConfig

        hypothesis_strategies.register_type_strategy(ExperimentConfig, lambda _type: experiment_configs())
        hypothesis_strategies.register_type_strategy(AlgorithmConfig, lambda _type: algorithm_configs())
        behaviour: Any = globals().get("TrialBehaviour")
        if behaviour is not None:
            hypothesis_strategies.register_type_strategy(behaviour, lambda _type: trial_behaviours())
    except Exception:  # noqa: BLE001 - a broken optional integration must not break hypothesis
        return


import copy  # noqa: E402 - after the entry point, see its docstring
import json  # noqa: E402
import math  # noqa: E402
import string  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union  # noqa: E402

from hypothesis import strategies as st  # noqa: E402

if TYPE_CHECKING:
    from nni_exp.config import AlgorithmConfig, ExperimentConfig

__all__ = [
    "SEARCH_SPACE_TYPES",
    "TUNER_NAMES",
    "InvalidConfig",
    "InvalidSearchSpace",
    "TrialPlan",
    "TrialBehaviour",
    "ScriptedTrialFailure",
    "search_spaces",
    "invalid_search_spaces",
    "parameters",
    "parameters_in_space",
    "assert_parameters_in_space",
    "durations",
    "experiment_configs",
    "invalid_experiment_configs",
    "INVALID_CONFIG_FIELDS",
    "algorithm_configs",
    "metrics",
    "trial_plans",
    "trial_behaviours",
]

#: Every ``_type`` of NNI 3.0 (same order as :data:`fakes.search_space.SEARCH_SPACE_TYPES`).
SEARCH_SPACE_TYPES: Tuple[str, ...] = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
                                       "normal", "qnormal", "lognormal", "qlognormal")
#: Built-in tuner names :func:`experiment_configs` uses: NNI 3.0's tuners that run with ``nni`` alone
#: and accept every search space type (Anneal needs hyperopt; Batch a special space). The fake runs
#: them with NNI's own classes when ``nni`` is installed, else approximates all but ``Random`` and
#: ``GridSearch`` by random sampling.
TUNER_NAMES: Tuple[str, ...] = ("Random", "TPE", "Evolution", "GridSearch")
_NAME_ALPHABET = string.ascii_letters + string.digits + "_"
_DURATION_UNITS: Dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Widest normal range :func:`parameters` draws from, in standard deviations around ``mu``.
_NORMAL_SPREAD = 6.0
#: Largest integer a JavaScript number (the manager's) holds exactly.
_JS_SAFE_INT = 2 ** 53


# ---------------------------------------------------------------------------------------------- search spaces


def _check_size(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _parameter_names() -> st.SearchStrategy[str]:
    return st.text(_NAME_ALPHABET, min_size=1, max_size=8).filter(lambda name: name != "_name")


def _finite(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def _bounds(draw: Callable[..., Any], low: float, high: float, ints: bool) -> List[Union[int, float]]:
    """``[a, b]`` with ``low <= a < b <= high``, ints or floats (NNI accepts both)."""
    if ints:
        a = draw(st.integers(int(low), int(high) - 1))
        return [a, draw(st.integers(a + 1, int(high)))]
    a = draw(_finite(low, high - 1.0))
    b = draw(st.floats(a, high, exclude_min=True, allow_nan=False, allow_infinity=False))
    return [a, b]


def _q() -> st.SearchStrategy[Union[int, float]]:
    return st.one_of(st.integers(1, 10), _finite(0.01, 10.0))


def _spec(type_: str) -> st.SearchStrategy[Dict[str, Any]]:
    """A ``{"_type", "_value"}`` spec of one non-choice type."""
    if type_ == "randint":
        value: st.SearchStrategy[List[Any]] = _bounds(-1000, 1000, ints=True)
    elif type_ in ("uniform", "quniform"):
        value = st.booleans().flatmap(lambda ints: _bounds(-1000, 1000, ints=ints))
    elif type_ in ("loguniform", "qloguniform"):
        value = _bounds(1e-4, 1000.0, ints=False)
    elif type_ in ("normal", "qnormal"):
        value = st.tuples(_finite(-1000.0, 1000.0), _finite(1e-3, 100.0)).map(list)
    else:  # lognormal, qlognormal: exp() stays finite and not tiny
        value = st.tuples(_finite(-5.0, 5.0), _finite(0.01, 2.0)).map(list)
    if type_.startswith("q"):
        value = st.tuples(value, _q()).map(lambda pair: [*pair[0], pair[1]])
    return value.map(lambda v: {"_type": type_, "_value": v})


def _choice_options() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.integers(-100, 100), _finite(-1000.0, 1000.0), st.text(_NAME_ALPHABET + " -.", max_size=8),
        st.booleans(), st.none(),
    )
    return st.one_of(scalars, st.lists(scalars, max_size=3))


def search_spaces(*, types: Sequence[str] = SEARCH_SPACE_TYPES, min_size: int = 1, max_size: int = 4,
                  max_depth: int = 2,
                  names: Optional[st.SearchStrategy[str]] = None) -> st.SearchStrategy[Dict[str, Any]]:
    """Valid NNI search spaces (``fakes.search_space.validate_search_space`` accepts them).

    Parameters
    ----------
    types
        The ``_type`` values to use (default: all ten). With ``"choice"`` and ``max_depth > 1``
        some choices are nested: every option is ``{"_name": ..., <sub-space>}``.
    min_size, max_size
        Number of parameters at the top level (nested sub-spaces have 0 to ``max_size``).
    max_depth
        1: no nested choices; 2: one level of nesting; ...
    names
        Strategy for parameter names (default: short identifiers).
    """
    types = tuple(types)
    unknown = [t for t in types if t not in SEARCH_SPACE_TYPES]
    if not types or unknown:
        raise ValueError(f"types must be a non-empty subset of {SEARCH_SPACE_TYPES}, got unknown {unknown or types!r}")
    _check_size("min_size", min_size)
    _check_size("max_size", max_size)
    _check_size("max_depth", max_depth, 1)
    if min_size > max_size:
        raise ValueError(f"min_size ({min_size}) must be <= max_size ({max_size})")
    name_strategy = names if names is not None else _parameter_names()
    if names is not None and not isinstance(names, st.SearchStrategy):
        raise TypeError(f"names must be a hypothesis strategy, not {type(names).__name__}")
    return _space(types, min_size, max_size, max_depth, name_strategy)


def _space(types: Tuple[str, ...], min_size: int, max_size: int, depth: int,
           names: st.SearchStrategy[str]) -> st.SearchStrategy[Dict[str, Any]]:
    specs = [_spec(t) for t in types if t != "choice"]
    if "choice" in types:
        specs.append(st.lists(_choice_options(), min_size=1, max_size=5).map(
            lambda options: {"_type": "choice", "_value": options}))
        if depth > 1:
            specs.append(_nested_choice(types, max_size, depth, names))
    return st.dictionaries(names.filter(lambda n: n != "_name"), st.one_of(specs), min_size=min_size,
                           max_size=max_size)


def _nested_choice(types: Tuple[str, ...], max_size: int, depth: int,
                   names: st.SearchStrategy[str]) -> st.SearchStrategy[Dict[str, Any]]:
    option_names = st.lists(st.text(_NAME_ALPHABET, min_size=1, max_size=6), min_size=1, max_size=3, unique=True)

    sub_spaces = _space(types, 0, max(1, max_size // 2), depth - 1, names)

    @st.composite
    def build(draw: Callable[..., Any]) -> Dict[str, Any]:
        options = [{"_name": option_name, **draw(sub_spaces)} for option_name in draw(option_names)]
        return {"_type": "choice", "_value": options}

    return build()


class InvalidSearchSpace(NamedTuple):
    """A malformed search space and the parameter ``path`` its ``SearchSpaceError`` names (None: the
    whole space)."""

    space: Any
    path: Optional[str]
    reason: str


@st.composite
def invalid_search_spaces(draw: Callable[..., Any]) -> InvalidSearchSpace:
    """Malformed search spaces, one defect each, with the path the error reports."""
    name = draw(_parameter_names())
    defects: List[Tuple[Any, str]] = [
        ({"_type": "gaussian", "_value": [0, 1]}, "unknown _type"),
        ({"_type": "uniform"}, "missing _value"),
        ({"_value": [0, 1]}, "missing _type"),
        ({"_type": "uniform", "_value": 5}, "_value is not a list"),
        ({"_type": "uniform", "_value": [1, 1]}, "low == high"),
        ({"_type": "uniform", "_value": [2, 1]}, "low > high"),
        ({"_type": "uniform", "_value": [0, 1, 2]}, "too many values"),
        ({"_type": "uniform", "_value": [0, "1"]}, "a bound is not a number"),
        ({"_type": "uniform", "_value": [0, float("inf")]}, "a bound is not finite"),
        ({"_type": "randint", "_value": [0.5, 3]}, "randint bound is not an int"),
        ({"_type": "loguniform", "_value": [0, 1]}, "log of 0"),
        ({"_type": "quniform", "_value": [0, 1]}, "q missing"),
        ({"_type": "quniform", "_value": [0, 1, 0]}, "q == 0"),
        ({"_type": "normal", "_value": [0, 0]}, "sigma == 0"),
        ({"_type": "lognormal", "_value": [0, -1]}, "sigma < 0"),
        ({"_type": "choice", "_value": []}, "empty choice"),
        ({"_type": "choice", "_value": [{"_name": "a"}, 3]}, "nested choice mixing options"),
        ("uniform", "spec is not a dict"),
    ]
    if draw(st.integers(0, 9)) == 0:
        return InvalidSearchSpace(draw(st.sampled_from([[], "x", 3, None])), None, "not a dict")
    spec, reason = draw(st.sampled_from(defects))
    if draw(st.booleans()):  # the defect inside a nested choice
        option = draw(st.text(_NAME_ALPHABET, min_size=1, max_size=4))
        space: Any = {"outer": {"_type": "choice", "_value": [{"_name": option, name: spec}]}}
        path: Optional[str] = f"outer[{option}].{name}"
    else:
        space = {name: spec}
        path = name
    return InvalidSearchSpace(space, path, reason)


# ---------------------------------------------------------------------------------------------- parameters


def _validated(space: Any) -> Dict[str, Any]:
    from fakes.search_space import validate_search_space

    validate_search_space(space)
    return dict(space)


def _q_round(x: float, q: float) -> float:
    return float(round(x / q) * q)


def _clip(x: float, low: float, high: float) -> float:
    return float(min(max(x, low), high))


def _value_strategy(spec: Dict[str, Any]) -> st.SearchStrategy[Any]:
    type_, values = spec["_type"], spec["_value"]
    if type_ == "choice":
        if all(isinstance(v, dict) and "_name" in v for v in values):
            return st.one_of([_nested_option(option) for option in values])
        return st.sampled_from(values).map(copy.deepcopy)
    if type_ == "randint":
        return st.integers(int(values[0]), int(values[1]) - 1)
    if type_ in ("uniform", "loguniform"):
        low, high = float(values[0]), float(values[1])
        return _finite(low, high)
    if type_ in ("quniform", "qloguniform"):
        low, high, q = float(values[0]), float(values[1]), float(values[2])
        return _finite(low, high).map(lambda x: _clip(_q_round(x, q), low, high))
    mu, sigma = float(values[0]), float(values[1])
    spread = _finite(mu - _NORMAL_SPREAD * sigma, mu + _NORMAL_SPREAD * sigma)
    if type_ == "normal":
        return spread
    if type_ == "qnormal":
        q = float(values[2])
        return spread.map(lambda x: _q_round(x, q))
    if type_ == "lognormal":
        return spread.map(math.exp)
    q = float(values[2])  # qlognormal
    return spread.map(lambda x: _q_round(math.exp(x), q))


def _nested_option(option: Dict[str, Any]) -> st.SearchStrategy[Dict[str, Any]]:
    fields: Dict[str, st.SearchStrategy[Any]] = {"_name": st.just(copy.deepcopy(option["_name"]))}
    for key, spec in option.items():
        if key != "_name":
            fields[key] = _value_strategy(spec)
    return _ordered_dicts(fields)


def _ordered_dicts(fields: Dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Dict[str, Any]]:
    """``st.fixed_dictionaries`` with the keys in the given order (NNI's tuners keep the space's order)."""
    order = list(fields)
    return st.fixed_dictionaries(fields).map(lambda values: {key: values[key] for key in order})


def parameters(search_space: Mapping[str, Any]) -> st.SearchStrategy[Dict[str, Any]]:
    """Parameter dicts inside ``search_space``, as NNI's tuners produce them.

    ``choice`` gives one of the options (a nested choice: ``{"_name": ..., <its parameters>}``);
    ``randint [a, b]`` an int in ``[a, b)``; ``uniform``/``loguniform`` a float in ``[low, high]``;
    ``quniform``/``qloguniform`` ``clip(round(x / q) * q, low, high)``; ``normal``/``lognormal`` a
    float within 6 sigma of ``mu`` (exp of it for ``lognormal``); ``qnormal``/``qlognormal`` that,
    rounded to a multiple of ``q`` (not clipped). Raises ``SearchSpaceError`` for a malformed space.
    """
    space = _validated(search_space)
    return _ordered_dicts({name: _value_strategy(spec) for name, spec in space.items()})


def _close_to_multiple(value: float, q: float) -> bool:
    ratio = value / q
    return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))


def _value_problem(path: str, spec: Dict[str, Any], value: Any) -> Optional[str]:
    type_, values = spec["_type"], spec["_value"]
    if type_ == "choice":
        if all(isinstance(v, dict) and "_name" in v for v in values):
            if not isinstance(value, dict) or "_name" not in value:
                return f"{path}: a nested choice gives a dict with '_name', got {value!r}"
            option = next((o for o in values if o["_name"] == value["_name"]), None)
            if option is None:
                return f"{path}: _name {value['_name']!r} is none of {[o['_name'] for o in values]!r}"
            sub_space = {k: v for k, v in option.items() if k != "_name"}
            sub_value = {k: v for k, v in value.items() if k != "_name"}
            return _dict_problem(f"{path}[{value['_name']}]", sub_space, sub_value)
        if not any(value == option for option in values):
            return f"{path}: {value!r} is none of the options {values!r}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float)
                                                                          and math.isnan(value)):
        return f"{path}: a {type_} gives a number, got {value!r}"
    if type_ == "randint":
        if not isinstance(value, int) and not float(value).is_integer():
            return f"{path}: randint gives an int, got {value!r}"
        if not values[0] <= value < values[1]:
            return f"{path}: randint {values!r} gives a value in [{values[0]}, {values[1]}), got {value!r}"
        return None
    if "normal" not in type_:
        low, high = float(values[0]), float(values[1])
        slack = 1e-9 * max(1.0, abs(low), abs(high))
        if not low - slack <= value <= high + slack:
            return f"{path}: {type_} {values!r} gives a value in [{low}, {high}], got {value!r}"
        if type_.startswith("q") and not (_close_to_multiple(value, float(values[2]))
                                          or math.isclose(value, low) or math.isclose(value, high)):
            return f"{path}: {type_} {values!r} gives a multiple of q or a bound, got {value!r}"
        return None
    if not math.isfinite(value):
        return f"{path}: {type_} gives a finite number, got {value!r}"
    if type_ == "lognormal" and value <= 0:
        return f"{path}: lognormal gives a number > 0, got {value!r}"
    if type_.startswith("q"):
        if not _close_to_multiple(value, float(values[2])):
            return f"{path}: {type_} {values!r} gives a multiple of q, got {value!r}"
        if type_ == "qlognormal" and value < 0:
            return f"{path}: qlognormal gives a number >= 0, got {value!r}"
    return None


def _dict_problem(prefix: str, space: Dict[str, Any], params: Any) -> Optional[str]:
    if not isinstance(params, dict):
        return f"{prefix or 'parameters'}: expected a dict, got {params!r}"
    missing = [k for k in space if k not in params]
    extra = [k for k in params if k not in space]
    if missing or extra:
        return f"{prefix or 'parameters'}: keys differ from the space's (missing {missing}, unexpected {extra})"
    for name, spec in space.items():
        problem = _value_problem(f"{prefix}.{name}" if prefix else name, spec, params[name])
        if problem:
            return problem
    return None


def parameters_in_space(params: Any, search_space: Mapping[str, Any]) -> bool:
    """Whether ``params`` could have been generated from ``search_space`` (see :func:`parameters`;
    ``normal`` values may be anywhere)."""
    return _dict_problem("", _validated(search_space), params) is None


def assert_parameters_in_space(params: Any, search_space: Mapping[str, Any]) -> None:
    """Raise ``AssertionError`` naming the first parameter of ``params`` outside ``search_space``."""
    problem = _dict_problem("", _validated(search_space), params)
    if problem:
        raise AssertionError(f"parameters outside the search space: {problem}")


# ---------------------------------------------------------------------------------------------- durations


def durations(*, min_seconds: int = 1, max_seconds: int = 7 * 86400, units: str = "smhd",
              allow_int: bool = True) -> st.SearchStrategy[Union[str, int]]:
    """NNI durations between ``min_seconds`` and ``max_seconds`` (after NNI's rounding up).

    Strings are a number and a unit (``'90s'``, ``'1.5h'``, ``'2d'``; at most one decimal);
    with ``allow_int`` also plain ints of seconds. ``nni_exp.durations.parse_duration`` gives
    their length.
    """
    _check_size("min_seconds", min_seconds, 1)
    _check_size("max_seconds", max_seconds, 1)
    if min_seconds > max_seconds:
        raise ValueError(f"min_seconds ({min_seconds}) must be <= max_seconds ({max_seconds})")
    if not isinstance(units, str) or not units or any(u not in _DURATION_UNITS for u in units):
        raise ValueError(f"units must be made of the letters s, m, h, d, got {units!r}")
    options: List[st.SearchStrategy[Union[str, int]]] = []
    if allow_int:
        options.append(st.integers(min_seconds, max_seconds))
    for unit in dict.fromkeys(units):
        size = _DURATION_UNITS[unit]
        # NNI rounds the seconds up (after a float product, so allow one tenth of slack each side)
        low_tenths = max(1, (10 * (min_seconds - 1)) // size)
        high_tenths = (10 * max_seconds) // size + 1
        if low_tenths > high_tenths:
            continue
        options.append(st.builds(_tenths_text, st.integers(low_tenths, high_tenths), st.just(unit)))
    from nni_exp.durations import parse_duration

    return st.one_of(options).filter(lambda value: min_seconds <= parse_duration(value) <= max_seconds)


def _tenths_text(tenths: int, unit: str) -> str:
    whole, tenth = divmod(tenths, 10)
    return (f"{whole}.{tenth}" if tenth else str(whole)) + unit


# ---------------------------------------------------------------------------------------------- configs


def _as_strategy(value: Any) -> st.SearchStrategy[Any]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def algorithm_configs(names: Sequence[str] = TUNER_NAMES) -> st.SearchStrategy[AlgorithmConfig]:
    """Built-in tuner configs (``name`` plus fitting ``class_args``)."""
    from nni_exp.config import AlgorithmConfig

    names = tuple(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"names must be non-empty strings, got {names!r}")

    def class_args(name: str) -> st.SearchStrategy[Optional[Dict[str, Any]]]:
        if name == "Random":
            return st.one_of(st.none(), st.integers(0, 2 ** 31 - 1).map(lambda seed: {"seed": seed}))
        if name == "GridSearch":
            return st.none()
        return st.one_of(st.none(), st.sampled_from(["maximize", "minimize"]).map(lambda m: {"optimize_mode": m}))

    return st.sampled_from(names).flatmap(
        lambda name: class_args(name).map(lambda args: AlgorithmConfig(name=name, class_args=args)))


@st.composite
def _experiment_config(draw: Callable[..., Any], search_space: st.SearchStrategy[Any],
                       tuner: st.SearchStrategy[Any], trial_concurrency: st.SearchStrategy[Any],
                       max_trial_number: st.SearchStrategy[Any], max_experiment_duration: st.SearchStrategy[Any],
                       max_trial_duration: st.SearchStrategy[Any]) -> ExperimentConfig:
    from nni_exp.config import AlgorithmConfig, ExperimentConfig

    config = ExperimentConfig("local")
    config.trial_command = draw(st.sampled_from(["python3 trial.py", "python trial.py --epochs 3", "./run.sh"]))
    config.search_space = draw(search_space)
    chosen = draw(tuner)
    config.tuner = chosen if isinstance(chosen, AlgorithmConfig) else AlgorithmConfig(name=str(chosen))
    config.trial_concurrency = draw(trial_concurrency)
    config.max_trial_number = draw(max_trial_number)
    config.max_experiment_duration = draw(max_experiment_duration)
    config.max_trial_duration = draw(max_trial_duration)
    config.experiment_name = draw(st.one_of(st.none(), st.text(_NAME_ALPHABET + " -", min_size=1, max_size=16)))
    config.log_level = draw(st.one_of(st.none(), st.sampled_from(["error", "warning", "info", "debug", "trace"])))
    config.debug = draw(st.booleans())
    return config


def experiment_configs(*, search_space: Any = None, tuner: Any = None, trial_concurrency: Any = None,
                       max_trial_number: Any = None, max_experiment_duration: Any = None,
                       max_trial_duration: Any = None) -> st.SearchStrategy[ExperimentConfig]:
    """Valid local-platform :class:`~nni_exp.config.ExperimentConfig` objects.

    Each keyword takes a strategy or a fixed value for that field (None: the default strategy):
    ``search_space`` :func:`search_spaces`; ``tuner`` :func:`algorithm_configs` (or tuner names);
    ``trial_concurrency`` 1-8; ``max_trial_number`` None or 1-20; the two durations None or
    :func:`durations`. The configs also start on the fake manager (``log_level`` is never
    ``'fatal'``, which NNI's Python side accepts but its manager refuses).
    """
    return _experiment_config(
        search_space=search_spaces() if search_space is None else _as_strategy(search_space),
        tuner=algorithm_configs() if tuner is None else _as_strategy(tuner),
        trial_concurrency=st.integers(1, 8) if trial_concurrency is None else _as_strategy(trial_concurrency),
        max_trial_number=(st.one_of(st.none(), st.integers(1, 20)) if max_trial_number is None
                          else _as_strategy(max_trial_number)),
        max_experiment_duration=(st.one_of(st.none(), durations()) if max_experiment_duration is None
                                 else _as_strategy(max_experiment_duration)),
        max_trial_duration=(st.one_of(st.none(), durations()) if max_trial_duration is None
                            else _as_strategy(max_trial_duration)),
    )


class InvalidConfig(NamedTuple):
    """A config that fails validation: ``ConfigError.field`` is ``field``; ``value`` is what was set."""

    config: ExperimentConfig
    field: str
    value: Any


_BAD_DURATIONS: Tuple[Any, ...] = ("10", "10x", "abcs", "1.5.2h", "0s", "-5m", 0, -3, "", True)


#: The fields :func:`invalid_experiment_configs` breaks, with the wrong values it draws for each.
_INVALID_VALUES: Dict[str, st.SearchStrategy[Any]] = {
    "trial_concurrency": st.one_of(st.integers(-5, 0), st.sampled_from(["2", 1.5, None, True])),
    "max_trial_number": st.one_of(st.integers(-5, 0), st.sampled_from(["10", 2.5])),
    "max_experiment_duration": st.sampled_from(_BAD_DURATIONS),
    "max_trial_duration": st.sampled_from(_BAD_DURATIONS),
    "log_level": st.sampled_from(["verbose", "INFO", "", "warn"]),
    "tuner": st.just(None),
    "search_space": st.just(None),
    "tuner_gpu_indices": st.sampled_from([[0, 0], [-1], [1, 2, 1], "0,x"]),
    "experiment_name": st.sampled_from([3, ["a"]]),
    "use_annotation": st.sampled_from(["yes", 1]),
}
#: Field names :func:`invalid_experiment_configs` can break.
INVALID_CONFIG_FIELDS = tuple(sorted(_INVALID_VALUES))


def invalid_experiment_configs(fields: Optional[Sequence[str]] = None) -> st.SearchStrategy[InvalidConfig]:
    """Otherwise valid configs with one wrong field (one of ``fields``, default: any of
    :data:`INVALID_CONFIG_FIELDS`), for error-path tests::

        @given(invalid_experiment_configs())
        def test_rejected(case):
            with pytest.raises(ConfigError) as info:
                case.config.validate()
            assert info.value.field == case.field
    """
    chosen = INVALID_CONFIG_FIELDS if fields is None else tuple(fields)
    unknown = sorted(set(chosen) - set(INVALID_CONFIG_FIELDS))
    if unknown or not chosen:
        raise ValueError(f"invalid_experiment_configs(fields=...) takes a non-empty subset of "
                         f"{', '.join(INVALID_CONFIG_FIELDS)}; got {list(chosen)!r}")
    return _invalid_experiment_configs(sorted(chosen))


@st.composite
def _invalid_experiment_configs(draw: Callable[..., Any], fields: List[str]) -> InvalidConfig:
    config = draw(experiment_configs(search_space=search_spaces(max_size=2, max_depth=1)))
    field = draw(st.sampled_from(fields))
    value = draw(_INVALID_VALUES[field])
    setattr(config, field, value)
    return InvalidConfig(config, field, value)


# ---------------------------------------------------------------------------------------------- trials


def metrics(*, allow_dict: bool = True) -> st.SearchStrategy[Any]:
    """Metric values a trial may report: finite numbers (ints exact in JavaScript) or, with
    ``allow_dict``, dicts with a numeric ``'default'`` and other numeric entries."""
    number = st.one_of(st.integers(-_JS_SAFE_INT, _JS_SAFE_INT), _finite(-1e9, 1e9))
    if not allow_dict:
        return number
    extra = st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(lambda k: k != "default"),
                            number, max_size=2)
    as_dict = st.tuples(number, extra).map(lambda pair: {"default": pair[0], **pair[1]})
    return st.one_of(number, as_dict)


class ScriptedTrialFailure(RuntimeError):
    """Raised by a :class:`TrialBehaviour` whose plan fails (the trial ends FAILED)."""


@dataclass(frozen=True)
class TrialPlan:
    """What one scripted trial does: sleep and report each step, sleep ``tail``, then fail or
    return ``final`` (None: no final result)."""

    steps: Tuple[Tuple[float, Any], ...] = ()
    tail: float = 0.0
    final: Any = None
    fails: bool = False

    @property
    def duration(self) -> float:
        """Virtual seconds the trial runs."""
        return sum(pause for pause, _ in self.steps) + self.tail

    @property
    def intermediate(self) -> List[Any]:
        """The intermediate results, in order."""
        return [value for _, value in self.steps]

    @property
    def reports_final(self) -> bool:
        """Whether a successful run reports a final result."""
        return not self.fails and self.final is not None


@dataclass(frozen=True)
class TrialBehaviour:
    """A trial function for ``FakeManager(trial=...)``: trial ``n`` (its sequence id) follows
    ``plans[n % len(plans)]``, so the same sequence id always behaves the same."""

    plans: Tuple[TrialPlan, ...]

    def __post_init__(self) -> None:
        if not self.plans or not all(isinstance(plan, TrialPlan) for plan in self.plans):
            raise ValueError("a TrialBehaviour needs at least one TrialPlan")

    def plan_for(self, sequence_id: int) -> TrialPlan:
        """The plan trial ``sequence_id`` follows."""
        return self.plans[sequence_id % len(self.plans)]

    def __call__(self, params: Dict[str, Any], trial: Any) -> Any:
        plan = self.plan_for(int(trial.sequence_id))
        for pause, value in plan.steps:
            trial.sleep(pause)
            trial.report_intermediate_result(value)
        trial.sleep(plan.tail)
        if plan.fails:
            raise ScriptedTrialFailure(f"scripted failure of trial {trial.sequence_id}")
        return plan.final


def _seconds(max_seconds: float, min_seconds: float = 0.0) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0, 10.0]), _finite(0.0, max_seconds)).map(
        lambda s: float(min(max(s, min_seconds), max(max_seconds, min_seconds))))


def trial_plans(*, max_steps: int = 5, max_step_seconds: float = 30.0, min_tail: float = 0.0,
                failure_rate: float = 0.2,
                final_metrics: Optional[st.SearchStrategy[Any]] = None) -> st.SearchStrategy[TrialPlan]:
    """Plans of one scripted trial: 0..``max_steps`` (pause, intermediate metric) steps, a tail of at
    least ``min_tail`` seconds, a final result (sometimes None) or, about ``failure_rate`` of the
    time, a failure."""
    _check_size("max_steps", max_steps)
    if not (isinstance(min_tail, (int, float)) and 0 <= min_tail < math.inf):
        raise ValueError(f"min_tail must be a finite number >= 0, got {min_tail!r}")
    if not 0.0 <= failure_rate <= 1.0:
        raise ValueError(f"failure_rate must be in [0, 1], got {failure_rate!r}")
    if not (isinstance(max_step_seconds, (int, float)) and 0 <= max_step_seconds < math.inf):
        raise ValueError(f"max_step_seconds must be a finite number >= 0, got {max_step_seconds!r}")
    finals = metrics() if final_metrics is None else final_metrics
    steps = st.lists(st.tuples(_seconds(max_step_seconds), metrics()), max_size=max_steps).map(tuple)
    fails = st.integers(0, 999).map(lambda n: n < failure_rate * 1000)
    return st.builds(TrialPlan, steps=steps, tail=_seconds(max_step_seconds, float(min_tail)),
                     final=st.one_of(finals, finals, st.none()), fails=fails)


def trial_behaviours(*, max_plans: int = 4, **plan_options: Any) -> st.SearchStrategy[TrialBehaviour]:
    """Scripted trial functions (:class:`TrialBehaviour`) with 1..``max_plans`` plans; keyword
    arguments go to :func:`trial_plans`."""
    _check_size("max_plans", max_plans, 1)
    return st.lists(trial_plans(**plan_options), min_size=1, max_size=max_plans).map(
        lambda plans: TrialBehaviour(tuple(plans)))


def _json_equal(a: Any, b: Any) -> bool:
    """Whether two values are equal once both went through JSON (as metrics do)."""
    return bool(json.loads(json.dumps(a)) == json.loads(json.dumps(b)))


# ---------------------------------------------------------------------------------------------- registration


# Registration for the types defined above (hypothesis may have run the entry point before they existed).
_register_type_strategies()
