"""NNI's dispatcher serializer (``nni.dump`` / ``nni.load``), fast for plain JSON data.

NNI's dispatcher encodes every packed parameter set and decodes every metric and trial end with
``nni.common.serializer`` (json-tricks with a dozen hooks): about 130 µs a call, twenty times what
NNI's Random tuner needs to draw a parameter set. For plain JSON data (dicts with string keys,
lists, strings, numbers, booleans, None; no ``numpy`` scalar, no traced object, no comment, no
json-tricks ``"__...__"`` marker) the standard library gives byte-identical text and equal values
(``tests/test_search_nni.py`` checks this against NNI's own functions with hypothesis; texts are
decoded by :mod:`nni_exp.fast_json`, ``json.loads``'s values, faster); anything else goes to NNI's
functions unchanged. :func:`dump` and :func:`load` are what the in-process
dispatcher sees as ``dump``/``load`` while it works.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Callable, Optional

from nni_exp import fast_json

__all__ = ["make_serializer", "is_plain", "Serializer"]

_PLAIN_SCALARS = (str, int, float, bool, type(None))
#: ``dump`` keyword arguments the standard library handles as json-tricks does.
_DUMP_KWARGS = frozenset({"sort_keys"})


def is_plain(value: Any) -> bool:
    """True for plain JSON data, built only of the exact built-in types (subclasses excluded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, inner in item.items():
                if type(key) is not str or key.startswith("__"):
                    return False
                stack.append(inner)
        elif kind is list:
            stack.extend(item)
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


class Serializer:
    """``dump`` / ``load`` with NNI's signature: the standard library for plain data, NNI's otherwise.

    ``warn(message)`` receives the warnings NNI's functions raise on the slow path (json-tricks warns
    about numpy scalars); the real dispatcher prints them to its stderr.
    """

    def __init__(self, nni_dump: Callable[..., Any], nni_load: Callable[..., Any],
                 warn: Optional[Callable[[str], None]] = None) -> None:
        self._nni_dump = nni_dump
        self._nni_load = nni_load
        self.warn = warn

    def dump(self, obj: Any, fp: Any = None, **kwargs: Any) -> Any:
        if fp is None and kwargs.keys() <= _DUMP_KWARGS and is_plain(obj):
            return json.dumps(obj, **kwargs)
        return self._slow(self._nni_dump, obj, fp, **kwargs)

    def load(self, string: Optional[str] = None, **kwargs: Any) -> Any:
        if type(string) is str and not kwargs and "#" not in string and "//" not in string:
            value = fast_json.loads(string)
            # json.loads makes only plain types: what is_plain can refuse is a key starting with "__",
            # which the text writes as '"__' or with a \u escape.
            if ('"__' not in string and "\\u" not in string) or is_plain(value):
                return value
        return self._slow(self._nni_load, string, **kwargs)

    def _slow(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = function(*args, **kwargs)
        if self.warn is not None:
            for warning in caught:
                self.warn(f"{warning.category.__name__}: {warning.message}")
        return result


def make_serializer(warn: Optional[Callable[[str], None]] = None) -> Serializer:
    """A :class:`Serializer` over NNI's own ``dump``/``load`` (``nni`` must be importable)."""
    from nni.common.serializer import dump, load

    return Serializer(dump, load, warn)


