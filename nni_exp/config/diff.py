"""A rough, human-readable difference between two configs."""

from __future__ import annotations

import difflib
import pprint
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import ConfigBase

__all__ = ["diff"]


def diff(config1: ConfigBase, config2: ConfigBase, from_: str = "", to_: str = "") -> str:
    """A unified diff of the pretty-printed ``json()`` of both configs ('' when they are equal).

    Both configs are validated (``json()`` canonicalizes them), so an invalid one raises.
    ``from_`` and ``to_`` label the two sides in the diff header.
    """
    lines1 = pprint.pformat(config1.json()).splitlines()
    lines2 = pprint.pformat(config2.json()).splitlines()
    return "\n".join(difflib.unified_diff(lines1, lines2, from_, to_, lineterm=""))
