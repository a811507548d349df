"""JSON as the Node manager writes it."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.wire import UNDEFINED, js_dumps, js_number, py_dumps
from fakes.wire_rows import METRIC_FIELDS, metric_json


def _node() -> str:
    found = shutil.which("node")
    if found:
        return found
    nni_node = pytest.importorskip("nni_node")
    return str(Path(nni_node.__file__).parent / "node")


@pytest.mark.parametrize("value,text", [
    (1.0, "1"), (0.5, "0.5"), (1e-7, "1e-7"), (1e21, "1e+21"), (1.5e21, "1.5e+21"), (1e-6, "0.000001"),
    (1e16, "10000000000000000"), (12345678901234567890.0, "12345678901234567000"), (-0.25, "-0.25"),
    (0.1 + 0.2, "0.30000000000000004"), (5e-324, "5e-324"), (-0.0, "0"),
])
def test_js_number_known_values(value, text):
    assert js_number(value) == text


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=50, max_size=200))
def test_js_number_matches_node(values):
    script = "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); console.log(JSON.stringify(v))"
    expected = subprocess.run([_node(), "-e", script], input=json.dumps(values), capture_output=True, text=True,
                              check=True).stdout.strip()
    assert js_dumps(values) == expected


def test_js_dumps_objects():
    assert js_dumps({"a": [1, 2.0, "é", None, True], "b": {"c": math.nan}, "u": UNDEFINED}) == \
        '{"a":[1,2,"é",null,true],"b":{"c":null}}'
    with pytest.raises(TypeError, match="cannot encode set"):
        js_dumps({1, 2})


_columns = st.one_of(st.integers(-(2 ** 70), 2 ** 70), st.booleans(), st.none(), st.floats(), st.text(max_size=6),
                     st.sampled_from(["FINAL", "PERIODICAL", "\ud800", "é\u2028\x00\x1f\"\\"]))


@given(st.tuples(st.integers(0, 2 ** 45) | _columns, st.text(max_size=6) | _columns, st.none() | st.text(max_size=3)
                 | _columns, st.sampled_from(["FINAL", "PERIODICAL"]) | _columns, st.integers(0, 9) | _columns,
                 st.text(max_size=12).map(json.dumps) | _columns))
def test_a_metric_row_is_written_as_js_dumps_writes_its_dict(row: tuple) -> None:
    assert metric_json(row) == js_dumps(dict(zip(METRIC_FIELDS, row)))


def _outcome(function: Any, value: Any) -> Any:
    try:
        return "value", function(value)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", type(error), str(error)


_keys = st.text(max_size=4) | st.integers() | st.floats() | st.booleans() | st.none() | st.tuples(st.integers())
_python_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.just(object()) | st.just({1, 2}),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)


@given(_python_values)
def test_py_dumps_is_json_dumps(value: Any) -> None:
    assert _outcome(py_dumps, value) == _outcome(json.dumps, value)


def test_py_dumps_reports_a_cycle_as_json_dumps_does_and_stays_usable() -> None:
    cyclic: List[Any] = [1]
    cyclic.append(cyclic)
    assert _outcome(py_dumps, cyclic) == _outcome(json.dumps, cyclic)
    assert _outcome(py_dumps, cyclic)[0] == "error"
    shared = [1]
    assert py_dumps([shared, shared]) == "[[1], [1]]"  # not a cycle, and nothing left over from the last call


@given(_python_values)
def test_js_dumps_fails_or_succeeds_as_before(value: Any) -> None:
    """The prebuilt compact encoder writes what ``json.JSONEncoder`` with the same settings writes."""
    from fakes import wire

    plain = _outcome(wire._plain, value)
    if plain[0] == "value":
        assert _outcome(wire._compact, plain[1]) == _outcome(wire._COMPACT.encode, plain[1])
