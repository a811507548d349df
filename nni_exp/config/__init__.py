"""Experiment configs: NNI 3.0's ``nni.experiment.config`` schema, rules and JSON output.

Build an :class:`ExperimentConfig` from keyword arguments, a platform name or a YAML/JSON file,
check it with ``validate()``, and get what the NNI manager accepts with ``json()``.
"""

from .algorithm import AlgorithmConfig, CustomAlgorithmConfig
from .base import MISSING, ConfigBase, ConfigFileError, UnknownFieldError
from .diff import diff
from .experiment_config import ExperimentConfig
from .shared_storage import AzureBlobConfig, NfsConfig, SharedStorageConfig
from .training_services import (
    AmlConfig,
    DlcConfig,
    FrameworkAttemptCompletionPolicy,
    FrameworkControllerConfig,
    FrameworkControllerRoleConfig,
    K8sAzureStorageConfig,
    K8sNfsConfig,
    K8sStorageConfig,
    KubeflowConfig,
    KubeflowRoleConfig,
    LocalConfig,
    OpenpaiConfig,
    RemoteConfig,
    RemoteMachineConfig,
    TrainingServiceConfig,
)

__all__ = [
    "ExperimentConfig",
    "AlgorithmConfig",
    "CustomAlgorithmConfig",
    "TrainingServiceConfig",
    "LocalConfig",
    "RemoteConfig",
    "RemoteMachineConfig",
    "OpenpaiConfig",
    "AmlConfig",
    "DlcConfig",
    "KubeflowConfig",
    "KubeflowRoleConfig",
    "K8sStorageConfig",
    "K8sNfsConfig",
    "K8sAzureStorageConfig",
    "FrameworkControllerConfig",
    "FrameworkControllerRoleConfig",
    "FrameworkAttemptCompletionPolicy",
    "SharedStorageConfig",
    "NfsConfig",
    "AzureBlobConfig",
    "ConfigBase",
    "MISSING",
    "UnknownFieldError",
    "ConfigFileError",
    "diff",
]
