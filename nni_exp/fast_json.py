"""``json.loads`` for the many small JSON texts inside a manager's answer, without its per-call overhead.

``json.loads`` spends more time on its Python layers (two whitespace regex matches, argument checks)
than in the C scanner for texts of a few dozen bytes, such as each trial's hyper-parameter string or
each metric's doubly encoded value. These functions call the C scanner directly and fall back to
``json.loads`` for anything that is not a plain ``str`` with no surrounding whitespace, so values
and errors are exactly ``json.loads``'s.
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]  # (public, missing from typeshed)
from typing import Any

__all__ = ["loads", "loads_twice"]

_raw_decode = json.JSONDecoder().raw_decode


def loads(text: Any) -> Any:
    """``json.loads(text)``."""
    if type(text) is str:
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
