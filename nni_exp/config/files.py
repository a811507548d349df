"""Reading the files a config names: the config file itself and its search space file.

Errors in these files are described on one line, with the line and column where the parser
stopped: PyYAML's and ``json``'s own messages span several lines or show objects such as
``<yaml.error.Mark object at 0x...>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import yaml

__all__ = ["describe_yaml_error", "describe_json_error", "describe_read_error", "parse_json_or_yaml"]


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """One line: what PyYAML found wrong and where (``line L, column C``, counted from 1)."""
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem is not None and mark is not None:
        context = getattr(error, "context", None)
        text = f"{context}, {problem}" if context else str(problem)
        return f"{_one_line(text)} (line {mark.line + 1}, column {mark.column + 1})"
    import yaml  # imported when needed: ~15 ms that a config built in code never pays

    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        code = character if isinstance(character, int) else ord(character)
        return f"{_one_line(error.reason)} #x{code:04x} (at character {error.position + 1})"
    return _one_line(str(error))


def describe_json_error(error: json.JSONDecodeError) -> str:
    """One line: what ``json`` found wrong and where (``line L, column C``)."""
    return f"{error.msg} (line {error.lineno}, column {error.colno})"


def describe_read_error(error: Exception) -> str:
    """Why a file could not be read as text: 'No such file or directory', 'not UTF-8 text (byte 3)'..."""
    if isinstance(error, UnicodeDecodeError):
        return f"not a UTF-8 text file (undecodable byte at offset {error.start})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return _one_line(str(error)) or type(error).__name__


def parse_json_or_yaml(path: Union[str, os.PathLike[str]]) -> Any:
    """The content of a JSON or YAML file, JSON tried first (as NNI does for search space files).

    PyYAML implements YAML 1.1, which is not a superset of JSON, so a valid JSON file is never given
    to it. Raises ``OSError``/``UnicodeDecodeError`` for an unreadable file, and for a file that is
    neither JSON nor YAML the error of the parser that the file's suffix points to (``.json``:
    ``json.JSONDecodeError``, otherwise ``yaml.YAMLError``).
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            if str(path).lower().endswith(".json"):
                raise json_error from None
            raise


def _one_line(text: str) -> str:
    return " ".join(text.split())
