"""Experiment configs: NNI 3.0's ``nni.experiment.config`` schema, rules and JSON output.

Build an :class:`ExperimentConfig` from keyword arguments, a platform name or a YAML/JSON file,
check it with ``validate()``, and get what the NNI manager accepts with ``json()``.
:func:`load_config_file` reads and checks a config file as ``nni-exp run`` does (NNI v1 configs
are converted as ``nnictl create`` converts them), with errors in the file's terms.
"""

import sys

from .algorithm import AlgorithmConfig, CustomAlgorithmConfig
from .base import MISSING, ConfigBase, ConfigFileError, UnknownFieldError
from .diff import diff
from .experiment_config import ExperimentConfig
from .known_algorithms import KnownAlgorithms, known_algorithms
from .loading import InvalidConfigPathError, LoadedConfig, UnreadableConfigFileError, load_config_file
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
from .v1 import V1Conversion, convert_v1

__all__ = [
    "ExperimentConfig",
    "load_config_file",
    "LoadedConfig",
    "convert_v1",
    "V1Conversion",
    "known_algorithms",
    "KnownAlgorithms",
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
    "UnreadableConfigFileError",
    "InvalidConfigPathError",
    "diff",
]

# hypothesis ran nni-exp's entry point (nni_exp.hypothesis_entry) before this package was imported:
# the strategies of its types are registered now. (Found in sys.modules, not imported: a session
# without hypothesis never loads it.)
_hypothesis_entry = sys.modules.get("nni_exp.hypothesis_entry")
if _hypothesis_entry is not None:
    _hypothesis_entry.register_config_types()
