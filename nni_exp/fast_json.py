"""``json.loads`` for the many small JSON texts inside a manager's answer, without its per-call overhead.

``json.loads`` spends more time on its Python layers (two whitespace regex matches, argument checks)
than in the C scanner for texts of a few dozen bytes, such as each trial's hyper-parameter string or
each metric's doubly encoded value. These functions call the C scanner directly, or orjson when it is
installed (``pip install 'nni-exp[fast]'``: 5 to 9 times faster again on these texts, see
``benchmarks/perf_table.py``), and fall back to ``json.loads`` for anything else: a text that is not
a plain ``str``, has whitespace around it, holds a number of 19 digits or more (orjson makes a float
of an integer beyond 64 bits), or that orjson refuses (``NaN``, ``1e400``, lone surrogates ...).
Values and errors are exactly ``json.loads``'s
(``tests/test_fast_json.py`` compares them).
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # (public, missing from typeshed)
from typing import Any, Callable, Optional

__all__ = ["loads", "loads_twice", "ORJSON"]

_raw_decode = json.JSONDecoder().raw_decode

_orjson_loads: Optional[Callable[[str], Any]]
try:
    import orjson
except ImportError:  # optional: nni-exp[fast]
    _orjson_loads = None
else:
    _orjson_loads = orjson.loads
#: Whether orjson decodes here.
ORJSON = _orjson_loads is not None
_WHITESPACE = " \t\n\r"
#: orjson reads an integer beyond 64 bits as a float where json keeps it whole: such texts (any run of
#: 19 digits, conservatively) are left to json.
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def loads(text: Any) -> Any:
    """``json.loads(text)``."""
    if type(text) is str:
        if (_orjson_loads is not None and text and text[0] not in _WHITESPACE and text[-1] not in _WHITESPACE
                and _LONG_NUMBER.search(text) is None):
            try:
                value = _orjson_loads(text)
            except ValueError:
                pass  # json.loads decides: it accepts NaN and big integers, or raises its own error
            else:
                return value
        try:
            value, end = _raw_decode(text)
        except ValueError:
            pass  # json.loads raises the same error (or accepts leading whitespace)
        else:
            if end == len(text):
                return value
    return json.loads(text)


def loads_twice(text: Any) -> Any:
    """``json.loads(json.loads(text))``: a value sent as JSON text inside a JSON string."""
    if type(text) is str and text[:1] == '"':
        try:
            inner, end = scanstring(text, 1)
        except ValueError:
            pass
        else:
            if end == len(text):
                return loads(inner)
    return json.loads(json.loads(text))

