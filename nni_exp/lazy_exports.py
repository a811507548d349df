"""Package names imported on first use (PEP 562), so that importing a package costs only what is used."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(exports: Mapping[str, str], namespace: Dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the module whose ``globals()`` is ``namespace``: ``name`` is
    imported from the module ``exports[name]`` (relative to the module's package) when first asked
    for, and kept in ``namespace``; any other name raises ``AttributeError`` as Python's own lookup does."""
    module_name, package = namespace["__name__"], namespace["__package__"]

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return getattr_
