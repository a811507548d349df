"""Same seed, same experiment; skipping idle ticks changes nothing but speed."""

from __future__ import annotations

import json
from typing import Any, Dict

from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeManager, ManagerTiming, VirtualClock
from nni_exp import Experiment

from .conftest import make_config


def snapshot(fake: FakeManager, port: int = 8080) -> Dict[str, Any]:
    answers = {}
    for path in ("/check-status", "/experiment", "/trial-jobs", "/metric-data", "/job-statistics", "/export-data"):
        answers[path] = json.loads(fake.handle(port, "GET", "/api/v1/nni" + path).body)
    return answers


def scripted(params: dict, trial: Any) -> Any:
    for step in range(int(params["x"] * 5)):
        trial.sleep(0.7)
        trial.report_intermediate_result(step * params["x"])
    if params["x"] > 0.9:
        raise RuntimeError("unlucky")
    trial.sleep(1.3)
    return params["x"]


def run_once(seed: int, skip: bool = True, **config: Any) -> Dict[str, Any]:
    fake = FakeManager(scripted, seed=seed, clock=VirtualClock(start_time=1_700_000_000), skip_idle_ticks=skip)
    exp = Experiment(make_config(**config), id="determinism", backend=fake)
    exp.run()
    return snapshot(fake)


def test_same_seed_same_experiment():
    first = run_once(5, max_trial_number=12, trial_concurrency=3)
    assert first == run_once(5, max_trial_number=12, trial_concurrency=3)
    assert first["/trial-jobs"] != run_once(6, max_trial_number=12, trial_concurrency=3)["/trial-jobs"]


def test_tuner_seed_class_arg_is_honoured():
    def params_of(seed: int, tuner_seed: int) -> list:
        config = make_config(max_trial_number=5)
        config.tuner.class_args = {"seed": tuner_seed}
        fake = FakeManager(scripted, seed=seed)
        exp = Experiment(config, backend=fake)
        exp.run()
        return [job.hyperParameters[0].parameters for job in exp.list_trial_jobs()]

    assert params_of(1, 42) == params_of(2, 42)
    assert params_of(1, 42) != params_of(1, 43)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 16), trials=st.integers(1, 15), concurrency=st.integers(1, 4),
       duration=st.one_of(st.none(), st.sampled_from(["5s", "12s", "30s"])),
       trial_duration=st.one_of(st.none(), st.sampled_from(["2s", "4s"])))
def test_skipping_idle_ticks_gives_the_same_experiment(seed, trials, concurrency, duration, trial_duration):
    config = dict(max_trial_number=trials, trial_concurrency=concurrency, max_experiment_duration=duration,
                  max_trial_duration=trial_duration)
    assert run_once(seed, True, **config) == run_once(seed, False, **config)


def test_timing_defaults_match_the_local_training_service():
    timing = ManagerTiming()
    assert (timing.tick, timing.tuner_startup) == (0.5, 3.0)
