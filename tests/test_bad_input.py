"""Item 7 of issue 8: no bad input to a public entry point escapes as a bare error from inside.

For every entry point of :data:`tests.bad_input.ENTRY_POINTS` (the ``Experiment`` API, the config
classes and files, the ``nni-exp`` command line), random values (scalars, huge ints, NaN and
infinities, bytes, sets, nested, self-holding and 400-deep containers ...) must either be accepted
or refused with a typed error (an :class:`~nni_exp.errors.NniExpError`, which keeps NNI's base
class; a usage ``SystemExit(2)`` from the command line) whose message names the bad value. Values
an entry point must refuse (``must_fail``) must not be accepted.

Bounded and deterministic: ``derandomize=True``, ``max_examples`` from ``NNI_EXP_BAD_INPUT_EXAMPLES``
(default 40 per entry point), on the in-memory fake. Counts of a bigger run, before and after the
fixes: ``python benchmarks/bad_input_escapes.py``.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from .bad_input import ENTRY_POINTS, Context, EntryPoint, outcome, running_context, short_repr

EXAMPLES = int(os.environ.get("NNI_EXP_BAD_INPUT_EXAMPLES", "40"))


@pytest.fixture
def context() -> Iterator[Context]:
    made = running_context()
    yield made
    made.close()


@pytest.mark.filterwarnings("ignore:Experiment.(resume|view).id. is deprecated:DeprecationWarning")
@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=[entry.name for entry in ENTRY_POINTS])
def test_bad_input_gets_a_typed_error_naming_it(entry: EntryPoint, context: Context) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(entry.values)
    def check(value: Any) -> None:
        result = outcome(entry, context, value)
        assert result.bare is None, f"{entry.name}({short_repr(value, 200)}) escaped: {result.bare}"
        if result.error is None:
            assert not entry.must_fail(value), f"{entry.name}({short_repr(value, 200)}) was accepted"
            return
        assert entry.names(value, result.error), \
            f"{entry.name}: the message does not name {short_repr(value)}: {short_repr(str(result.error), 300)}"

    check()


# ---------------------------------------------------------------------------- the examples


def test_a_list_in_a_platform_list_is_a_config_error(context: Context) -> None:
    from nni_exp import Experiment
    from nni_exp.errors import ConfigError

    with pytest.raises(ConfigError, match=r"Bad training service platform: \[\]"):
        Experiment([[]], backend=context.fake)  # before: TypeError: unhashable type: 'list'


@pytest.mark.parametrize("space, part", [
    ({"x": {"_type": "choice", "_value": [{1, 2}]}}, "search_space['x']['_value'][0]: {1, 2} (a set)"),
    ({"x": {"_type": "choice", "_value": [b"ab"]}}, "search_space['x']['_value'][0]: b'ab' (a bytes)"),
    ({"x": {"_type": "uniform", "_value": [0, float("nan")]}}, "search_space['x']['_value'][1]: nan"),
])
def test_a_search_space_json_cannot_carry_is_refused_before_it_is_sent(context: Context, space: Any,
                                                                        part: str) -> None:
    from nni_exp.errors import ConfigError

    from .conftest import make_config

    with pytest.raises(ConfigError, match="search_space") as info:
        context.experiment.update_search_space(space)  # before: TypeError from the JSON encoder
    assert part in str(info.value)
    config = make_config()
    config.search_space = space
    with pytest.raises(ConfigError) as info:
        config.validate()  # before: valid, then the JSON encoder failed in start()
    assert info.value.field == "search_space" and part.split(": ", 1)[1] in str(info.value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "1e305d", "Infinityh", "1e400s", 2**53 * 86400,
                                   "104249991375d"])
def test_durations_the_manager_cannot_hold_are_config_errors(context: Context, value: Any) -> None:
    from nni_exp.errors import ConfigError

    with pytest.raises(ConfigError, match="max_experiment_duration") as info:
        context.experiment.update_max_experiment_duration(value)  # before: OverflowError for the first
    assert short_repr(value)[:20].strip("'") in str(info.value) or "Bad number" in str(info.value)


@pytest.mark.parametrize("method", ["update_trial_concurrency", "update_max_trial_number"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2**53, 10**400, -(10**5000)],
                         ids=["inf", "nan", "2**53", "10**400", "-10**5000"])
def test_counts_the_manager_cannot_hold_are_config_errors(context: Context, method: str, value: Any) -> None:
    from nni_exp.errors import ConfigError

    before = context.experiment.get_experiment_profile()["params"]
    with pytest.raises(ConfigError, match="must be an int from .* to 9007199254740991") as info:
        getattr(context.experiment, method)(value)
    assert short_repr(value)[:10] in str(info.value) or "an int of about" in str(info.value)
    assert context.experiment.get_experiment_profile()["params"] == before  # nothing was sent
