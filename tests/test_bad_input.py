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
