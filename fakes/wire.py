"""JSON as the Node manager writes it, and as NNI's Python side writes it.

The manager answers with ``JSON.stringify``: compact, non-ASCII kept, and JavaScript number
formatting (``1.0`` is written ``1``, ``1e-7`` is ``1e-7``, ``1e21`` is ``1e+21``). Trials and the
tuner write Python's ``json.dumps`` (``", "`` and ``": "`` separators, ``2.0``). Getting both right
is what makes the fake's bytes match the real manager's.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, Callable, Dict

__all__ = ["js_dumps", "js_dumps_strings", "py_dumps", "js_number", "UNDEFINED"]


class _Undefined:
    """JavaScript's ``undefined`` as a dict value: the key keeps its place but is not written."""

    _instance = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __copy__(self) -> _Undefined:
        return self

    def __deepcopy__(self, memo: object) -> _Undefined:
        return self

    def __reduce__(self) -> str:
        return "UNDEFINED"


#: A dict value that ``js_dumps`` skips, as ``JSON.stringify`` skips ``undefined``.
UNDEFINED = _Undefined()


def py_dumps(value: Any) -> str:
    """``json.dumps(value)`` as NNI's trial and tuner code produce it (the same C encoder with the same
    settings, called without ``json.dumps``'s Python layers: half the time for a command's few keys)."""
    if _make_c_encoder is None:
        return json.dumps(value)
    # a new encoder each call: its ``markers`` dict (circular reference check) is per call in json too
    return "".join(_make_c_encoder({}, _not_serializable, _encode_string_ascii, None, ": ", ", ", False, False,
                                   True)(value, 0))


def js_number(value: float) -> str:
    """``String(value)`` in JavaScript for a finite float (ECMAScript Number::toString)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    decimal_digits = Decimal(repr(abs(value))).as_tuple()  # shortest round-trip digits
    digits = "".join(map(str, decimal_digits.digits)).lstrip("0")
    exponent = int(decimal_digits.exponent)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + exponent  # the decimal point sits n digits after the first significant one
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    power = n - 1
    exponent_text = f"e{'+' if power >= 0 else '-'}{abs(power)}"
    if k == 1:
        return sign + digits + exponent_text
    return sign + digits[0] + "." + digits[1:] + exponent_text


def js_dumps(value: Any) -> str:
    """``JSON.stringify(value)``; NaN and infinities become ``null`` as in JavaScript."""
    try:
        # Fast path: the C encoder, once floats that JavaScript writes as integers became ints.
        return _compact(_plain(value))
    except _NeedsSlowPath:
        return "".join(_encode(value))


_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)  # None where json has no C accelerator
_not_serializable = json.JSONEncoder().default  # json's TypeError for a value it cannot write
_encode_string_ascii = json.encoder.encode_basestring_ascii
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_compact: Callable[[Any], str]
if _make_c_encoder is None:
    _compact = _COMPACT.encode
else:
    # Built once: no circular reference check (``markers`` None), as ``_plain`` walked the value first and
    # an encoder with a shared ``markers`` dict would not be safe across threads.
    _compact_chunks = _make_c_encoder(None, _not_serializable, json.encoder.encode_basestring, None, ":", ",",
                                      False, False, False)

    def _compact_c(value: Any) -> str:
        """``_COMPACT.encode(value)`` for a value ``_plain`` returned."""
        return "".join(_compact_chunks(value, 0))

    _compact = _compact_c


def js_dumps_strings(value: Dict[str, str]) -> str:
    """``JSON.stringify`` of a flat object whose values are all strings (Python's encoder writes them
    as JavaScript does, so no conversion is needed)."""
    if not all(type(item) is str for item in value.values()) or not all(type(key) is str for key in value):
        return js_dumps(value)
    return _compact(value)


class _NeedsSlowPath(Exception):
    """A value the C encoder would write differently from JavaScript."""


def _plain(value: Any) -> Any:
    """``value`` with integral floats as ints; raises _NeedsSlowPath for anything else that Python's
    encoder would write differently from ``JSON.stringify``."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool:
        return value
    if kind is float:
        if value.is_integer() and abs(value) < 1e16:
            return int(value)
        if 1e-4 <= abs(value) < 1e16:
            return value  # Python's repr and JavaScript agree: shortest digits, no exponent
        raise _NeedsSlowPath
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NeedsSlowPath
            if item is not UNDEFINED:  # JSON.stringify skips the key
                result[key] = _plain(item)
        return result
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    raise _NeedsSlowPath


def _encode(value: Any) -> Any:
    if value is None or value is True or value is False:
        yield json.dumps(value)
    elif isinstance(value, str):
        yield json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int):
        yield str(value)
    elif isinstance(value, float):
        yield js_number(value) if math.isfinite(value) else "null"
    elif isinstance(value, dict):
        yield "{"
        first = True
        for key, item in value.items():
            if item is UNDEFINED:
                continue
            if not first:
                yield ","
            first = False
            yield json.dumps(str(key), ensure_ascii=False)
            yield ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _encode(item)
        yield "]"
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
