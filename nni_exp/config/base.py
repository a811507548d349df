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
import difflib
import importlib
import json
import os.path
import typing
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, ClassVar, NamedTuple, Optional, TypeVar, Union

from ..errors import ConfigError
from ..json_values import json_value_problem
from ..reprs import short_repr

__all__ = [
    "MISSING",
    "PathLike",
    "ConfigBase",
    "canonical_json",
    "UnknownFieldError",
    "ConfigFileError",
    "is_missing",
    "normalize_key",
    "camel_case",
    "resolve_path",
    "type_matches",
    "describe_expected",
    "describe_value",
    "closest",
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
    """A config was given, or assigned, a key that is none of its fields (NNI: AttributeError).

    ``names`` are the unknown keys normalized (NNI's message shows them so), ``keys`` the same keys
    as they were written, and ``known`` the camelCase names of the fields the config has; ``detail``
    suggests the known field closest to the first unknown key.
    """

    def __init__(
        self,
        message: str,
        names: tuple[str, ...],
        keys: Optional[tuple[str, ...]] = None,
        known: tuple[str, ...] = (),
    ) -> None:
        self.keys = keys if keys is not None else names
        self.known = known
        super().__init__(message, names[0] if names else None, _unknown_field_detail(self.keys, known))
        self.names = names


def _unknown_field_detail(keys: tuple[str, ...], known: tuple[str, ...]) -> str:
    """'unknown field' with the closest known field, or else the list of known fields."""
    detail = "unknown field"
    suggestion = closest(keys[0], known) if keys else None
    if suggestion is not None:
        detail += f" (did you mean '{suggestion}'?)"
    if len(keys) > 1:
        detail += "; also unknown here: " + ", ".join(f"'{key}'" for key in keys[1:])
    if suggestion is None and known:
        detail += "; known fields here: " + ", ".join(known)
    return detail


def closest(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate most like ``word`` (compared lower-case, without ``_``), or None if none is close."""
    by_key = {normalize_key(candidate): candidate for candidate in candidates}
    matches = difflib.get_close_matches(normalize_key(word), list(by_key), n=1, cutoff=0.6)
    return by_key[matches[0]] if matches else None


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
    return _checker(hint)(value)


_CHECKERS: dict[Any, Callable[[Any], bool]] = {}


def _checker(hint: Any) -> Callable[[Any], bool]:
    """The check of :func:`type_matches` for ``hint``, built once per hint (configs are checked at every
    ``start()``: taking the hint apart each time was most of the cost)."""
    try:
        return _CHECKERS[hint]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation: built every time
        return _build_checker(hint)
    check = _CHECKERS[hint] = _build_checker(hint)
    return check


def _build_checker(hint: Any) -> Callable[[Any], bool]:
    if hint is Any:
        return lambda value: True
    if hint is None or hint is type(None):
        return lambda value: value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        options = tuple(_checker(arg) for arg in args)
        return lambda value: any(check(value) for check in options)
    if origin is typing.Literal:
        return lambda value: any(value == arg and type(value) is type(arg) for arg in args)
    if origin is list:
        item = _checker(args[0] if args else Any)
        return lambda value: isinstance(value, list) and all(item(v) for v in value)
    if origin is dict:
        key, item = (_checker(args[0]), _checker(args[1])) if args else (_checker(Any), _checker(Any))
        return lambda value: isinstance(value, dict) and all(key(k) and item(v) for k, v in value.items())
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    raise TypeError(f"unsupported annotation {hint!r}")


#: What some fields expect, in the words of a config file (by field name; the type hint says less).
_DURATION = "a duration such as '1h', '30m' or '90s', or a number of seconds"
_GPU_INDICES = "a list of GPU indices such as [0, 1], one index, or a string such as '0,1'"
_MEMORY_SIZE = "a size such as '4gb' or a number of megabytes"
_EXPECTED_BY_NAME: dict[str, str] = {
    "max_experiment_duration": _DURATION,
    "max_trial_duration": _DURATION,
    "tuner_gpu_indices": _GPU_INDICES,
    "gpu_indices": _GPU_INDICES,
    "trial_memory_size": _MEMORY_SIZE,
    "memory_size": _MEMORY_SIZE,
}

_WORDS: dict[Any, tuple[str, str]] = {  # hint -> (one, many)
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
    bool: ("true or false", "booleans (true or false)"),
    Path: ("a path", "paths"),
    dict: ("a mapping", "mappings"),
    list: ("a list", "lists"),
    Any: ("any value", "values"),
}


def describe_expected(hint: Any, name: Optional[str] = None) -> str:
    """What a value of type ``hint`` looks like in a YAML file: 'an integer', 'a list of strings'...

    ``name`` (a snake_case field name) picks a better wording for durations, GPU indices and sizes.
    ``null`` is never mentioned: an optional field may always be left out.
    """
    if name is not None and name in _EXPECTED_BY_NAME:
        return _EXPECTED_BY_NAME[name]
    return _describe(hint, plural=False)


def _describe(hint: Any, plural: bool) -> str:
    if hint in _WORDS:
        return _WORDS[hint][1 if plural else 0]
    if hint is None or hint is type(None):
        return "null"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        kinds = [arg for arg in args if arg is not type(None)]
        if set(kinds) == {Path, str}:
            return _describe(Path, plural)
        words: list[str] = []
        for arg in kinds:
            word = _describe(arg, plural)
            if word not in words:
                words.append(word)
        return _or(words)
    if origin is typing.Literal:
        return _or([json.dumps(arg) for arg in args])
    if origin is list:
        if plural:
            return "lists"
        return "a list of " + _describe(args[0], plural=True) if args else "a list"
    if origin is dict:
        return "mappings" if plural else "a mapping"
    if isinstance(hint, type) and issubclass(hint, ConfigBase):
        return "mappings" if plural else "a mapping"
    return "values of another kind" if plural else "a value of another kind"


def _or(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def describe_value(value: Any) -> str:
    """A value as a YAML file shows it, and its kind: ``"two" (a string)``, ``[1, 2] (a list)``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "an integer"
    elif isinstance(value, float):
        kind = "a number"
    elif isinstance(value, (str, Path)):
        kind = "a string"
    elif isinstance(value, (list, tuple)):
        kind = "a list"
    elif isinstance(value, dict):
        kind = "a mapping"
    elif isinstance(value, ConfigBase):
        return f"a {type(value).__name__} object"
    else:
        kind = f"a {type(value).__name__}"
    try:
        shown = json.dumps(value if not isinstance(value, Path) else str(value), ensure_ascii=False, default=str)
    except (ValueError, RecursionError, TypeError):  # circular or deep containers, long ints, odd keys
        shown = short_repr(value, 60)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({kind})"


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


class _FileSupport(NamedTuple):
    """What :mod:`nni_exp.config.loading` lends this module (it imports this module, so this one
    cannot import it): ``load(cls, path)`` for :meth:`ConfigBase.load`, and ``restate(error, label,
    conversion)``, which restates an error of a config loaded from a file in that file's terms."""

    load: Callable[[Any, Any], Any]
    restate: Callable[[ConfigError, str, Any], ConfigError]


_file_support: Optional[_FileSupport] = None


def register_file_support(load: Callable[[Any, Any], Any],
                          restate: Callable[[ConfigError, str, Any], ConfigError]) -> None:
    """Called by :mod:`nni_exp.config.loading` when it is imported (on first use: it needs YAML)."""
    global _file_support
    _file_support = _FileSupport(load, restate)


def _support() -> _FileSupport:
    if _file_support is None:  # the loader registers itself when imported (first needed here)
        importlib.import_module("nni_exp.config.loading")
    assert _file_support is not None
    return _file_support


class _Field(NamedTuple):
    name: str
    hint: Any
    default: Any
    path_like: bool  # a str/Path value is resolved on canonicalization
    check: Callable[[Any], bool]  # type_matches(value, hint), prepared


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields_of(cls: type[ConfigBase]) -> tuple[_Field, ...]:
    """The fields of a config class, in declaration order, with resolved type hints (cached)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = tuple(
            _Field(f.name, hints[f.name], f.default, _is_path_hint(hints[f.name]), _checker(hints[f.name]))
            for f in dataclasses.fields(cls)
        )
        _FIELDS[cls] = fields
    return fields


_FIELDS_BY_NAME: dict[type, dict[str, _Field]] = {}


def _fields_by_name(cls: type[ConfigBase]) -> dict[str, _Field]:
    """:func:`_fields_of` by field name (cached)."""
    fields = _FIELDS_BY_NAME.get(cls)
    if fields is None:
        fields = _FIELDS_BY_NAME[cls] = {field.name: field for field in _fields_of(cls)}
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

    #: Set (on the instance) for a config loaded from a file: the file's label in errors and its
    #: v1 conversion, if any. Errors of :meth:`canonical_copy` are then restated in the file's terms.
    _file_source: ClassVar[Optional[tuple[str, Any]]] = None

    def __init__(self, **kwargs: Any) -> None:
        #: Relative paths are resolved against this (a relative ``Path()`` means "the CWD then").
        self._base_path: Path = _loading_base.get() or Path()
        given = {normalize_key(key): (key, value) for key, value in kwargs.items()}
        fields = _fields_of(type(self))
        for field in fields:
            _, value = given.pop(normalize_key(field.name), (None, field.default))
            setattr(self, field.name, value)
        if given:
            names = tuple(given)
            raise UnknownFieldError(
                f"{type(self).__name__} does not have field(s) {', '.join(names)}",
                names,
                keys=tuple(key for key, _ in given.values()),
                known=tuple(camel_case(field.name) for field in fields),
            )

    def __deepcopy__(self: _T, memo: dict[int, Any]) -> _T:
        """What ``copy.deepcopy`` does for any object (a new instance, its attributes copied deeply),
        without its generic dispatch for the plain values most fields hold."""
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        deepcopy = copy.deepcopy
        clone.__dict__.update({name: value if type(value) in _PLAIN_VALUES else deepcopy(value, memo)
                               for name, value in self.__dict__.items()})
        return clone

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        for field in _fields_of(type(self)):
            if field.name == name:
                object.__setattr__(self, name, _convert(value, field, strict=False))
                return
        known = tuple(camel_case(field.name) for field in _fields_of(type(self)))
        raise UnknownFieldError(f"{type(self).__name__} does not have field {name}", (name,), known=known)

    # -- public API ----------------------------------------------------------------------------

    @classmethod
    def load(cls: type[_T], path: Union[str, os.PathLike[str]]) -> _T:
        """Read a YAML (or JSON) config file; relative paths in it are relative to its directory.

        Like NNI, this neither validates the config nor fails on missing or bad values (call
        :meth:`validate`); it raises :class:`~nni_exp.errors.ConfigError` if the file cannot be read,
        is not YAML, holds no mapping or has unknown fields, with a one-line message that names the
        file and the field as the file writes it. An NNI v1 experiment config is converted as
        ``nnictl create`` converts it (a warning says so). :func:`~nni_exp.config.load_config_file`
        checks the whole config (as ``nni-exp run`` does).
        """
        config: _T = _support().load(cls, path)
        return config

    def canonical_copy(self: _T) -> _T:
        """A deep copy with defaults filled in, paths made absolute, etc.; validated before return."""
        try:
            canon = copy.deepcopy(self)
        except Exception as error:  # noqa: BLE001 - a field holds what cannot be copied (a memoryview, a lock...)
            raise self._uncopyable_field_error(error) from None
        canon._where = ""
        try:
            canon._canonicalize([])
            canon._validate_canonical()
        except ConfigError as error:
            if self._file_source is None:
                raise
            raise _support().restate(error, *self._file_source) from None
        return canon

    def validate(self) -> None:
        """Raise :class:`~nni_exp.errors.ConfigError` if the config is invalid; returns None."""
        self.canonical_copy()

    def json(self) -> dict[str, Any]:
        """The canonical config as a JSON-ready dict: camelCase keys, None-valued fields omitted."""
        return canonical_json(self.canonical_copy())

    # -- hooks for subclasses -------------------------------------------------------------------

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        """Resolve path fields, finish dict conversions and canonicalize children, in field order.

        ``parents`` lists the enclosing configs, nearest first. Subclasses extend this.
        """
        for field in _fields_of(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, (dict, list)):  # what _convert may turn into config objects
                self._finish_conversion(field.name)
                value = getattr(self, field.name)
            if field.path_like and isinstance(value, (str, Path)):
                if "\0" in str(value):
                    raise self._error(field.name, f"{type(self).__name__}: {field.name} must not contain a NUL "
                                                  f"character, got {short_repr(str(value))}",
                                      f"a path cannot contain a NUL character, got {describe_value(str(value))}")
                value = resolve_path(value, self._base_path)
                object.__setattr__(self, field.name, value)
            if isinstance(value, _HOLDERS):
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
                raise self._error(field.name, f"{name}: {field.name} is not set", "required field is missing")
            if not field.check(value):
                if value is None:  # null where a value is needed: a file left it out
                    detail = "required field is missing"
                else:
                    detail = f"expected {describe_expected(field.hint, field.name)}, got {describe_value(value)}"
                raise self._error(field.name, f"{name}: type of {field.name} ({short_repr(value)}) is not {field.hint}",
                                  detail)
            problem = json_value_problem(value, field.name, allow=(ConfigBase, Path))
            if problem is not None:
                inner = problem[len(field.name):]  # "['x']: ... is not a JSON value" or ": ..."
                detail = f"at {inner}" if inner.startswith("[") else inner[2:]
                raise self._error(field.name, f"{name}: {problem}", detail)
        for field in fields:
            value = getattr(self, field.name)
            if isinstance(value, _HOLDERS):
                for _, child in _children(value, ""):
                    child._validate_canonical()

    # -- helpers for subclasses -----------------------------------------------------------------

    def _path_of(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def _finish_conversion(self, name: str) -> None:
        """Convert a dict still held by config-typed field ``name``; raise if that fails."""
        field = _fields_by_name(type(self))[name]
        try:
            value = _convert(getattr(self, name), field, strict=True)
        except ConfigError as error:
            raise (_located(error, self._where) if self._where else error) from None
        object.__setattr__(self, name, value)

    def _uncopyable_field_error(self, error: Exception) -> ConfigError:
        """The ConfigError for a config that ``copy.deepcopy`` fails on, naming the field (and value) at fault."""
        for field in _fields_of(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, ConfigBase):
                continue
            try:
                copy.deepcopy(value)
            except Exception:  # noqa: BLE001 - found it
                return self._error(field.name, f"{type(self).__name__}: {field.name} holds {short_repr(value)}, "
                                               f"which a config cannot hold ({error})",
                                   f"expected {describe_expected(field.hint, field.name)}, got {describe_value(value)}")
            for _, child in _children(value, ""):
                try:
                    copy.deepcopy(child)
                except Exception:  # noqa: BLE001 - a nested config holds it
                    return child._uncopyable_field_error(error)
        return ConfigError(f"{type(self).__name__} cannot be copied: {error}")

    def _error(self, name: str, message: str, detail: Optional[str] = None) -> ConfigError:
        """A ConfigError about field ``name`` of this object, located in the whole config.

        ``message`` is for configs built in code (NNI's words); ``detail`` says the same in the
        words of a config file, without the field's name (see :class:`~nni_exp.errors.ConfigError`).
        """
        return ConfigError(message, self._path_of(name), detail)

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
                    f"string, got {short_repr(value)}",
                    f"expected {_GPU_INDICES}, got {describe_value(value)}",
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
            problem, detail = "Duplication", "a GPU index is given twice"
        elif any(index < 0 for index in indices):
            problem, detail = "Negative", "GPU indices must be >= 0"
        else:
            return
        raise self._error(
            name,
            f"{type(self).__name__}: {name}: {problem} detected in GPU indices {indices}",
            f"{detail}, got {json.dumps(indices)}",
        )

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
            raise ConfigError(
                f"{cls.__name__}: keys must be strings, got {short_repr(key)}",
                str(key),
                f"field names must be strings, got {describe_value(key)}",
            )


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


#: Values ``copy.deepcopy`` returns as they are.
_PLAIN_VALUES = frozenset((type(None), bool, int, float, str))
#: The field values :func:`_children` may find config objects in.
_HOLDERS = (ConfigBase, list)


def _children(value: Any, where: str) -> Iterator[tuple[str, ConfigBase]]:
    """Config objects held by a field value (directly or in a list), with their locations."""
    if isinstance(value, ConfigBase):
        yield where, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, ConfigBase):
                yield f"{where}[{index}]", item


def canonical_json(canonical: ConfigBase) -> dict[str, Any]:
    """What ``json()`` returns, for a config that :meth:`ConfigBase.canonical_copy` already returned:
    without canonicalizing it a second time (the config must not have been changed since)."""
    result = _to_json(canonical)
    assert isinstance(result, dict)
    return result


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
