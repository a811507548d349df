"""Loading config files: :func:`load_config_file` (what ``nni-exp run`` does) and ``ExperimentConfig.load``.

Every problem is a :class:`~nni_exp.errors.ConfigError` with a one-line message that names the file
and the field as the file writes it (``tuner.classArgs``, ``trainingService.machineList[0].port``),
and says what was expected in YAML terms. An NNI v1 config (``trainingServicePlatform``, ``trial``,
``maxExecDuration``...) is converted as ``nnictl create`` converts it (:mod:`.v1`), and its errors
name the v1 fields where they come from.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, TypeVar, Union

from ..errors import ConfigError
from ..reprs import short_repr
from .algorithm import _AlgorithmConfig
from .base import (
    ConfigBase,
    ConfigFileError,
    UnknownFieldError,
    _base_path_for_load,
    _check_keys,
    camel_case,
    closest,
    describe_value,
    register_file_support,
)
from .experiment_config import ExperimentConfig
from .files import describe_read_error, describe_yaml_error
from .known_algorithms import known_algorithms
from .v1 import V1_ONLY_FIELDS, V1Conversion, convert_v1, is_v1

__all__ = ["LoadedConfig", "UnreadableConfigFileError", "InvalidConfigPathError", "check_config_path",
           "load_config_file", "load_as", "in_file_terms"]

_logger = logging.getLogger("nni_exp.config")

_T = TypeVar("_T", bound=ConfigBase)

V2_REFERENCE = "https://nni.readthedocs.io/en/stable/reference/experiment_config.html"


class UnreadableConfigFileError(ConfigError, OSError):
    """The config file cannot be read (NNI: the ``OSError`` of ``open``)."""


class InvalidConfigPathError(ConfigError, TypeError):
    """The path of a config file is no path: not a ``str`` or ``os.PathLike``, or a string with a NUL
    character (NNI: the ``TypeError`` or ``ValueError`` of ``open``)."""


@dataclass
class LoadedConfig:
    """A config file, loaded and checked by :func:`load_config_file`.

    ``config`` is the config as the file gives it (not canonicalized); ``notices`` are one-line
    remarks for the user, e.g. that the file was converted from NNI's v1 format.
    """

    config: ExperimentConfig
    notices: list[str] = field(default_factory=list)


def load_config_file(path: Union[str, os.PathLike[str]]) -> LoadedConfig:
    """Read an experiment config file and check everything that can be checked before a run.

    Beyond ``ExperimentConfig.load(path).validate()``: a v1 config is converted (with a notice), a
    config using annotation (``useAnnotation: true``, unsupported since NNI 3.0) is refused, the
    search space must be a mapping, and a built-in tuner / assessor / advisor ``name`` must be known
    (see :func:`~nni_exp.config.known_algorithms.known_algorithms`; custom algorithms are not checked).
    Raises :class:`~nni_exp.errors.ConfigError` with a one-line message and ``field`` set to the
    field as the file writes it (None for problems of the whole file: unreadable, not YAML...).
    """
    check_config_path(path)
    source = str(path)
    data = _read_mapping(path, source, wrap_os_errors=True)
    data, conversion, label = _convert_if_v1(data, source)
    notices = _v1_notices(source, conversion) if conversion is not None else []
    try:
        config = _construct(ExperimentConfig, data, Path(path).parent, label, conversion)
        if config.use_annotation is True:
            raise ConfigError(
                "You are using annotation to specify search space. This is not supported since NNI v3.0.",
                "use_annotation",
                "annotation (a search space in comments of the trial code) is not supported since NNI 3.0; "
                "remove useAnnotation and set searchSpace or searchSpaceFile",
            )
        _check_search_space(config.canonical_copy())
        _check_algorithm_names(config)
    except ConfigError as error:
        raise in_file_terms(error, label, conversion) from None
    return LoadedConfig(config, notices)


def load_as(cls: type[_T], path: Union[str, os.PathLike[str]]) -> _T:
    """``cls.load(path)``: the config a file holds, not validated (an ExperimentConfig may be v1).

    An unreadable file raises the ``OSError`` of ``open`` (``FileNotFoundError``...), as in NNI.
    """
    check_config_path(path)
    source = str(path)
    data = _read_mapping(path, source, wrap_os_errors=False)
    conversion: Optional[V1Conversion] = None
    label = source
    if issubclass(cls, ExperimentConfig):
        data, conversion, label = _convert_if_v1(data, source)
        for notice in _v1_notices(source, conversion) if conversion is not None else []:
            _logger.warning("%s", notice)
    try:
        return _construct(cls, data, Path(path).parent, label, conversion)
    except ConfigError as error:
        raise in_file_terms(error, label, conversion) from None


def in_file_terms(error: ConfigError, source: str, conversion: Optional[V1Conversion] = None) -> ConfigError:
    """``error`` restated for a config file: ``<source>: <field as the file writes it>: <detail>``.

    The result has the class and attributes of ``error``, a one-line message and ``field`` set to
    the camelCase path (the v1 path where ``conversion`` knows it). An error already restated (its
    ``source`` is set) is returned as it is.
    """
    if error.source is not None:
        return error
    path = _file_path(error)
    if path is not None and conversion is not None:
        path = conversion.v1_path(path) or path
    detail = error.detail or _without_owner(str(error))
    if isinstance(error, UnknownFieldError) and path is not None and path in V1_ONLY_FIELDS and conversion is None:
        detail = (
            f"unknown field: {path} belongs to NNI's v1 config format ({V1_ONLY_FIELDS[path]}); "
            "a v1 config is converted only when it sets trainingServicePlatform"
        )
    message = f"{source}: {path}: {detail}" if path else f"{source}: {detail}"
    return error.restated(" ".join(message.split()), path, source)


# ---------------------------------------------------------------------------------------------


def _read_mapping(path: Union[str, os.PathLike[str]], source: str, wrap_os_errors: bool) -> dict[str, Any]:
    """The mapping a config file holds; errors about the whole file have no field."""
    check_config_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        if isinstance(error, OSError) and not wrap_os_errors:
            raise
        message = f"{source}: cannot read the config file: {describe_read_error(error)}"
        raise _about_the_file(UnreadableConfigFileError(message), source) from None
    import yaml  # imported when a file is read: a config built in code never pays for it

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        message = f"{source}: the config file is not valid YAML: {describe_yaml_error(error)}"
        raise _about_the_file(ConfigError(message), source) from None
    if not isinstance(data, dict):
        found = "is empty" if data is None else f"holds {describe_value(data)}"
        message = f"{source}: the config file {found}; expected a mapping of config fields"
        raise _about_the_file(ConfigFileError(message), source)
    return data


def check_config_path(path: Any) -> None:
    """Raise :class:`InvalidConfigPathError`, naming ``path``, unless it can name a file."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise InvalidConfigPathError(f"a config file path must be a str or an os.PathLike of a str, got "
                                     f"{short_repr(path)} ({type(path).__name__})")
    if "\0" in os.fspath(path):
        raise InvalidConfigPathError(f"a config file path must not contain a NUL character, got {short_repr(path)}")


def _about_the_file(error: ConfigError, source: str) -> ConfigError:
    error.source = source
    return error


def _convert_if_v1(data: dict[str, Any], source: str) -> tuple[dict[str, Any], Optional[V1Conversion], str]:
    """(v2 data, the conversion or None, the label of the file in errors)."""
    if not is_v1(data):
        return data, None, source
    label = f"{source} (NNI v1 format)"
    try:
        conversion = convert_v1(data)
    except ConfigError as error:
        raise in_file_terms(error, label) from None
    return conversion.config, conversion, label


def _v1_notices(source: str, conversion: V1Conversion) -> list[str]:
    notices = [
        f"{source}: converted from NNI's v1 config format as 'nnictl create' converts it "
        f"(the v2 format: {V2_REFERENCE})"
    ]
    if conversion.dropped:
        fields = ", ".join(conversion.dropped)
        notices.append(f"{source}: ignored v1 fields that NNI 3.0 no longer supports: {fields}")
    if conversion.unconverted:
        fields = ", ".join(conversion.unconverted)
        notices.append(f"{source}: ignored v1 fields that 'nnictl create' does not convert: {fields}")
    return [" ".join(notice.split()) for notice in notices]  # one line each, whatever the keys hold


def _construct(cls: type[_T], data: dict[str, Any], base_path: Path, label: str,
               conversion: Optional[V1Conversion]) -> _T:
    _check_keys(cls, data)
    with _base_path_for_load(base_path):
        config = cls(**data)
    object.__setattr__(config, "_file_source", (label, conversion))
    return config


def _check_search_space(canonical: ExperimentConfig) -> None:
    space = canonical.search_space
    if isinstance(space, dict):
        return
    if canonical.search_space_file is None:
        detail = f"expected a mapping of parameter names to {{_type, _value}}, got {describe_value(space)}"
        raise ConfigError(f"search_space must be a dict, got {type(space).__name__}", "search_space", detail)
    path = canonical.search_space_file
    found = "is empty" if space is None else f"holds {describe_value(space)}"
    raise ConfigError(
        f'search space file "{path}" does not hold a dict',
        "search_space_file",
        f'search space file "{path}" {found}; expected a mapping of parameter names to {{_type, _value}}',
    )


def _check_algorithm_names(config: ExperimentConfig) -> None:
    known = known_algorithms()
    for kind in ("tuner", "assessor", "advisor"):
        algorithm = getattr(config, kind)
        if not isinstance(algorithm, _AlgorithmConfig) or algorithm.class_name is not None:
            continue  # custom algorithms are not checked
        name = algorithm.name
        if not isinstance(name, str) or known.find(kind, name) is not None:
            continue
        names = known.names(kind)
        suggestion = closest(name, names)
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        raise ConfigError(
            f"Builtin name is not found: {name.lower()}",
            f"{kind}.name",
            f"unknown built-in {kind} '{name}'{hint}; known names ({known.source}): {', '.join(names)}",
        )


def _file_path(error: ConfigError) -> Optional[str]:
    """The path of the field ``error`` is about, as a file writes it (the user's spelling of unknown keys)."""
    where = error.written_at or error.field
    if not where:
        return None
    if isinstance(error, UnknownFieldError) and error.names and where.endswith(error.names[0]):
        prefix = where[: len(where) - len(error.names[0])].rstrip(".")
        key = error.keys[0]
        return f"{_camel_path(prefix)}.{key}" if prefix else key
    return _camel_path(where)


def _camel_path(path: str) -> str:
    return ".".join(camel_case(part) for part in path.split("."))


def _without_owner(message: str) -> str:
    """A message without NNI's leading ``ClassName: ``."""
    owner, sep, rest = message.partition(": ")
    return rest if sep and owner.isidentifier() and owner[:1].isupper() else message


register_file_support(load_as, in_file_terms)
