"""``ExperimentConfig``: the top-level config of an HPO experiment (NNI 3.0's schema and rules)."""

import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

from ..durations import parse_duration
from ..errors import ConfigError
from ..json_values import MAX_SAFE_INTEGER, json_value_problem
from ..reprs import short_repr
from .algorithm import _AlgorithmConfig
from .base import MISSING, ConfigBase, PathLike, describe_expected, describe_value, is_missing
from .files import describe_json_error, describe_read_error, describe_yaml_error, parse_json_or_yaml
from .shared_storage import SharedStorageConfig
from .training_services import TrainingServiceConfig, training_service_config

__all__ = ["ExperimentConfig"]

_logger = logging.getLogger("nni_exp.config")

LOG_LEVELS = ("fatal", "error", "warning", "info", "debug", "trace")
_ALGORITHM_FIELDS = ("tuner", "assessor", "advisor")
_PLACEHOLDER = "_none_"  # name of the empty tuner/assessor/advisor of ExperimentConfig('<platform>')


@dataclass(init=False)
class ExperimentConfig(ConfigBase):
    """The config of an experiment; ``json()`` gives what is sent to the NNI manager.

    Build it from keyword arguments (snake_case or camelCase, nested dicts allowed), from a
    platform name (``ExperimentConfig('local')``, or a list of names for a hybrid experiment)
    and then set fields one by one, or from a file with ``ExperimentConfig.load(path)``.
    With a platform name, ``tuner``, ``assessor`` and ``advisor`` start as empty placeholders,
    so that ``config.tuner.name = 'TPE'`` works; placeholders left empty count as unset.
    """

    experiment_name: Optional[str] = None
    experiment_type: Literal["hpo"] = "hpo"
    search_space_file: Optional[PathLike] = None
    search_space: Any = None
    trial_command: Optional[str] = None
    trial_code_directory: PathLike = "."
    trial_concurrency: int = MISSING
    trial_gpu_number: Optional[int] = None
    max_experiment_duration: Union[str, int, None] = None
    max_trial_number: Optional[int] = None
    max_trial_duration: Union[str, int, None] = None
    nni_manager_ip: Optional[str] = None
    use_annotation: bool = False
    debug: bool = False
    log_level: Optional[str] = None
    experiment_working_directory: PathLike = "~/nni-experiments"
    tuner_gpu_indices: Union[list[int], int, str, None] = None
    tuner: Optional[_AlgorithmConfig] = None
    assessor: Optional[_AlgorithmConfig] = None
    advisor: Optional[_AlgorithmConfig] = None
    training_service: Union[TrainingServiceConfig, list[TrainingServiceConfig]] = MISSING
    shared_storage: Optional[SharedStorageConfig] = None

    def __init__(self, training_service_platform: Union[str, list[str], None] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if training_service_platform is None:
            return
        if not is_missing(self.training_service):
            raise ConfigError(
                "ExperimentConfig: training_service must not be given together with a platform name",
                "training_service",
                "must not be given together with a platform name",
            )
        if isinstance(training_service_platform, list):
            self.training_service = [training_service_config(name) for name in training_service_platform]
        else:
            self.training_service = training_service_config(training_service_platform)
        for name in _ALGORITHM_FIELDS:
            if getattr(self, name) is None:
                setattr(self, name, _AlgorithmConfig(name=_PLACEHOLDER, class_args={}))

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        if self.log_level is None:
            self.log_level = "debug" if self.debug else "info"
        self._canonicalize_gpu_indices("tuner_gpu_indices")
        for name in _ALGORITHM_FIELDS:
            self._finish_conversion(name)
            algorithm = getattr(self, name)
            if isinstance(algorithm, _AlgorithmConfig) and algorithm.name == _PLACEHOLDER:
                setattr(self, name, None)
        if self.advisor is not None:
            if self.tuner is not None:
                raise self._error(
                    "advisor",
                    '"advisor" is deprecated. You should only set "tuner".',
                    "set tuner or advisor, not both (advisor is deprecated: an advisor is set as tuner)",
                )
            self.tuner, self.advisor = self.advisor, None

        super()._canonicalize(parents)  # paths, then children (training services copy shortcuts)

        if self.search_space_file is not None:
            self.search_space = self._read_search_space_file()
        if self.nni_manager_ip is None:
            self._warn_if_manager_ip_needed()

    def _read_search_space_file(self) -> Any:
        path = self.search_space_file
        try:
            space = parse_json_or_yaml(path)  # type: ignore[arg-type]
        except Exception as error:  # any failure (missing file, bad YAML...) is a config error
            if isinstance(error, json.JSONDecodeError):
                description = describe_json_error(error)
                problem = f"is not valid JSON: {description}"
                shown = f"{type(error).__name__}({description!r})"
            elif _is_yaml_error(error):  # its repr shows <yaml.error.Mark object at 0x...>
                description = describe_yaml_error(error)  # type: ignore[arg-type]  # a YAMLError
                problem = f"is not valid YAML: {description}"
                shown = f"{type(error).__name__}({description!r})"
            else:
                problem = f"cannot be read: {describe_read_error(error)}"
                shown = short_repr(error, 200)  # NNI's message
            if not isinstance(path, (str, os.PathLike)):
                detail = f"expected a path, got {describe_value(path)}"
                where = short_repr(path)
            else:
                detail = f'search space file "{path}" {problem}'
                where = str(path)
            raise self._error(
                "search_space_file", f'ExperimentConfig: Failed to load search space file "{where}": {shown}', detail
            ) from error
        unsendable = json_value_problem(space, "the search space")  # JSON's Infinity, YAML's .nan, !!set ...
        if unsendable is not None:
            detail = f'search space file "{path}" holds what JSON cannot carry: {unsendable}'
            raise self._error("search_space_file", f"ExperimentConfig: {detail}", detail)
        return space

    def _warn_if_manager_ip_needed(self) -> None:
        services = self.training_service
        if not isinstance(services, list):
            services = [services]
        for service in services:
            if not isinstance(service, TrainingServiceConfig):
                continue
            remote = service.platform and service.platform != "local"
            if remote and not isinstance(service.nni_manager_ip, str):
                _logger.warning(
                    "nni_manager_ip is not set, please make sure %s is accessible from training machines",
                    _guess_ipv4_address(),
                )
                return

    def _validate_canonical(self) -> None:
        super()._validate_canonical()

        has_space = self.search_space is not None or self.search_space_file is not None
        if self.use_annotation and has_space:
            message = "ExperimentConfig: search space must not be set when annotation is enabled"
            detail = "must not be set when useAnnotation is true"
            raise self._error("search_space", message, detail)
        if not self.use_annotation and not has_space:
            message = "ExperimentConfig: search_space and search_space_file must be set one"
            detail = "a search space is required: set searchSpace or searchSpaceFile"
            raise self._error("search_space", message, detail)

        if self.trial_concurrency <= 0:
            message = f"ExperimentConfig: trial_concurrency must be > 0, got {short_repr(self.trial_concurrency)}"
            raise self._error("trial_concurrency", message, f"must be > 0, got {short_repr(self.trial_concurrency)}")
        self._validate_at_most_safe_integer("trial_concurrency")
        self._validate_duration("max_experiment_duration")
        if self.max_trial_number is not None and self.max_trial_number <= 0:
            message = f"ExperimentConfig: max_trial_number must be > 0, got {short_repr(self.max_trial_number)}"
            raise self._error("max_trial_number", message, f"must be > 0, got {short_repr(self.max_trial_number)}")
        self._validate_at_most_safe_integer("max_trial_number")
        self._validate_duration("max_trial_duration")
        if self.log_level not in LOG_LEVELS:
            raise self._error(
                "log_level",
                f"ExperimentConfig: log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}",
                f"expected one of {', '.join(LOG_LEVELS)}, got {describe_value(self.log_level)}",
            )
        self._validate_gpu_indices("tuner_gpu_indices")
        if self.tuner is None:
            raise self._error("tuner", "ExperimentConfig: tuner must be set", "required field is missing")

    def _validate_at_most_safe_integer(self, name: str) -> None:
        """A count the manager (JavaScript) holds exactly: at most ``2**53 - 1``."""
        value = getattr(self, name)
        if value is not None and value > MAX_SAFE_INTEGER:
            detail = f"must be at most {MAX_SAFE_INTEGER} (2**53 - 1), got {short_repr(value)}"
            raise self._error(name, f"ExperimentConfig: {name} {detail}", detail)

    def _validate_duration(self, name: str) -> None:
        value = getattr(self, name)
        if value is None:
            return
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            detail = f"expected {describe_expected(Any, name)}, got {describe_value(value)}"
            raise self._error(name, f"ExperimentConfig: {name}: {error}", detail) from None
        if seconds <= 0:
            message = f"ExperimentConfig: {name} must be > 0, got {value!r}"
            raise self._error(name, message, f"must be > 0, got {describe_value(value)}")


def _guess_ipv4_address() -> str:
    """The address this machine would use to reach the internet (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.0", 80))
            return str(probe.getsockname()[0])
    except OSError:
        return "this machine's IP address"


def _is_yaml_error(error: BaseException) -> bool:
    """Whether ``error`` is a ``yaml.YAMLError`` (if yaml is not imported, it raised nothing)."""
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(error, yaml.YAMLError)
