"""nni-exp: NNI 3.0's ``Experiment`` API over a real or an in-memory fake NNI manager."""

from . import errors
from .backend import Backend, ManagerArgs, RunMode
from .config import (
    AlgorithmConfig,
    CustomAlgorithmConfig,
    ExperimentConfig,
    LocalConfig,
    RemoteConfig,
    RemoteMachineConfig,
)
from .data import TrialHyperParameters, TrialJob, TrialMetricData, TrialResult
from .experiment import Experiment

__version__ = "0.1.0"

__all__ = [
    "Experiment",
    "RunMode",
    "ExperimentConfig",
    "AlgorithmConfig",
    "CustomAlgorithmConfig",
    "LocalConfig",
    "RemoteConfig",
    "RemoteMachineConfig",
    "TrialJob",
    "TrialMetricData",
    "TrialResult",
    "TrialHyperParameters",
    "Backend",
    "ManagerArgs",
    "errors",
    "__version__",
]
