"""Fixtures shared by nni-exp's own tests."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Iterator

import pytest

from fakes import FakeManager
from fakes.router import RouterResponse
from nni_exp import ExperimentConfig

from .json_equality import same_json


@pytest.fixture(autouse=True, scope="session")
def _answers_given_as_values_are_what_their_text_decodes_to() -> Iterator[None]:
    """All through the suite, every answer the in-memory backend takes as a value (``/trial-jobs``,
    ``/metric-data``: no text is written) is compared with ``json.loads`` of its text, which the HTTP
    server and the ``responses`` adapter send: the same value, types and key order included."""
    decoded = RouterResponse.json

    @functools.wraps(decoded)  # a test that must see the value alone restores ``json.__wrapped__``
    def checked(answer: RouterResponse) -> Any:
        value = decoded(answer)
        if answer.has_value:
            text = answer.body
            if not same_json(value, json.loads(text)):
                raise AssertionError(f"an answer's value is not what its text decodes to: {value!r} vs {text!r}")
        return value

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RouterResponse, "json", checked)
        yield


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
