"""The machinery shared by every config class: fields, type checks, paths, loading and JSON.

A config class is a ``@dataclass(init=False)`` subclass of :class:`ConfigBase`. Each field is an
annotated class attribute; a field without a usable default is given :data:`MISSING` and must be
set before validation. Construction accepts snake_case or camelCase keys (keys are compared after
lower-casing and deleting ``_``), turns nested dicts into config objects, and remembers the base
path used to resolve relative paths.

Life cycle: build (constructor or :meth:`ConfigBase.load`) -> :meth:`ConfigBase.canonical_copy`
(a deep copy that is canonicalized, then validated) -> :meth:`ConfigBase.json` (camelCase dict).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os.path
import typing
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Optional, TypeVar, Union

import yaml

from ..errors import ConfigError

__all__ = [
    "MISSING",
    "PathLike",
    "ConfigBase",
    "UnknownFieldError",
    "ConfigFileError",
    "is_missing",
    "normalize_key",
    "camel_case",
    "resolve_path",
    "type_matches",
]

#: A field that accepts a filesystem path; it is made absolute on canonicalization.
PathLike = Union[Path, str]

_T = TypeVar("_T", bound="ConfigBase")


class _Missing:
    """Type of :data:`MISSING`; a singleton that survives copy and pickle."""

    _instance: ClassVar[Optional[_Missing]] = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


#: The value of a field that has no default and was never set. Typed ``Any`` so that a field can
#: be declared as ``trial_concurrency: int = MISSING``.
MISSING: Any = _Missing()


def is_missing(value: Any) -> bool:
    """Whether ``value`` is the :data:`MISSING` placeholder."""
    return value is MISSING


class UnknownFieldError(ConfigError, AttributeError):
    """A config was given, or assigned, a key that is none of its fields (NNI: AttributeError)."""

    def __init__(self, message: str, names: tuple[str, ...]) -> None:
        super().__init__(message, names[0] if names else None)
        self.names = names


class ConfigFileError(ConfigError, TypeError):
    """A config file does not hold a mapping at top level (NNI: TypeError)."""


# ---------------------------------------------------------------------------------------------
# names and paths


def normalize_key(key: str) -> str:
    """The form in which keys are compared: lower-case, every ``_`` deleted."""
    return key.lower().replace("_", "")


def camel_case(name: str) -> str:
    """``nni_manager_ip`` -> ``nniManagerIp`` (outer underscores are dropped)."""
    first, *rest = name.strip("_").split("_")
    return first + "".join(word.title() for word in rest)


def resolve_path(path: PathLike, base_path: Path) -> str:
    """``path`` with ``~`` expanded, joined to ``base_path`` when relative, and made real."""
    text = os.path.expanduser(path)
    if not os.path.isabs(text):
        text = os.path.join(base_path, text)
    return os.path.realpath(text)


# The base path given to configs constructed while a file is being loaded.
_loading_base: ContextVar[Optional[Path]] = ContextVar("nni_exp_config_base_path", default=None)


@contextlib.contextmanager
def _base_path_for_load(path: Path) -> Iterator[None]:
    token = _loading_base.set(path)
    try:
        yield
    finally:
        _loading_base.reset(token)


# ---------------------------------------------------------------------------------------------
# type hints


def type_matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the annotation ``hint``.

    Understands ``Any``, ``None``, ``Optional``/``Union``, ``Literal``, ``list[X]``, ``dict[K, V]``
    and plain classes. Every item of a list or dict is checked. ``bool`` is not accepted where an
    ``int`` is expected.
    """
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        return any(type_matches(value, arg) for arg in args)
    if origin is typing.Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin is list:
        item = args[0] if args else Any
        return isinstance(value, list) and all(type_matches(v, item) for v in value)
    if origin is dict:
        key, item = args if args else (Any, Any)
        return isinstance(value, dict) and all(
            type_matches(k, key) and type_matches(v, item) for k, v in value.items()
        )
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise TypeError(f"unsupported annotation {hint!r}")


def _config_class_in(hint: Any, as_list: bool) -> Optional[type[ConfigBase]]:
    """The config class ``hint`` accepts directly (``as_list=False``) or as list items."""
    origin = typing.get_origin(hint)
    if origin is Union:
        for arg in typing.get_args(hint):
            found = _config_class_in(arg, as_list)
            if found is not None:
                return found
        return None
    if as_list:
        if origin is list and typing.get_args(hint):
            return _config_class_in(typing.get_args(hint)[0], as_list=False)
        return None
    if isinstance(hint, type) and issubclass(hint, ConfigBase):
        return hint
    return None


class _Field(NamedTuple):
    name: str
    hint: Any
    default: Any
    path_like: bool  # a str/Path value is resolved on canonicalization


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields_of(cls: type[ConfigBase]) -> tuple[_Field, ...]:
    """The fields of a config class, in declaration order, with resolved type hints (cached)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = tuple(
            _Field(f.name, hints[f.name], f.default, _is_path_hint(hints[f.name]))
            for f in dataclasses.fields(cls)
        )
        _FIELDS[cls] = fields
    return fields


def _is_path_hint(hint: Any) -> bool:
    return hint is Path or Path in typing.get_args(hint)


# ---------------------------------------------------------------------------------------------
# the base class


@dataclasses.dataclass(init=False)
class ConfigBase:
    """Base of every config class: construction, :meth:`load`, :meth:`validate`, :meth:`json`.

    ``ConfigBase(**kwargs)`` sets each field from ``kwargs`` (snake_case or camelCase keys), or to
    its default; unknown keys raise :class:`UnknownFieldError`. Dicts given for fields typed with
    a config class become objects of that class. Relative paths are resolved, at
    canonicalization, against the directory of the file the config was loaded from, or against
    the current directory of that moment for configs built in code.
    """

    #: Conversion of a dict into this class may fail at construction time without raising: the
    #: dict is kept and the error surfaces at canonicalization (NNI does this for classes that
    #: have several candidate subclasses).
    _tolerant: ClassVar[bool] = False

    #: Dotted location of this object inside the config being canonicalized ('' = top level).
    #: (Not annotated, so that it is no dataclass field.)
    _where = ""

    def __init__(self, **kwargs: Any) -> None:
        #: Relative paths are resolved against this (a relative ``Path()`` means "the CWD then").
        self._base_path: Path = _loading_base.get() or Path()
        given = {normalize_key(key): value for key, value in kwargs.items()}
        for field in _fields_of(type(self)):
            setattr(self, field.name, given.pop(normalize_key(field.name), field.default))
        if given:
            names = tuple(given)
            raise UnknownFieldError(f"{type(self).__name__} does not have field(s) {', '.join(names)}", names)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        for field in _fields_of(type(self)):
            if field.name == name:
                object.__setattr__(self, name, _convert(value, field, strict=False))
                return
        raise UnknownFieldError(f"{type(self).__name__} does not have field {name}", (name,))

    # -- public API ----------------------------------------------------------------------------

    @classmethod
    def load(cls: type[_T], path: Union[str, os.PathLike[str]]) -> _T:
        """Read a YAML (or JSON) config file; relative paths in it are relative to its directory."""
        with open(path, encoding="utf-8") as file:
            try:
                data = yaml.safe_load(file)
            except yaml.YAMLError as error:
                raise ConfigError(f"Config file {path} is not valid YAML: {error}") from error
        if not isinstance(data, dict):
            raise ConfigFileError(
                f"Content of config file {path} is not a dict/object (got {type(data).__name__})"
            )
        _check_keys(cls, data)
        with _base_path_for_load(Path(path).parent):
            return cls(**data)

    def canonical_copy(self: _T) -> _T:
        """A deep copy with defaults filled in, paths made absolute, etc.; validated before return."""
        canon = copy.deepcopy(self)
        canon._where = ""
        canon._canonicalize([])
        canon._validate_canonical()
        return canon

    def validate(self) -> None:
        """Raise :class:`~nni_exp.errors.ConfigError` if the config is invalid; returns None."""
        self.canonical_copy()

    def json(self) -> dict[str, Any]:
        """The canonical config as a JSON-ready dict: camelCase keys, None-valued fields omitted."""
        result = _to_json(self.canonical_copy())
        assert isinstance(result, dict)
        return result

    # -- hooks for subclasses -------------------------------------------------------------------

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        """Resolve path fields, finish dict conversions and canonicalize children, in field order.

        ``parents`` lists the enclosing configs, nearest first. Subclasses extend this.
        """
        for field in _fields_of(type(self)):
            self._finish_conversion(field.name)
            value = getattr(self, field.name)
            if field.path_like and isinstance(value, (str, Path)):
                value = resolve_path(value, self._base_path)
            object.__setattr__(self, field.name, value)
            for where, child in _children(value, self._path_of(field.name)):
                child._where = where
                child._canonicalize([self, *parents])

    def _validate_canonical(self) -> None:
        """Check every field is set and has the declared type, then validate children.

        Subclasses extend this with their own rules, after calling it.
        """
        name = type(self).__name__
        fields = _fields_of(type(self))
        for field in fields:
            value = getattr(self, field.name)
            if is_missing(value):
                raise self._error(field.name, f"{name}: {field.name} is not set")
            if not type_matches(value, field.hint):
                raise self._error(field.name, f"{name}: type of {field.name} ({value!r}) is not {field.hint}")
        for field in fields:
            for _, child in _children(getattr(self, field.name), ""):
                child._validate_canonical()

    # -- helpers for subclasses -----------------------------------------------------------------

    def _path_of(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def _finish_conversion(self, name: str) -> None:
        """Convert a dict still held by config-typed field ``name``; raise if that fails."""
        field = next(f for f in _fields_of(type(self)) if f.name == name)
        try:
            value = _convert(getattr(self, name), field, strict=True)
        except ConfigError as error:
            raise (_located(error, self._where) if self._where else error) from None
        object.__setattr__(self, name, value)

    def _error(self, name: str, message: str) -> ConfigError:
        """A ConfigError about field ``name`` of this object, located in the whole config."""
        return ConfigError(message, self._path_of(name))

    def _canonicalize_gpu_indices(self, name: str) -> None:
        """Field ``name``: ``"0,1"`` -> ``[0, 1]``, ``2`` -> ``[2]``; other values are kept."""
        value = getattr(self, name)
        if isinstance(value, str):
            try:
                value = [int(part) for part in value.split(",")]
            except ValueError:
                raise self._error(
                    name,
                    f"{type(self).__name__}: {name} must be a list of ints, an int or a comma-separated "
                    f"string, got {value!r}",
                ) from None
        elif isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        setattr(self, name, value)

    def _validate_gpu_indices(self, name: str) -> None:
        """Field ``name`` (a list of ints or None): no duplicates, no negatives (NNI's messages)."""
        indices = getattr(self, name)
        if indices is None:
            return
        if len(set(indices)) != len(indices):  # NNI's message text after the field name
            problem = "Duplication"
        elif any(index < 0 for index in indices):
            problem = "Negative"
        else:
            return
        raise self._error(name, f"{type(self).__name__}: {name}: {problem} detected in GPU indices {indices}")

    @classmethod
    def _from_dict(cls, data: dict[str, Any], strict: bool) -> Any:
        """Build an object of this class from ``data``; may return ``data`` itself when not strict."""
        _check_keys(cls, data)
        if strict or not cls._tolerant:
            return cls(**data)
        try:
            return cls(**data)
        except ConfigError:
            return data


def _check_keys(cls: type, data: dict[Any, Any]) -> None:
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(f"{cls.__name__}: keys must be strings, got {key!r}", str(key))


def _located(error: ConfigError, prefix: str) -> ConfigError:
    error.field = f"{prefix}.{error.field}" if error.field else prefix
    return error


def _convert(value: Any, field: _Field, strict: bool) -> Any:
    """Turn a dict (or list of dicts) given for a config-typed field into config objects."""
    if isinstance(value, dict):
        cls = _config_class_in(field.hint, as_list=False)
        if cls is not None:
            try:
                return cls._from_dict(value, strict)
            except ConfigError as error:
                raise _located(error, field.name) from None
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        cls = _config_class_in(field.hint, as_list=True)
        if cls is not None:
            converted = []
            for index, item in enumerate(value):
                try:
                    converted.append(cls._from_dict(item, strict) if isinstance(item, dict) else item)
                except ConfigError as error:
                    raise _located(error, f"{field.name}[{index}]") from None
            return converted
    return value


def _children(value: Any, where: str) -> Iterator[tuple[str, ConfigBase]]:
    """Config objects held by a field value (directly or in a list), with their locations."""
    if isinstance(value, ConfigBase):
        yield where, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, ConfigBase):
                yield f"{where}[{index}]", item


def _to_json(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return {
            camel_case(field.name): _to_json(getattr(value, field.name))
            for field in _fields_of(type(value))
            if getattr(value, field.name) is not None
        }
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value
