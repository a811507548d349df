"""Fixtures shared by nni-exp's own tests."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from fakes import FakeManager
from nni_exp import ExperimentConfig


def make_config(**overrides: Any) -> ExperimentConfig:
    """A valid local config: Random tuner, x uniform in [0, 1], concurrency 2, 4 trials."""
    config = ExperimentConfig("local")
    config.trial_command = "python3 trial.py"
    config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config.tuner.name = "Random"
    config.trial_concurrency = 2
    config.max_trial_number = 4
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def config_factory() -> Callable[..., ExperimentConfig]:
    return make_config


def three_second_trial(params: dict, trial: Any) -> float:
    """A scripted trial: 3 virtual seconds, final metric x."""
    trial.sleep(3)
    return float(params["x"])


@pytest.fixture
def fake() -> FakeManager:
    """A fresh fake manager whose trials run 3 virtual seconds and report x."""
    return FakeManager(three_second_trial, seed=7)
