"""Which Python values can travel to the NNI manager as JSON, and the numbers it can hold.

The manager is JavaScript: it parses every number into a double, and its JSON parser takes no
``NaN`` or ``Infinity``. Python's :mod:`json` writes sets, bytes or objects nowhere (a ``TypeError``
from deep inside the encoder), writes ``NaN`` the manager refuses, and an int of 400 digits the
manager reads as ``Infinity``. :func:`json_value_problem` finds such a value before it is sent.
"""

from __future__ import annotations

import math
import os
from typing import Any, List, Optional, Tuple

from .reprs import short_repr

__all__ = ["MAX_SAFE_INTEGER", "MAX_JSON_DEPTH", "json_value_problem"]

#: JavaScript's ``Number.MAX_SAFE_INTEGER``: the largest count the manager holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1
#: Deepest nesting accepted (Python's encoder fails near its recursion limit, ~1000 levels).
MAX_JSON_DEPTH = 100
_KEY_TYPES = (str, int, float, bool, type(None))
#: The largest finite double: an int beyond it reads as Infinity in JavaScript.
_LARGEST_FLOAT = 1.7976931348623157e308


def json_value_problem(value: Any, name: str, *, allow: Tuple[type, ...] = ()) -> Optional[str]:
    """None when ``value`` can be sent to the manager as JSON, else what is wrong, naming the bad
    part by its path under ``name`` (``search_space['x']['_value'][1]: a set ({3}) is not a JSON value``).

    JSON values: None, bools, ints (any size up to what a double holds), finite floats, strings,
    lists and tuples, dicts whose keys are strings (or numbers, bools, None, which :mod:`json`
    writes as strings), nested at most :data:`MAX_JSON_DEPTH` deep. Instances of ``allow`` are
    taken as they are (config objects, paths: the caller encodes them).
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or (kind is int and -_LARGEST_FLOAT <= value <= _LARGEST_FLOAT) \
            or (kind is float and math.isfinite(value)):
        return None  # the common case, without the walk
    stack: List[Tuple[str, Any, int]] = [(name, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            shown = path if len(path) <= 80 else f"{path[:40]}...{path[-30:]}"
            return f"{shown}: nested deeper than {MAX_JSON_DEPTH} levels (or a container that holds itself)"
        if item is None or isinstance(item, (bool, str)) or (allow and isinstance(item, allow)):
            continue
        if isinstance(item, int):
            if abs(item) > _LARGEST_FLOAT:
                return f"{path}: {short_repr(item)} is too large for a JSON number (the manager reads it as Infinity)"
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{path}: {item!r} is not a JSON number"
            continue
        if isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{path}[{index}]", child, depth + 1) for index, child in enumerate(item)]))
            continue
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                if not isinstance(key, _KEY_TYPES) or (isinstance(key, float) and not math.isfinite(key)):
                    return f"{path}: key {short_repr(key)} ({_kind(key)}) is not a JSON object key"
                children.append((f"{path}[{short_repr(key, 40)}]", child, depth + 1))
            stack.extend(reversed(children))
            continue
        return f"{path}: {short_repr(item, 60)} ({_kind(item)}) is not a JSON value"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, os.PathLike):
        return "a path"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"
