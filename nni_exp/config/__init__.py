"""Experiment configs: NNI 3.0's ``nni.experiment.config`` schema, rules and JSON output.

Build an :class:`ExperimentConfig` from keyword arguments, a platform name or a YAML/JSON file,
check it with ``validate()``, and get what the NNI manager accepts with ``json()``.
:func:`load_config_file` reads and checks a config file as ``nni-exp run`` does (NNI v1 configs
are converted as ``nnictl create`` converts them), with errors in the file's terms.
"""

import sys
from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports

# Named like their modules: imported now, so that importing the module (as the fake does, for the
# algorithm table alone) cannot leave the module where the function should be. Both are light.
from .diff import diff
from .known_algorithms import KnownAlgorithms, known_algorithms

_EXPORTS = {
    "AlgorithmConfig": ".algorithm",
    "CustomAlgorithmConfig": ".algorithm",
    "MISSING": ".base",
    "ConfigBase": ".base",
    "ConfigFileError": ".base",
    "UnknownFieldError": ".base",
    "ExperimentConfig": ".experiment_config",
    "InvalidConfigPathError": ".loading",
    "LoadedConfig": ".loading",
    "UnreadableConfigFileError": ".loading",
    "load_config_file": ".loading",
    "AzureBlobConfig": ".shared_storage",
    "NfsConfig": ".shared_storage",
    "SharedStorageConfig": ".shared_storage",
    "AmlConfig": ".training_services",
    "DlcConfig": ".training_services",
    "FrameworkAttemptCompletionPolicy": ".training_services",
    "FrameworkControllerConfig": ".training_services",
    "FrameworkControllerRoleConfig": ".training_services",
    "K8sAzureStorageConfig": ".training_services",
    "K8sNfsConfig": ".training_services",
    "K8sStorageConfig": ".training_services",
    "KubeflowConfig": ".training_services",
    "KubeflowRoleConfig": ".training_services",
    "LocalConfig": ".training_services",
    "OpenpaiConfig": ".training_services",
    "RemoteConfig": ".training_services",
    "RemoteMachineConfig": ".training_services",
    "TrainingServiceConfig": ".training_services",
    "V1Conversion": ".v1",
    "convert_v1": ".v1",
}

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

if TYPE_CHECKING:
    from .algorithm import AlgorithmConfig, CustomAlgorithmConfig
    from .base import MISSING, ConfigBase, ConfigFileError, UnknownFieldError
    from .experiment_config import ExperimentConfig
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


__getattr__ = lazy_exports(_EXPORTS, globals())


def __dir__() -> list:
    return sorted(__all__)


# hypothesis ran nni-exp's entry point (nni_exp.hypothesis_entry) before this package was imported:
# the strategies of its types are registered now. (Found in sys.modules, not imported: a session
# without hypothesis never loads it.)
_hypothesis_entry = sys.modules.get("nni_exp.hypothesis_entry")
if _hypothesis_entry is not None:
    _hypothesis_entry.register_config_types()
