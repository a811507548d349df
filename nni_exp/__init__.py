"""nni-exp: NNI 3.0's ``Experiment`` API over a real or an in-memory fake NNI manager.

Names are imported on first use, so that loading the package (as the pytest plugin does at start-up)
costs nothing until something is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Experiment": ".experiment",
    "RunMode": ".backend",
    "Backend": ".backend",
    "ManagerArgs": ".backend",
    "ExperimentConfig": ".config",
    "AlgorithmConfig": ".config",
    "CustomAlgorithmConfig": ".config",
    "LocalConfig": ".config",
    "RemoteConfig": ".config",
    "RemoteMachineConfig": ".config",
    "TrialJob": ".data",
    "TrialMetricData": ".data",
    "TrialResult": ".data",
    "TrialHyperParameters": ".data",
}

__all__ = [
    "Experiment",
    "RunMode",
    "Backend",
    "ManagerArgs",
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
    "errors",
    "__version__",
]

if TYPE_CHECKING:
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


_lazy = lazy_exports(_EXPORTS, globals())


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module(".errors", __name__)
    return _lazy(name)


def __dir__() -> list:
    return sorted(__all__)
