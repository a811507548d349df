"""Values shown in error messages: short, and never an error themselves."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["short_repr"]


def short_repr(value: Any, limit: int = 100) -> str:
    """``repr(value)`` cut to ``limit`` characters.

    Never raises: an int too long to print (Python refuses more than 4300 digits) is shown by its
    size, and a value whose ``repr`` fails (or nests too deep) by its type.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        sign = "-" if value < 0 else ""
        return f"{sign}<an int of about {int(value.bit_length() * math.log10(2)) + 1} digits>"
    try:
        text = repr(value)
    except (ValueError, RecursionError, TypeError, AttributeError, KeyError, NotImplementedError):
        return f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."
