"""Equality of decoded JSON values that ``==`` does not give: types (``1`` is not ``1.0`` nor ``True``), key
order, and NaN equal to NaN."""

from __future__ import annotations

import math
from typing import Any


def same_json(first: Any, second: Any) -> bool:
    """Whether ``first`` and ``second`` are the same JSON value, types and key order included."""
    if type(first) is not type(second):
        return False
    if type(first) is dict:
        return list(first) == list(second) and all(same_json(first[key], second[key]) for key in first)
    if type(first) is list:
        return len(first) == len(second) and all(map(same_json, first, second))
    if type(first) is float and math.isnan(first):
        return math.isnan(second)
    return bool(first == second)

