"""Testing tools of nni-exp: the pytest plugin's fixtures and the objects they give.

The pytest plugin (:mod:`nni_exp.pytest_plugin`, loaded automatically once nni-exp is installed)
gives fixtures, the ``nni_fake`` marker and the ``--nni-backend`` option; this package holds what
they are made of, for direct use:

* :class:`InstrumentedFakeManager`, :class:`FaultPlan` — a fake manager with fault injection
  (:mod:`nni_exp.testing.faults`);
* :class:`FakeServer` — a fake manager served over HTTP from a thread (:mod:`nni_exp.testing.server`);
* :class:`BoundExperiment`, :class:`RealManager` — what ``nni_experiment`` and
  ``nni_real_manager`` give (:mod:`nni_exp.testing.backends`);
* :func:`describe` — the experiment state shown when a test fails (:mod:`nni_exp.testing.report`);
* :class:`ExperimentStateMachine` — a hypothesis ``RuleBasedStateMachine`` over the Experiment API
  with NNI's invariants (:mod:`nni_exp.testing.state_machine`).

Names are imported on first use, so ``import nni_exp.testing`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backends import BoundExperiment, RealManager
    from .faults import FaultPlan, InstrumentedFakeManager
    from .report import describe
    from .server import FakeServer
    from .state_machine import ExperimentStateMachine

__all__ = ["BoundExperiment", "RealManager", "FaultPlan", "InstrumentedFakeManager", "FakeServer", "describe",
           "ExperimentStateMachine"]

_HOMES = {
    "BoundExperiment": "backends",
    "RealManager": "backends",
    "FaultPlan": "faults",
    "InstrumentedFakeManager": "faults",
    "FakeServer": "server",
    "describe": "report",
    "ExperimentStateMachine": "state_machine",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
