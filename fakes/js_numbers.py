"""How NNI 3.0's manager (JavaScript) turns config values into numbers.

The manager compares and subtracts config values as they arrived in the JSON body: JavaScript's
``ToNumber`` (:func:`js_to_number`) decides what a string such as ``"1e400"``, ``"0x10"`` or
``" 3 "`` means, and ``toSeconds`` (:func:`js_to_seconds`) what a duration such as ``"10m"``,
``"1e400s"`` or ``"Infinityh"`` means. Python's ``float()`` differs (it accepts ``"inf"``,
``"nan"``, ``"1_0"``; it refuses ``"0x10"`` and ``""``) and ``math.ceil`` of an infinity raises
``OverflowError``, so the simulated manager uses these instead.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["js_to_number", "js_to_seconds", "DurationError"]

#: JavaScript's WhiteSpace and LineTerminator characters (what ``Number()`` trims).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_NON_DECIMAL = re.compile(r"0(?:[xX](?P<hex>[0-9a-fA-F]+)|[oO](?P<oct>[0-7]+)|[bB](?P<bin>[01]+))")
_TIME_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


class DurationError(ValueError):
    """A duration the manager's ``toSeconds`` throws on; the message is the JavaScript error's."""


def js_to_number(value: Any, missing: float) -> float:
    """JavaScript's ``ToNumber(value)`` of a JSON value (``missing`` for an absent one, ``None``).

    Numbers stay as they are (``1e400`` arrives as an infinity), booleans are 0 or 1, strings are
    read as ``Number(string)`` reads them (``""`` is 0, ``"0x10"`` 16, ``"Infinity"`` an infinity,
    anything else not numeric NaN), arrays and objects are NaN.
    """
    if value is None:
        return missing
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return _finite_or_infinite(value)
    if isinstance(value, str):
        return _string_to_number(value)
    return math.nan


def js_to_seconds(value: Any) -> float:
    """The manager's ``toSeconds``: an infinity when unset (``None``), numbers as they are, strings
    ``<number><d|h|m|s>`` (the unit case-insensitive) rounded up to whole seconds.

    The number part is read by ``Number()`` after the whole string is lower-cased, so
    ``"1e400s"`` is an infinity and ``"Infinityh"`` NaN (both mean: no limit). Raises
    :class:`DurationError`, with the manager's message, for a string without a unit and for a value
    that is neither a number nor a string.
    """
    if value is None:
        return math.inf
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite_or_infinite(value)
    if not isinstance(value, str):
        raise DurationError("value.toLowerCase is not a function")
    text = value.lower()
    for unit, seconds in _TIME_UNITS:
        if text.endswith(unit):
            number = _string_to_number(text[:-1]) * seconds
            return float(math.ceil(number)) if math.isfinite(number) else number
    raise DurationError(f'Bad unit in "{text}"')


def _finite_or_infinite(value: float) -> float:
    """``value`` as a double: an integer too large for one is an infinity, as in JavaScript."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _string_to_number(text: str) -> float:
    """``Number(text)`` in JavaScript."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    match = _NON_DECIMAL.fullmatch(text)
    if match:
        digits, base = next((match.group(name), base) for name, base in (("hex", 16), ("oct", 8), ("bin", 2))
                            if match.group(name) is not None)
        return _finite_or_infinite(int(digits, base))
    return math.nan
