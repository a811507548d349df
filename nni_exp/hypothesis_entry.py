"""The ``hypothesis`` entry point of nni-exp: ``st.from_type`` for its config types, registered lazily.

Hypothesis runs the entry points of every installed package while it is being imported, in every
session of every project, whether the session uses nni-exp or not. This module therefore imports
nothing: :func:`register` registers the strategies for ``ExperimentConfig`` and ``AlgorithmConfig``
only if :mod:`nni_exp.config` is already imported; otherwise :mod:`nni_exp.config` registers them
when it is imported (it looks for this module in ``sys.modules``). The strategies themselves
(:mod:`nni_exp.strategies`) are imported when hypothesis first resolves one of these types.
``TrialBehaviour`` is registered by :mod:`nni_exp.strategies`, which defines it.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["register", "register_config_types"]


def register() -> None:
    """Entry point of the ``hypothesis`` group (see the module docstring); never raises."""
    if "nni_exp.config" in sys.modules:
        register_config_types()


def register_config_types() -> None:
    """Register the strategies of ``ExperimentConfig`` and ``AlgorithmConfig`` with hypothesis (which must be
    imported, as must :mod:`nni_exp.config`); a broken optional integration never raises."""
    try:
        from hypothesis import strategies as hypothesis_strategies

        config = sys.modules["nni_exp.config"]
        hypothesis_strategies.register_type_strategy(config.ExperimentConfig, _experiment_configs)
        hypothesis_strategies.register_type_strategy(config.AlgorithmConfig, _algorithm_configs)
    except Exception:  # noqa: BLE001 - must not break hypothesis (or nni_exp.config) when it is imported
        return


def _experiment_configs(_type: Any) -> Any:
    from .strategies import experiment_configs

    return experiment_configs()


def _algorithm_configs(_type: Any) -> Any:
    from .strategies import algorithm_configs

    return algorithm_configs()
