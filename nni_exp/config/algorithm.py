"""Tuner / assessor configs: a built-in algorithm by ``name`` or a custom one by ``class_name``."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .base import MISSING, ConfigBase, PathLike

__all__ = ["AlgorithmConfig", "CustomAlgorithmConfig"]


@dataclass(init=False)
class _AlgorithmConfig(ConfigBase):
    """Either kind of algorithm: the union of the fields of both.

    Tuner / assessor dicts are loaded as this class. It is valid when it describes exactly one
    kind: ``name`` (built-in) or ``class_name`` + ``code_directory`` (custom).
    """

    _tolerant = True

    name: Optional[str] = None
    class_name: Optional[str] = None
    code_directory: Optional[PathLike] = None
    class_args: Optional[dict[str, Any]] = None

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        owner = type(self).__name__
        if self.class_name is None:
            if not self.name:
                raise self._error(
                    "name",
                    f"{owner}: name must be set (or class_name for a custom algorithm)",
                    "required field is missing (the name of a built-in algorithm; "
                    "a custom one needs className and codeDirectory instead)",
                )
            if self.code_directory is not None:
                raise self._error(
                    "code_directory",
                    f"{owner}: code_directory must not be set for a built-in algorithm (name={self.name!r})",
                    f'must not be set for a built-in algorithm (name "{self.name}"); a custom one has className',
                )
            return
        if self.name is not None:
            raise self._error(
                "name", f"{owner}: name and class_name must not both be set", "name and className must not both be set"
            )
        if not self.class_name:
            raise self._error("class_name", f"{owner}: class_name must not be empty", "must not be empty")
        if self.code_directory is None:
            raise self._error(
                "code_directory",
                f"{owner}: code_directory must be set for a custom algorithm",
                "required for a custom algorithm (one with className)",
            )
        if not Path(self.code_directory).is_dir():
            message = f'CustomAlgorithmConfig: code_directory "{self.code_directory}" is not a directory'
            raise self._error("code_directory", message, f'"{self.code_directory}" is not a directory')


@dataclass(init=False)
class AlgorithmConfig(_AlgorithmConfig):
    """A built-in tuner or assessor, e.g. ``AlgorithmConfig(name='TPE', class_args={...})``."""

    name: str = MISSING
    class_args: Optional[dict[str, Any]] = None


@dataclass(init=False)
class CustomAlgorithmConfig(_AlgorithmConfig):
    """A user-written algorithm: ``class_name`` (module.Class) found under ``code_directory``."""

    class_name: str = MISSING
    code_directory: Optional[PathLike] = "."
    class_args: Optional[dict[str, Any]] = None
