"""``json.loads`` for the many small JSON texts inside a manager's answer, without its per-call overhead.

``json.loads`` spends more time on its Python layers (two whitespace regex matches, argument checks)
than in the C scanner for texts of a few dozen bytes, such as each trial's hyper-parameter string or
each metric's doubly encoded value. These functions call the C scanner directly, or orjson when it is
installed (``pip install 'nni-exp[fast]'``: 5 to 9 times faster again on these texts, and about
1.5 times on a whole answer; see ``benchmarks/perf_table.py``), and fall back to ``json.loads`` for
anything else: a text that is not a plain ``str``, has whitespace around it, holds a run of 19 digits
or more that is not a fraction's (orjson makes a float of an integer beyond 64 bits), or that orjson
refuses (``NaN``, ``1e400``, lone surrogates ...). Values and errors are exactly ``json.loads``'s
(``tests/test_fast_json.py`` compares them).
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]  # (public, missing from typeshed)
from typing import Any, Callable, Optional, Union

__all__ = ["loads", "loads_twice", "ORJSON"]

_raw_decode = json.JSONDecoder().raw_decode

_orjson_loads: Optional[Callable[[Union[str, bytes]], Any]]
try:
    import orjson
except ImportError:  # optional: nni-exp[fast]
    _orjson_loads = None
else:
    _orjson_loads = orjson.loads
#: Whether orjson decodes here.
ORJSON = _orjson_loads is not None
_WHITESPACE = " \t\n\r"
#: orjson reads an integer beyond 64 bits as a float where json keeps it whole: texts with a run of 19
#: digits or more that may be an integer (conservatively: any run not right after a decimal point; a
#: fraction's digits make a float either way, and a manager's answers hold many) are left to json.
#: Found with bytes operations (digits become ``0``, a point stays, anything else becomes a space): a
#: regular expression costs more than orjson saves on a large answer.
_DIGIT_CLASSES = bytes(ord("0") if 48 <= byte <= 57 else byte if byte == ord(".") else ord(" ")
                       for byte in range(256))
_LONG_RUN = b"0" * 19
_LONG_INTEGER_START = b" " + _LONG_RUN
#: Texts shorter than this cannot hold such a run.
_SHORTEST_LONG = len(_LONG_RUN)
#: What a text that is one number starts with. Such a text (a metric's value, typically) skips the
#: check above: orjson decodes it, and a float it made of a text with no fraction and no exponent was
#: an integer beyond 64 bits, which json decides.
_NUMBER_START = frozenset("-0123456789")
_DIGITS = frozenset("0123456789")


#: What :func:`_orjson_number` returns when json.loads must decide.
_UNDECIDED = object()


def _orjson_number(text: str) -> Any:
    """orjson's value of ``text``, a JSON number text with neither leading nor trailing whitespace; or
    :data:`_UNDECIDED` when json.loads must decide (orjson refused it, or made a float of an integer beyond
    64 bits)."""
    try:
        value = _orjson_loads(text)  # type: ignore[misc]  # (only called with orjson installed)
    except ValueError:
        return _UNDECIDED  # json.loads accepts NaN and big integers, or raises its own error
    if type(value) is float and _integer_text(text):
        return _UNDECIDED
    return value


def _integer_text(text: str) -> bool:
    """Whether the JSON number ``text`` has neither a fraction nor an exponent."""
    return "." not in text and "e" not in text and "E" not in text


def _long_text_for_orjson(text: str) -> Optional[bytes]:
    """``text`` (at least :data:`_SHORTEST_LONG` characters) as UTF-8 for orjson, or None when json must
    decide (see ``_LONG_RUN``)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: json's business
        return None
    classes = data.translate(_DIGIT_CLASSES)
    # ``find`` first: a text without any run is the rule, and that search is the cheapest.
    if classes.find(_LONG_RUN) >= 0 and (_LONG_INTEGER_START in classes or classes.startswith(_LONG_RUN)):
        return None
    return data


def loads(text: Any) -> Any:
    """``json.loads(text)``."""
    if type(text) is str and _orjson_loads is not None and text and text[-1] not in _WHITESPACE:
        if text[0] in _NUMBER_START:
            value = _orjson_number(text)
            if value is not _UNDECIDED:
                return value
        elif text[0] not in _WHITESPACE:
            data = text if len(text) < _SHORTEST_LONG else _long_text_for_orjson(text)
            if data is not None:
                try:
                    return _orjson_loads(data)
                except ValueError:
                    pass
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
    if type(text) is str and len(text) > 2 and text[0] == '"' and _orjson_loads is not None:
        # The usual metric: a number in quotes. A number's text needs no escape in a JSON string, so
        # the quoted text is the number's when orjson reads it as one: it starts with a sign or digit
        # and ends with a digit (orjson would skip whitespace, which is no string's to have here).
        inner = text[1:-1]
        if text[-1] == '"' and inner[0] in _NUMBER_START and inner[-1] in _DIGITS:
            value = _orjson_number(inner)
            if value is not _UNDECIDED:
                return value
    if type(text) is str and text[:1] == '"':
        try:
            inner, end = scanstring(text, 1)
        except ValueError:
            pass
        else:
            if end == len(text):
                return loads(inner)
    return json.loads(json.loads(text))

