"""nni_exp.fast_json gives exactly json.loads's values and errors."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Callable, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nni_exp import fast_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
#: Texts near JSON: encoded values with whitespace around or bytes cut off, and arbitrary text.
texts = (json_values.map(json.dumps)
         | st.tuples(json_values.map(json.dumps), st.sampled_from(["", " ", "\n", "x", "]", '"']),
                     st.sampled_from(["", " ", "\t", "x", "[", '"'])).map(lambda t: t[2] + t[0] + t[1])
         | json_values.map(json.dumps).flatmap(lambda text: st.integers(0, len(text)).map(lambda n: text[:n]))
         | st.integers(-(2 ** 70), 2 ** 70).map(lambda n: f'[{n}, "{n}", {n}.5]')
         # one number alone (a metric's value): orjson decodes it, json decides the integers beyond 64 bits
         | st.integers(-(2 ** 70), 2 ** 70).map(str)
         | st.tuples(st.integers(-(2 ** 70), 2 ** 70), st.sampled_from(["", ".5", "e0", "E+2", ".0e-3", "e400", "x"]))
           .map(lambda t: f"{t[0]}{t[1]}")
         | st.sampled_from(['{"a":1,"a":2}', "1e400", "-1e400", "NaN", "[Infinity]", '"\\ud800"', "-0", "-0.0",
                            "18446744073709551616", "9223372036854775808", "1E5", "4.9e-324", '"a\\u0000b"',
                            "[" * 2000 + "]" * 2000, "-9223372036854775809", "12345678901234567890123", "-", "-x",
                            "0123", "1.", ".5",
                            "[0.12345678901234567890123, 1.00000000000000000000001e5, -0.0000000000000000000000123]",
                            '{"a": 0.1234567890123456789, "b": 12345678901234567890}', "1234567890123456789.5"])
         | st.text(max_size=20))


@pytest.fixture(autouse=True, params=["stdlib", "orjson"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with json's C scanner alone, and with orjson when it is installed."""
    if request.param == "stdlib":
        monkeypatch.setattr(fast_json, "_orjson_loads", None)
    elif not fast_json.ORJSON:
        pytest.skip("orjson is not installed (nni-exp[fast])")
    return str(request.param)


def outcome(function: Callable[[Any], Any], text: Any) -> Tuple[str, Any]:
    try:
        value = function(text)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", (type(error), str(error))
    return "value", json.dumps(value, sort_keys=False) if not _has_nan(value) else repr(value)


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list):
        return any(_has_nan(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nan(item) for item in value.values())
    return False


@given(texts)
def test_loads_is_json_loads(text: str) -> None:
    assert outcome(fast_json.loads, text) == outcome(json.loads, text)


@given(texts.map(json.dumps) | texts)
def test_loads_twice_is_json_loads_twice(text: str) -> None:
    assert outcome(fast_json.loads_twice, text) == outcome(lambda t: json.loads(json.loads(t)), text)


def test_a_number_in_quotes_with_anything_around_it_is_json_loads_twice() -> None:
    """The quoted number fast path: next to the number, what a JSON string may not hold raw (control
    characters) or a number may not (spaces, quotes, escapes, signs), every combination."""
    before = ["", " ", "\t", "\n", "\\", '"', "\\u0031", "+", "0", "-"]
    numbers = ["1", "-0", "0.5", "1e400", "123456789012345678901", "-9223372036854775809", "-1.5E-3", "NaN",
               "-Infinity", "1_0"]
    after = ["", " ", "\t", "\r", "\\", '"', "\\u0030", ".", "e", "1"]
    for first, number, last in itertools.product(before, numbers, after):
        text = f'"{first}{number}{last}"'
        assert outcome(fast_json.loads_twice, text) == outcome(lambda t: json.loads(json.loads(t)), text), text


def test_what_is_not_text_fails_as_in_json_loads() -> None:
    for value in (None, 3, b"[1]", bytearray(b'"\\"2\\""')):
        assert outcome(fast_json.loads, value) == outcome(json.loads, value)
        assert outcome(fast_json.loads_twice, value) == outcome(lambda t: json.loads(json.loads(t)), value)
