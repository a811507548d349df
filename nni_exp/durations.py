"""Duration values as NNI writes them: ``'90s'``, ``'1.5h'``, ``'2d'`` or an int of seconds."""

from __future__ import annotations

import math
from typing import Union

__all__ = ["parse_duration", "DURATION_UNITS"]

#: Units in the order NNI tries them, with their length in seconds.
DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(value: Union[str, int, float]) -> int:
    """Return the number of seconds in ``value`` (rounded up, as NNI does).

    An int (or float) is already a number of seconds. A string is a number followed by one of the
    units ``d``, ``h``, ``m`` or ``s`` (case-insensitive). Raises ``ValueError`` naming the value
    when the unit is missing or unknown or the number does not parse.
    """
    if isinstance(value, bool):
        raise ValueError(f"Bad duration {value!r}: expected a string like '30m' or a number of seconds")
    if isinstance(value, (int, float)):
        return math.ceil(value)
    if not isinstance(value, str):
        raise ValueError(f"Bad duration {value!r}: expected a string like '30m' or a number of seconds")
    text = value.lower()
    for unit, seconds in DURATION_UNITS:
        if text.endswith(unit):
            number = text[: -len(unit)]
            try:
                amount = float(number)
            except ValueError:
                raise ValueError(f'Bad number in duration "{text}"') from None
            if math.isnan(amount) or math.isinf(amount):
                raise ValueError(f'Bad number in duration "{text}"')
            return math.ceil(amount * seconds)
    raise ValueError(f'Bad unit in "{text}", supported units are d, h, m, s')
