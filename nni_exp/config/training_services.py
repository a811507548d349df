"""Training service configs: where and how trials run (the ``trainingService`` field).

Every class has a ``platform`` name; a dict with a known ``platform`` key loads as that class.
Five fields of the base class (trial command, code directory, GPU number, manager IP, debug) are
shortcuts: when not set here they are copied from the experiment config on canonicalization.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Union

from ..errors import ConfigError
from ..reprs import short_repr
from .base import (
    MISSING,
    ConfigBase,
    PathLike,
    closest,
    describe_value,
    is_missing,
    normalize_key,
)

__all__ = [
    "TrainingServiceConfig",
    "training_service_config",
    "LocalConfig",
    "RemoteConfig",
    "RemoteMachineConfig",
    "OpenpaiConfig",
    "AmlConfig",
    "DlcConfig",
    "K8sStorageConfig",
    "K8sNfsConfig",
    "K8sAzureStorageConfig",
    "KubeflowRoleConfig",
    "KubeflowConfig",
    "FrameworkAttemptCompletionPolicy",
    "FrameworkControllerRoleConfig",
    "FrameworkControllerConfig",
]

_PLATFORMS: dict[str, type["TrainingServiceConfig"]] = {}

#: The fields an experiment config passes down to its training services.
SHORTCUT_FIELDS = ("trial_command", "trial_code_directory", "trial_gpu_number", "nni_manager_ip", "debug")


@dataclass(init=False)
class TrainingServiceConfig(ConfigBase):
    """Base of the training service configs; a subclass sets ``platform`` to its name."""

    platform: str = MISSING
    trial_command: str = MISSING
    trial_code_directory: PathLike = MISSING
    trial_gpu_number: Optional[int] = MISSING
    nni_manager_ip: Optional[str] = MISSING
    debug: bool = MISSING

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        platform = cls.__dict__.get("platform")
        if isinstance(platform, str):
            _PLATFORMS[platform] = cls

    @classmethod
    def _from_dict(cls, data: dict[str, Any], strict: bool) -> Any:
        platform = next((v for k, v in data.items() if normalize_key(str(k)) == "platform"), None)
        target = _PLATFORMS.get(platform) if isinstance(platform, str) else None
        if target is not None:
            return target(**data)
        if not strict:
            return data  # as NNI: kept as a dict, reported on canonicalization
        if platform is None:
            raise ConfigError("TrainingServiceConfig: platform is not set", "platform", "required field is missing")
        raise ConfigError(f"Bad training service platform: {platform}", "platform", _unknown_platform(platform))

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        if parents:
            inherited = {}
            for name in SHORTCUT_FIELDS:
                if is_missing(getattr(self, name)):
                    setattr(self, name, getattr(parents[0], name))
                    inherited[name] = parents[0]._path_of(name)
            object.__setattr__(self, "_inherited_paths", inherited)
        super()._canonicalize(parents)

    def _error(self, name: str, message: str, detail: Optional[str] = None) -> ConfigError:
        error = super()._error(name, message, detail)
        error.written_at = getattr(self, "_inherited_paths", {}).get(name)  # the experiment's field
        return error

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        owner = type(self).__name__
        if not Path(self.trial_code_directory).is_dir():
            raise self._error(
                "trial_code_directory",
                f'{owner}: trial_code_directory "{self.trial_code_directory}" is not a directory',
                f'"{self.trial_code_directory}" is not a directory',
            )
        if self.trial_gpu_number is not None and self.trial_gpu_number < 0:
            raise self._error(
                "trial_gpu_number",
                f"{owner}: trial_gpu_number must be >= 0, got {short_repr(self.trial_gpu_number)}",
                f"must be >= 0, got {short_repr(self.trial_gpu_number)}",
            )


def training_service_config(platform: str) -> TrainingServiceConfig:
    """An empty config of the named platform, e.g. ``training_service_config('local')``."""
    cls = _PLATFORMS.get(platform) if isinstance(platform, str) else None
    if cls is None:
        shown = platform if isinstance(platform, str) else short_repr(platform)
        raise ConfigError(f"Bad training service platform: {shown}", "training_service", _unknown_platform(platform))
    return cls()


def _unknown_platform(platform: Any) -> str:
    """'unknown platform ...; expected one of ...' with the closest platform name, if any."""
    detail = f"unknown platform {describe_value(platform)}; expected one of {', '.join(_PLATFORMS)}"
    suggestion = closest(platform, _PLATFORMS) if isinstance(platform, str) else None
    return detail + (f" (did you mean '{suggestion}'?)" if suggestion else "")


# --- local ------------------------------------------------------------------------------------


@dataclass(init=False)
class LocalConfig(TrainingServiceConfig):
    """Run trials as processes on this machine."""

    platform: Literal["local"] = "local"
    use_active_gpu: Optional[bool] = None
    max_trial_number_per_gpu: int = 1
    gpu_indices: Union[list[int], int, str, None] = None
    reuse_mode: bool = False

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        super()._canonicalize(parents)
        self._canonicalize_gpu_indices("gpu_indices")
        self.nni_manager_ip = None

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        self._validate_gpu_indices("gpu_indices")
        if self.trial_gpu_number and self.use_active_gpu is None:
            raise self._error(
                "use_active_gpu",
                "LocalConfig: please set use_active_gpu to True if your system has GUI, "
                "or set it to False if the computer runs multiple experiments concurrently.",
                "must be set when trialGpuNumber is set: true if your system has a GUI, "
                "false if the computer runs several experiments at once",
            )
        if not self.trial_gpu_number and self.max_trial_number_per_gpu != 1:
            raise self._error(
                "max_trial_number_per_gpu",
                "LocalConfig: max_trial_number_per_gpu does not work without trial_gpu_number",
                "has no effect without trialGpuNumber: set trialGpuNumber too, or remove it",
            )


# --- remote -----------------------------------------------------------------------------------


@dataclass(init=False)
class RemoteMachineConfig(ConfigBase):
    """One SSH machine of a remote training service."""

    host: str = MISSING
    port: int = 22
    user: str = MISSING
    password: Optional[str] = None
    ssh_key_file: Optional[PathLike] = "~/.ssh/id_rsa"
    ssh_passphrase: Optional[str] = None
    use_active_gpu: bool = False
    max_trial_number_per_gpu: int = 1
    gpu_indices: Union[list[int], int, str, None] = None
    python_path: Optional[str] = None

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        super()._canonicalize(parents)
        if self.password is not None:
            self.ssh_key_file = None
        self._canonicalize_gpu_indices("gpu_indices")

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if not 0 < self.port < 65536:
            raise self._error(
                "port",
                f"RemoteMachineConfig: port must be in 1..65535, got {short_repr(self.port)}",
                f"must be in 1..65535, got {short_repr(self.port)}",
            )
        if self.max_trial_number_per_gpu <= 0:
            count = self.max_trial_number_per_gpu
            message = f"RemoteMachineConfig: max_trial_number_per_gpu must be > 0, got {count}"
            raise self._error("max_trial_number_per_gpu", message, f"must be > 0, got {count}")
        self._validate_gpu_indices("gpu_indices")
        if self.password is not None:
            warnings.warn(
                "SSH password will be exposed in web UI as plain text. We recommend to use SSH key file.",
                UserWarning,
                stacklevel=2,
            )
        elif self.ssh_key_file is None or not Path(self.ssh_key_file).is_file():
            message = "RemoteMachineConfig: You must either provide password or a valid SSH key file"
            raise self._error(
                "ssh_key_file",
                f'{message} "{self.ssh_key_file}"',
                f'set password, or sshKeyFile to an existing key file (there is no file "{self.ssh_key_file}")',
            )


@dataclass(init=False)
class RemoteConfig(TrainingServiceConfig):
    """Run trials on SSH machines."""

    platform: Literal["remote"] = "remote"
    machine_list: list[RemoteMachineConfig] = MISSING
    reuse_mode: bool = False

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if not self.machine_list:
            message = "RemoteConfig: must provide at least one machine in machine_list"
            raise self._error("machine_list", message, "must list at least one machine")
        if not self.trial_gpu_number and any(m.max_trial_number_per_gpu != 1 for m in self.machine_list):
            raise self._error(
                "machine_list",
                "RemoteConfig: max_trial_number_per_gpu does not work without trial_gpu_number",
                "maxTrialNumberPerGpu of a machine has no effect without trialGpuNumber: set trialGpuNumber too",
            )


# --- cloud platforms --------------------------------------------------------------------------


@dataclass(init=False)
class OpenpaiConfig(TrainingServiceConfig):
    """Run trials as OpenPAI jobs."""

    platform: Literal["openpai"] = "openpai"
    host: str = MISSING
    username: str = MISSING
    token: str = MISSING
    trial_cpu_number: int = MISSING
    trial_memory_size: Union[str, int] = MISSING
    storage_config_name: str = MISSING
    docker_image: str = "msranni/nni:latest"
    # NNI requires this (Optional, no default), so its json() output, which omits None, does not
    # load back; None by default keeps the round trip working.
    virtual_cluster: Optional[str] = None
    local_storage_mount_point: PathLike = MISSING
    container_storage_mount_point: str = MISSING
    reuse_mode: bool = True
    openpai_config: Optional[dict[str, Any]] = None
    openpai_config_file: Optional[PathLike] = None

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        super()._canonicalize(parents)
        if isinstance(self.host, str) and "://" not in self.host:
            self.host = "https://" + self.host

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if self.trial_gpu_number is None:
            raise self._error(
                "trial_gpu_number",
                "OpenpaiConfig: trial_gpu_number is not set",
                "required field is missing (the openpai platform needs it)",
            )
        if not Path(self.local_storage_mount_point).is_dir():
            path = self.local_storage_mount_point
            message = f'OpenpaiConfig: local_storage_mount_point "{path}" is not a directory'
            raise self._error("local_storage_mount_point", message, f'"{path}" is not a directory')
        if self.openpai_config is not None and self.openpai_config_file is not None:
            raise self._error(
                "openpai_config",
                "openpai_config and openpai_config_file can only be set one",
                "set openpaiConfig or openpaiConfigFile, not both",
            )
        if self.openpai_config_file is not None and not Path(self.openpai_config_file).is_file():
            raise self._error(
                "openpai_config_file",
                f'OpenpaiConfig: openpai_config_file "{self.openpai_config_file}" is not a file',
                f'"{self.openpai_config_file}" is not a file',
            )


@dataclass(init=False)
class AmlConfig(TrainingServiceConfig):
    """Run trials on Azure Machine Learning."""

    platform: Literal["aml"] = "aml"
    subscription_id: str = MISSING
    resource_group: str = MISSING
    workspace_name: str = MISSING
    compute_target: str = MISSING
    docker_image: str = "msranni/nni:latest"
    max_trial_number_per_gpu: int = 1


@dataclass(init=False)
class DlcConfig(TrainingServiceConfig):
    """Run trials on Alibaba Cloud PAI-DLC."""

    platform: Literal["dlc"] = "dlc"
    type: str = "Worker"
    image: str = MISSING
    job_type: str = "TFJob"
    pod_count: int = MISSING
    ecs_spec: str = MISSING
    region: str = MISSING
    workspace_id: str = MISSING
    nas_data_source_id: str = MISSING
    oss_data_source_id: Optional[str] = None
    access_key_id: str = MISSING
    access_key_secret: str = MISSING
    local_storage_mount_point: str = MISSING
    container_storage_mount_point: str = MISSING


# --- kubernetes -------------------------------------------------------------------------------


@dataclass(init=False)
class K8sStorageConfig(ConfigBase):
    """Storage of a Kubernetes platform: ``storage_type`` 'nfs' (server, path) or 'azureStorage'."""

    _tolerant = True

    storage_type: str = MISSING
    azure_account: Optional[str] = None
    azure_share: Optional[str] = None
    key_vault_name: Optional[str] = None
    key_vault_key: Optional[str] = None
    server: Optional[str] = None
    path: Optional[str] = None

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if self.storage_type == "azureStorage":
            wrong = ["server", "path"]
        elif self.storage_type == "nfs":
            wrong = ["azure_account", "azure_share", "key_vault_name", "key_vault_key"]
        else:
            raise self._error(
                "storage_type",
                f'Kubernetes storage_type ("{self.storage_type}") must either be "azureStorage" or "nfs"',
                f'expected "azureStorage" or "nfs", got {describe_value(self.storage_type)}',
            )
        for name in wrong:
            if getattr(self, name) is not None:
                message = f"K8sStorageConfig: {name} must not be set when storage_type is"
                detail = f'must not be set when storageType is "{self.storage_type}"'
                raise self._error(name, f"{message} {self.storage_type!r}", detail)


@dataclass(init=False)
class K8sNfsConfig(K8sStorageConfig):
    """NFS storage of a Kubernetes platform."""

    storage_type: str = "nfs"
    server: str = MISSING
    path: str = MISSING


@dataclass(init=False)
class K8sAzureStorageConfig(K8sStorageConfig):
    """Azure file share storage of a Kubernetes platform."""

    storage_type: str = "azureStorage"
    azure_account: str = MISSING
    azure_share: str = MISSING
    key_vault_name: str = MISSING
    key_vault_key: str = MISSING


@dataclass(init=False)
class KubeflowRoleConfig(ConfigBase):
    """One role (worker, ps or master) of a Kubeflow job."""

    replicas: int = MISSING
    command: str = MISSING
    gpu_number: Optional[int] = 0
    cpu_number: int = MISSING
    memory_size: Union[str, int] = MISSING
    docker_image: str = "msranni/nni:latest"
    code_directory: str = MISSING


@dataclass(init=False)
class KubeflowConfig(TrainingServiceConfig):
    """Run trials as Kubeflow (tf-operator / pytorch-operator) jobs."""

    platform: Literal["kubeflow"] = "kubeflow"
    operator: str = MISSING
    api_version: str = MISSING
    storage: K8sStorageConfig = MISSING
    worker: Optional[KubeflowRoleConfig] = None
    ps: Optional[KubeflowRoleConfig] = None
    master: Optional[KubeflowRoleConfig] = None
    reuse_mode: Optional[bool] = True
    namespace: str = "default"

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        super()._canonicalize(parents)
        if self.trial_command is None:  # not used by this platform; '' passes the type check
            self.trial_command = ""
        if self.trial_code_directory is None:
            self.trial_code_directory = ""

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if self.operator not in ("tf-operator", "pytorch-operator"):
            message = "KubeflowConfig: operator must be 'tf-operator' or 'pytorch-operator'"
            detail = f'expected "tf-operator" or "pytorch-operator", got {describe_value(self.operator)}'
            raise self._error("operator", f"{message}, got {self.operator!r}", detail)


@dataclass(init=False)
class FrameworkAttemptCompletionPolicy(ConfigBase):
    """When a FrameworkController task role counts as failed or succeeded."""

    min_failed_task_count: int = MISSING
    min_succeed_task_count: int = MISSING


@dataclass(init=False)
class FrameworkControllerRoleConfig(ConfigBase):
    """One task role of a FrameworkController job."""

    name: str = MISSING
    docker_image: str = "msranni/nni:latest"
    task_number: int = MISSING
    command: str = MISSING
    gpu_number: int = MISSING
    cpu_number: int = MISSING
    memory_size: Union[str, int] = MISSING
    framework_attempt_completion_policy: FrameworkAttemptCompletionPolicy = MISSING


@dataclass(init=False)
class FrameworkControllerConfig(TrainingServiceConfig):
    """Run trials as FrameworkController jobs on Kubernetes."""

    platform: Literal["frameworkcontroller"] = "frameworkcontroller"
    storage: K8sStorageConfig = MISSING
    service_account_name: Optional[str] = None  # NNI: required; see OpenpaiConfig.virtual_cluster
    task_roles: list[FrameworkControllerRoleConfig] = MISSING
    reuse_mode: Optional[bool] = True
    namespace: str = "default"

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        super()._canonicalize(parents)
        if self.trial_command is None:  # not used by this platform; '' passes the type check
            self.trial_command = ""
