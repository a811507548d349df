"""Scripted trials for the fake manager server tests (``--trial test_fake_server_helpers:<name>``).

The server processes import this module by name, with this folder on ``PYTHONPATH``; it holds no
tests.
"""

from __future__ import annotations

from typing import Any


def quick_trial(params: dict[str, Any], trial: Any) -> float:
    """2 virtual seconds, one intermediate result, final result ``x``."""
    trial.sleep(1)
    trial.report_intermediate_result(float(params.get("x", 0)) / 2)
    trial.sleep(1)
    trial.log(f"x is {params.get('x')}")
    return float(params.get("x", 0))


def slow_trial(params: dict[str, Any], trial: Any) -> float:
    """60 virtual seconds (0.6 s at time scale 100): still running when a test stops the experiment."""
    trial.sleep(60)
    return float(params.get("x", 0))


def webui_trial(params: dict[str, Any], trial: Any) -> float:
    """The first three trials (sequence ids 0-2) end after 1 virtual second with final result ``x``; the
    others run for an hour: an experiment with finished and running trials for the web UI."""
    trial.report_intermediate_result(float(params.get("x", 0)) / 2)
    trial.sleep(1 if trial.sequence_id < 3 else 3600)
    return float(params.get("x", 0))


not_callable = 42


def endless_trial(params: dict[str, Any], trial: Any) -> float:
    """Reports one intermediate result, then runs for 30 virtual years: a state that holds still (the
    HTTP fuzz and load tests), whatever parameters it gets."""
    trial.report_intermediate_result(0.5)
    trial.sleep(1e9)
    return 0.5
