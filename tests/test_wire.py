"""JSON as the Node manager writes it."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.wire import UNDEFINED, js_dumps, js_number


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
