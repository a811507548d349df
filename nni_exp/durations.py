"""Duration values as NNI writes them: ``'90s'``, ``'1.5h'``, ``'2d'`` or an int of seconds."""

from __future__ import annotations

import math
from typing import Union

from .json_values import MAX_SAFE_INTEGER
from .reprs import short_repr

__all__ = ["parse_duration", "DURATION_UNITS", "MAX_DURATION_SECONDS"]

#: Units in the order NNI tries them, with their length in seconds.
DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
#: Longest duration accepted: JavaScript's largest exact integer, in seconds (285 million years).
MAX_DURATION_SECONDS = MAX_SAFE_INTEGER


def parse_duration(value: Union[str, int, float]) -> int:
    """Return the number of seconds in ``value`` (rounded up, as NNI does).

    An int (or float) is already a number of seconds. A string is a number followed by one of the
    units ``d``, ``h``, ``m`` or ``s`` (case-insensitive). Raises ``ValueError`` naming the value
    when the unit is missing or unknown, the number does not parse or is not finite, or the
    duration is longer than :data:`MAX_DURATION_SECONDS`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"Bad duration {short_repr(value)}: expected a string like '30m' or a number of seconds")
    if isinstance(value, (int, float)):
        return _seconds(value, value)
    text = value.lower()
    for unit, seconds in DURATION_UNITS:
        if text.endswith(unit):
            number = text[: -len(unit)]
            try:
                amount = float(number)
            except ValueError:
                raise ValueError(f'Bad number in duration "{short_repr(text)[1:-1]}"') from None
            if math.isnan(amount) or math.isinf(amount):
                raise ValueError(f'Bad number in duration "{short_repr(text)[1:-1]}"')
            return _seconds(amount * seconds, value)
    raise ValueError(f'Bad unit in "{short_repr(text)[1:-1]}", supported units are d, h, m, s')


def _seconds(amount: Union[int, float], value: Union[str, int, float]) -> int:
    if isinstance(amount, float) and math.isnan(amount):
        raise ValueError(f"Bad duration {short_repr(value)}: not a number")
    if abs(amount) > MAX_DURATION_SECONDS:
        raise ValueError(f"Bad duration {short_repr(value)}: longer than {MAX_DURATION_SECONDS} seconds "
                         "(2**53 - 1, the most the manager holds exactly)")
    return math.ceil(amount)
