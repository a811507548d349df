"""diff(): a unified diff of the pretty-printed json() of two configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nni_exp.config import ExperimentConfig, diff
from nni_exp.errors import ConfigError


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def make(**overrides: Any) -> ExperimentConfig:
    kwargs: dict[str, Any] = {
        "trial_concurrency": 2,
        "search_space": {"x": {"_type": "choice", "_value": [1, 2]}},
        "trial_command": "python t.py",
        "tuner": {"name": "Random"},
        "training_service": {"platform": "local"},
    }
    kwargs.update(overrides)
    return ExperimentConfig(**kwargs)


def test_equal_configs_have_no_diff() -> None:
    config = make()
    assert diff(config, make()) == ""
    assert diff(config, ExperimentConfig(**config.json()), "Current", "Loaded") == ""


def test_diff_shows_changed_lines_with_labels() -> None:
    text = diff(make(trial_concurrency=2), make(trial_concurrency=5), "Current", "Loaded")
    lines = text.splitlines()
    assert lines[0] == "--- Current"
    assert lines[1] == "+++ Loaded"
    assert lines[2].startswith("@@")
    assert " 'trialConcurrency': 2," in [line[1:] for line in lines if line.startswith("-")]
    assert " 'trialConcurrency': 5," in [line[1:] for line in lines if line.startswith("+")]
    assert not text.endswith("\n")


def test_diff_without_labels() -> None:
    lines = diff(make(), make(max_trial_number=3)).splitlines()
    assert lines[:2] == ["--- ", "+++ "]
    assert any(line.startswith("+") and "'maxTrialNumber': 3" in line for line in lines)


def test_diff_validates_both_configs() -> None:
    with pytest.raises(ConfigError, match="trial_concurrency must be > 0"):
        diff(make(), make(trial_concurrency=0))
