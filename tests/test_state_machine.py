"""The Experiment state machine: it holds on the fake, and it finds deliberately planted bugs."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from fakes import FakeManager
from fakes.manager import FakeProcess
from nni_exp import Experiment
from nni_exp.backend import ManagerArgs, RunMode
from nni_exp.errors import ManagerError
from nni_exp.testing.state_machine import (
    EXPERIMENT_STATUS_TRANSITIONS,
    TRIAL_STATUS_TRANSITIONS,
    ExperimentStateMachine,
    _in_effect_since,
    observable_transitions,
)

from .conftest import make_config

# ---------------------------------------------------------------------------------------------- it holds


class TestExperimentStateMachine(ExperimentStateMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=30, stateful_step_count=30, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])


def test_state_machine_is_exported_by_the_testing_package():
    import nni_exp.testing as testing

    assert testing.ExperimentStateMachine is ExperimentStateMachine
    with pytest.raises(AttributeError):
        testing.NoSuchThing  # noqa: B018


# ---------------------------------------------------------------------------------------------- its model


def test_observable_transitions_are_the_closure():
    experiment = observable_transitions(EXPERIMENT_STATUS_TRANSITIONS)
    assert "DONE" in experiment["RUNNING"]            # NO_MORE_TRIAL may fall between two polls
    assert "RUNNING" in experiment["DONE"]            # a raised limit revives DONE
    assert experiment["ERROR"] == {"ERROR", "STOPPING", "STOPPED"}
    assert "INITIALIZED" not in experiment["RUNNING"]
    assert experiment["STOPPED"] == {"STOPPED"}
    assert "VIEWED" not in experiment["RUNNING"] and "RUNNING" not in experiment["VIEWED"]
    trial = observable_transitions(TRIAL_STATUS_TRANSITIONS)
    for ended in ("SUCCEEDED", "FAILED", "USER_CANCELED", "EARLY_STOPPED"):
        assert not {"RUNNING", "WAITING", "ADD_RESUMED"} & trial[ended], ended
    assert "RUNNING" in trial["ADD_RESUMED"] and "SUCCEEDED" in trial["RUNNING"]


def test_limit_in_effect_since():
    history = [(0, 4.0), (100, 1.0), (200, 3.0)]
    assert _in_effect_since(history, 50) == 4.0      # 4 was still in effect at 50
    assert _in_effect_since(history, 150) == 3.0     # 1 then 3
    assert _in_effect_since(history, 100) == 4.0     # same millisecond: both count
    assert _in_effect_since(history, 300) == 3.0
    assert _in_effect_since([], 5) == math.inf


# ---------------------------------------------------------------------------------------------- it finds bugs

#: Enough to find each planted bug, deterministic (no flakiness), no shrinking (fast).
HUNT = settings(max_examples=40, stateful_step_count=25, deadline=None, derandomize=True, database=None,
                phases=[Phase.generate], suppress_health_check=list(HealthCheck))


class _BrokenFake(FakeManager):
    """A fake whose simulated managers get a bug planted by ``plant(manager)``."""

    def plant(self, manager: Any) -> None:
        raise NotImplementedError

    def spawn_manager(self, args: ManagerArgs, run_mode: RunMode) -> FakeProcess:
        process = super().spawn_manager(args, run_mode)
        if process.manager is not None:
            self.plant(process.manager)
        return process


class _OneTrialTooMany(_BrokenFake):
    def plant(self, manager: Any) -> None:
        limit = manager._max_trial_number
        manager._max_trial_number = lambda: limit() + 1


class _OneTrialTooManyAtOnce(_BrokenFake):
    def plant(self, manager: Any) -> None:
        concurrency = manager._concurrency
        manager._concurrency = lambda: concurrency() + 1


class _ExportsTheWrongMetric(_BrokenFake):
    """Exports each trial's first metric (an intermediate one, when it reported any) instead of its final."""

    def plant(self, manager: Any) -> None:
        store = manager.store
        if getattr(store, "_planted", False):
            return
        original = store._exported  # one trial's export entries, behind export_data() and /export-data

        def exported(record: Dict[str, Any]) -> List[Dict[str, Any]]:
            rows = original(record)
            for row in rows:
                first = next(m for m in store.metrics if m["trialJobId"] == row["trialJobId"])
                row["value"] = json.loads(first["data"])
            return rows

        store._exported = exported
        store._planted = True


class _ForgetsIntermediateResults(_BrokenFake):
    """Drops the second intermediate result of every trial."""

    def plant(self, manager: Any) -> None:
        store = manager.store
        if getattr(store, "_planted", False):
            return
        original = store.add_metric

        def add_metric(row: Dict[str, Any]) -> None:
            if not (row["type"] == "PERIODICAL" and row["sequence"] == 1):
                original(row)

        store.add_metric = add_metric
        store._planted = True


def _machine_on(fake_class: type) -> type:
    class Machine(ExperimentStateMachine):
        def make_backend(self, trial: Any, seed: int) -> FakeManager:
            fake: FakeManager = fake_class(trial, seed=seed)
            return fake

    Machine.__name__ = f"MachineOn{fake_class.__name__}"
    return Machine


@pytest.mark.parametrize("broken, invariant", [
    (_OneTrialTooMany, "max trial number"),
    (_OneTrialTooManyAtOnce, "concurrency"),
    (_ExportsTheWrongMetric, "export data"),
    (_ForgetsIntermediateResults, "intermediate results"),
], ids=lambda value: getattr(value, "__name__", value))
def test_the_state_machine_finds_a_planted_bug(broken, invariant):
    with pytest.raises(AssertionError, match=invariant):
        run_state_machine_as_test(_machine_on(broken), settings=HUNT)


def test_the_unbroken_fake_passes_the_same_hunt():
    run_state_machine_as_test(_machine_on(FakeManager), settings=HUNT)


# ---------------------------------------------------------------------------------------------- bugs it found


def test_concurrency_update_before_the_tuner_connects():
    """Regression (found by the state machine): the tuner gets the search space before any request."""
    fake = FakeManager(seed=0)
    with Experiment(make_config(trial_concurrency=1), backend=fake) as exp:
        exp.start()
        exp.update_trial_concurrency(2)
        fake.advance(10)
        assert exp.get_status() != "ERROR", fake.request("GET", 8080, "/check-status")["errors"]
        assert len(exp.list_trial_jobs()) == 2


def test_killing_a_resumed_trial_does_not_exceed_max_trial_number():
    """Regression (found by the state machine): a resumed trial still queued cannot be canceled (the
    real manager fails with a JavaScript TypeError and runs it later); the submitted count stays right."""
    def long_trial(params: Dict[str, Any], trial: Any) -> float:
        trial.sleep(100)
        return 1.0

    fake = FakeManager(long_trial, seed=0)
    exp = Experiment(make_config(max_trial_number=2, trial_concurrency=2), backend=fake)
    exp.start()
    fake.advance(10)
    exp.stop()
    resumed = Experiment(None, id=exp.id, backend=fake)
    resumed.resume(wait_completion=False)
    first = resumed.list_trial_jobs()[0]
    assert first.status == "ADD_RESUMED"
    with pytest.raises(ManagerError, match="waiting to be resumed") as info:
        resumed.kill_trial_job(first.trialJobId)
    assert info.value.status_code == 409
    fake.advance(20)
    jobs = resumed.list_trial_jobs()
    resumed.stop()
    assert len(jobs) <= 2, json.dumps([(job.trialJobId, job.status) for job in jobs])
    assert resumed.backend is fake and {job.status for job in jobs} == {"RUNNING"}


def test_machine_subclasses_can_change_what_is_drawn():
    from hypothesis import strategies as st

    from nni_exp.strategies import experiment_configs, search_spaces

    seen: List[int] = []

    class Small(ExperimentStateMachine):
        def configs(self) -> Any:
            return experiment_configs(search_space=search_spaces(types=("choice",), max_size=1, max_depth=1),
                                      trial_concurrency=1, max_trial_number=st.just(2),
                                      max_experiment_duration=None, max_trial_duration=None)

        def teardown(self) -> None:
            seen.append(self.config.max_trial_number)
            super().teardown()

    run_state_machine_as_test(Small, settings=settings(max_examples=5, stateful_step_count=10, deadline=None,
                                                       database=None))
    assert seen and set(seen) == {2}
    assert "hypothesis.stateful" in sys.modules
