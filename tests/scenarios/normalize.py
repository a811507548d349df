"""What a client sees, made comparable across targets: :func:`shape` and :class:`Normalizer`.

* :func:`shape` keeps only the structure of an answer: keys (in order) and value types, recursively.
  JSON text inside JSON (metric ``data``, export ``value``, ``hyperParameters`` entries, imported
  data) is decoded and shown as ``{"json": <shape of the content>}``, so that the double encoding of
  metric data is part of the shape. Ids and timestamps are plain ``"str"`` / ``"number"`` there.
* :class:`Normalizer` keeps the values but replaces what differs from run to run, in the style of
  LocalStack's snapshot transformers: experiment and trial ids become ``<exp:A>`` / ``<trial:0>``
  (trials numbered in submission order), timestamps ``<ms>``, pids and ports ``<pid>`` / ``<port>``,
  metric ``parameterId`` strings ``<parameter-id>`` (the real local training service can hand a trial
  the parameters of another one started with it, a race the fake does not reproduce),
  ``execDuration`` / ``revision`` placeholders, temporary paths ``<root>`` and the interpreter
  ``<python>``, non-integral numbers (random parameters) ``<float>``, every number of a metric value
  (metric ``data``, export ``value``) ``<number>``: the same race makes real metrics belong to
  another trial's parameters. JSON text becomes
  ``{"$json": <normalized content>, "$style": "py" | "js" | "-"}``: ``py`` for Python's ``", "``
  spacing, ``js`` for JavaScript's compact form, ``-`` when the text has no separator.

``Normalizer(exact=True)`` keeps parameter values, metric values and ``parameterId`` strings: for
scenarios that run one trial at a time with seeded algorithms, where every target must produce the
very same numbers (the race above needs concurrent trials).
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["shape", "Normalizer", "decode_json_text", "JSON_TEXT_KEYS", "IMPORTED_DATA_KEY"]

#: Keys whose string values (or list elements) are JSON text.
JSON_TEXT_KEYS = frozenset({"data", "value", "hyperParameters"})
#: Pseudo key for ``/experiment/imported-data`` answers (a list of JSON texts).
IMPORTED_DATA_KEY = "$imported-data"
_JSON_TEXT_KEYS = JSON_TEXT_KEYS | {IMPORTED_DATA_KEY}
_TIMESTAMP_KEYS = frozenset({"startTime", "endTime", "timestamp"})
#: Keys of metric values (metric ``data``, export ``value``): their numbers become ``<number>``.
_METRIC_KEYS = frozenset({"data", "value"})
_VOLATILE_KEYS = {"execDuration": "<seconds>", "revision": "<revision>", "pid": "<pid>", "port": "<port>"}
_SHORT_TEXT = 300


def decode_json_text(text: str) -> Tuple[bool, Any, str]:
    """``(ok, value, style)`` for ``text``: whether it is JSON, its value and its spacing style."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return False, None, ""
    if not isinstance(value, (dict, list)) or not value:
        return True, value, "-"
    if text == json.dumps(value, separators=(",", ":"), ensure_ascii=False):
        return True, value, "js"
    if text == json.dumps(value, ensure_ascii=False):
        return True, value, "py"
    return True, value, "other"


def shape(obj: Any, key: Optional[str] = None) -> Any:
    """The structure of ``obj``: keys and value types, recursively (see the module docstring)."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, (int, float)):
        return "number"
    if isinstance(obj, str):
        if key in _JSON_TEXT_KEYS:
            ok, value, _ = decode_json_text(obj)
            if ok:
                return {"json": shape(value, key)}
        return "str"
    if isinstance(obj, dict):
        return {str(k): shape(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [shape(item, key) for item in obj]
    return type(obj).__name__


class Normalizer:
    """Replaces run-specific values by placeholders (see the module docstring).

    Ids are registered by the session as it learns them (:meth:`add_id`); paths with :meth:`add_path`.
    """

    def __init__(self, exact: bool = False) -> None:
        self.exact = exact
        self._ids: Dict[str, str] = {}
        self._paths: List[Tuple[str, str]] = []

    def add_id(self, value: str, placeholder: str) -> None:
        """Show ``value`` (an experiment or trial id) as ``placeholder``."""
        self._ids.setdefault(value, placeholder)

    def add_path(self, path: str, placeholder: str) -> None:
        """Show the path prefix ``path`` as ``placeholder`` (longest prefixes are replaced first)."""
        if path and (path, placeholder) not in self._paths:
            self._paths.append((path, placeholder))
            self._paths.sort(key=lambda item: -len(item[0]))

    def placeholders(self) -> Dict[str, str]:
        """Placeholder → value, for turning a recorded step back into a request."""
        return {placeholder: value for value, placeholder in self._ids.items()}

    def text(self, text: str) -> str:
        """``text`` with registered paths and ids replaced."""
        if text in self._ids:
            return self._ids[text]
        for path, placeholder in self._paths:
            text = text.replace(path, placeholder)
        for value, placeholder in sorted(self._ids.items(), key=lambda item: -len(item[0])):
            if value in text:
                text = text.replace(value, placeholder)
        return text

    def value(self, obj: Any, key: Optional[str] = None, metric: bool = False) -> Any:
        """``obj`` (decoded JSON) normalized; ``metric``: ``obj`` is (part of) a metric value."""
        metric = metric or key in _METRIC_KEYS
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, (int, float)):
            if key in _TIMESTAMP_KEYS:
                return "<ms>"
            if key in _VOLATILE_KEYS:
                return _VOLATILE_KEYS[key]
            if self.exact:
                return obj
            if metric:
                return "<number>"
            if isinstance(obj, float) and not (math.isfinite(obj) and obj == int(obj)):
                return "<float>"
            return obj
        if isinstance(obj, str):
            if key == "parameterId" and not self.exact:
                return "<parameter-id>"
            if key in _JSON_TEXT_KEYS:
                ok, value, style = decode_json_text(obj)
                if ok:
                    return {"$json": self.value(value, key, metric), "$style": style}
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(str(k)): self.value(v, str(k), metric) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(item, key, metric) for item in obj]
        return repr(obj)

    def body(self, text: str, content_type: str, key: Optional[str] = None) -> Any:
        """A response body: decoded and normalized JSON, else the (normalized) text, shortened."""
        if "json" in content_type:
            ok, value, _ = decode_json_text(text)
            if ok and text.strip():
                return self.value(value, key)
        text = self.text(text)
        if len(text) > _SHORT_TEXT:
            return f"<text of {len(text)} characters starting {text[:40]!r}>"
        return text
