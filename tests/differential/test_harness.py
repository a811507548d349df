"""The differential harness itself, on the in-memory fake only (no real manager, virtual time).

What it must do right before it can prove anything against NNI: generate valid, timing-safe,
reproducible scenarios covering every action and ``_type``; compare two runs and report a divergence
with everything needed to replay it; detect NNI's parameter race instead of reporting it as a bug.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from tests.scenarios.targets import TargetKind

from .compare import RACED, Comparison, compare_runs, raced_trials, replay_command, report
from .conftest import CI_SEEDS
from .driver import play
from .generator import (
    ACTION_KINDS,
    SPACE_TYPES,
    Action,
    GeneratedScenario,
    Schedule,
    TrialPlan,
    grid_size,
    scenario_from_seed,
)
from .run import Outcome
from .shrink import keeps_timing_rules, shrink

SEEDS = range(400)


def _types(space: Dict[str, Any]) -> List[str]:
    found = []
    for spec in space.values():
        nested = spec["_type"] == "choice" and any(isinstance(option, dict) for option in spec["_value"])
        found.append("nested" if nested else spec["_type"])
    return found


def test_a_seed_always_gives_the_same_scenario() -> None:
    assert all(scenario_from_seed(seed) == scenario_from_seed(seed) for seed in range(50))
    assert len({json.dumps(scenario_from_seed(seed).to_json(), sort_keys=True) for seed in range(50)}) == 50


def test_seeds_cover_every_action_type_and_tuner() -> None:
    scenarios = [scenario_from_seed(seed) for seed in SEEDS]
    kinds = {action.kind for scenario in scenarios for action in scenario.actions}
    types = {type_ for scenario in scenarios for type_ in _types(scenario.search_space)}
    tuners = {scenario.tuner["name"] for scenario in scenarios}
    assert kinds == set(ACTION_KINDS)
    assert types == set(SPACE_TYPES)
    assert tuners == {"Random", "TPE", "GridSearch"}
    assert {plan.metric for s in scenarios for plan in s.trials} == {"number", "dict"}
    assert any(plan.fail for s in scenarios for plan in s.trials)


@pytest.mark.parametrize("seed", SEEDS)
def test_scenarios_keep_the_timing_rules(seed: int) -> None:
    """Budget and timing rules of the generator's docstring, for every seed."""
    scenario = scenario_from_seed(seed)
    assert 1 <= scenario.concurrency <= 3 and 2 <= scenario.max_trials <= 5
    assert all(3.75 <= plan.duration <= 6.25 and (plan.duration / 0.5) % 1 == 0.5 for plan in scenario.trials)
    assert all(not plan.reports or plan.duration - plan.report_times[0] >= 1.3 - 1e-9 for plan in scenario.trials)
    assert keeps_timing_rules(scenario), "every action is 1.5 s away from other trials' events"
    triggers = [action.trial for action in scenario.actions]
    assert triggers == sorted(set(triggers)), "triggers name strictly increasing trials"
    max_trials, concurrency = scenario.max_trials, scenario.concurrency
    killed = set()
    for index, action in enumerate(scenario.actions):
        assert action.trial < max_trials - 1, "the trigger trial is submitted and is not the last one"
        if scenario.tuner["name"] == "GridSearch":
            assert action.trial < grid_size(scenario.search_space) - 1, "the grid has the trigger trial"
        assert action.trial not in killed
        if action.when == "reported":
            assert scenario.trials[action.trial].reports >= 1
        if action.kind in ("max-trials-down", "duration-down"):
            assert index == len(scenario.actions) - 1, "a limit goes down only in the last action"
        if action.kind in ("search-space", "duration-down"):
            assert concurrency == 1, "what is submitted next must not depend on other trials' timing"
        if action.kind == "max-trials-down":
            assert action.value >= action.trial + concurrency
        if action.kind == "kill-running":
            killed.add(action.trial)
        if action.kind.startswith("max-trials"):
            max_trials = action.value
        if action.kind.startswith("concurrency"):
            concurrency = action.value
        assert 1 <= concurrency <= 3 and max_trials <= 6


def _play_fake(scenario: GeneratedScenario, root: Path) -> Any:
    kind = TargetKind("fake", root)
    try:
        return play(scenario, kind)
    finally:
        kind.close()


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_two_fake_runs_of_a_seed_match(seed: int, tmp_path: Path) -> None:
    """The comparison finds nothing between two runs of the same (deterministic) fake."""
    scenario = scenario_from_seed(seed)
    first, second = _play_fake(scenario, tmp_path / "a"), _play_fake(scenario, tmp_path / "b")
    assert first.failure is None
    assert [step["op"] for step in first.steps][-2:] == ["observed", "stop"]
    assert compare_runs(first, second).problems == []


def test_a_planted_bug_is_reported_with_the_replay_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake that reports job statistics with one trial too many diverges from a correct one."""
    from fakes import simulator

    seed = CI_SEEDS[0]
    scenario = scenario_from_seed(seed)
    good = _play_fake(scenario, tmp_path / "good")
    limit = simulator.SimulatedManager._max_trial_number
    monkeypatch.setattr(simulator.SimulatedManager, "_max_trial_number", lambda self: limit(self) + 1)
    bad = _play_fake(scenario, tmp_path / "bad")
    comparison = compare_runs(good, bad)
    assert not comparison.matched
    assert any("step end" in problem and "trial counts" in problem for problem in comparison.problems)
    text = report(scenario.describe(), comparison, good, bad)
    assert text.startswith(f"differential seed {seed}:") and scenario.describe() in text
    assert re.search(r"^!! +\d+ final\.job-statistics\n      real: .*\n      fake: ", text, re.MULTILINE)
    assert text.endswith("replay: " + replay_command(seed))


class _Recorded:
    """What :func:`raced_trials` reads of a session: its two final reads, as recorded."""

    def __init__(self, jobs: List[Dict[str, Any]], metrics: List[Dict[str, Any]]) -> None:
        self.steps = [{"op": "request", "name": "final.trial-jobs", "result": {"body": jobs}},
                      {"op": "request", "name": "final.metric-data", "result": {"body": metrics}}]


def _job(trial: str, parameter_id: Any) -> Dict[str, Any]:
    return {"trialJobId": trial, "hyperParameters": [{"$json": {"parameter_id": parameter_id, "parameters": {}},
                                                       "$style": "js"}]}


def _metric(trial: str, parameter_id: Any) -> Dict[str, Any]:
    return {"trialJobId": trial, "parameterId": None if parameter_id is None else str(parameter_id),
            "type": "FINAL", "data": {"$json": 0.5, "$style": "-"}}


def test_the_parameter_race_is_detected() -> None:
    """Trials 0 and 1 swapped parameters (their metrics carry each other's parameterId); 2 did not;
    the customized trial 3 (parameterId null) is never a race."""
    jobs = [_job("<trial:0>", 0), _job("<trial:1>", 1), _job("<trial:2>", 2), _job("<trial:3>", None)]
    metrics = [_metric("<trial:0>", 1), _metric("<trial:1>", 0), _metric("<trial:2>", 2), _metric("<trial:3>", None)]
    assert raced_trials(_Recorded(jobs, metrics)) == ["<trial:0>", "<trial:1>"]  # type: ignore[arg-type]
    assert raced_trials(_Recorded(jobs, metrics[2:])) == []  # type: ignore[arg-type]


def test_raced_metric_values_are_left_out_on_both_sides_and_said_so(tmp_path: Path) -> None:
    """Swapping two trials' metric values in one run is a divergence, unless those trials raced."""
    seed = next(seed for seed in SEEDS if scenario_from_seed(seed).concurrency >= 2
                and not scenario_from_seed(seed).actions)
    first = _play_fake(scenario_from_seed(seed), tmp_path / "a")
    second = _play_fake(scenario_from_seed(seed), tmp_path / "b")
    read = next(step for step in second.steps if step.get("name") == "final.metric-data")
    finals = [metric for metric in read["result"]["body"] if metric["type"] == "FINAL"]
    finals[0]["data"], finals[1]["data"] = finals[1]["data"], finals[0]["data"]
    assert not compare_runs(first, second).matched
    raced = sorted({finals[0]["trialJobId"], finals[1]["trialJobId"]})
    from . import compare

    original = compare.raced_trials
    try:
        compare.raced_trials = lambda session: raced
        comparison = compare_runs(first, second)
    finally:
        compare.raced_trials = original
    assert comparison.matched, comparison.problems
    assert comparison.raced == raced and "parameter race" in comparison.notes[0]
    assert RACED in json.dumps(compare._canonical(read, set(raced)))


def test_the_ci_seeds_cover_the_action_types_they_claim() -> None:
    kinds = {action.kind for seed in CI_SEEDS for action in scenario_from_seed(seed).actions}
    assert kinds >= {"kill-running", "kill-finished", "import-data", "custom-trial", "duration-up",
                     "max-trials-down", "stop-resume"}
    assert "GridSearch" in {scenario_from_seed(seed).tuner["name"] for seed in CI_SEEDS}


def _run(*steps: Dict[str, Any]) -> Any:
    return SimpleNamespace(steps=list(steps), generated=scenario_from_seed(0))


def test_nni_exp_client_improvements_are_named_not_reported() -> None:
    """NNI's client raising TypeError on list_trial_jobs (customized trials) where nni-exp's answers is
    the README's documented improvement; the same error elsewhere is a divergence."""
    listed = {"op": "call", "name": "final.call.list_trial_jobs", "method": "list_trial_jobs", "args": []}
    status = {"op": "call", "name": "final.call.get_status", "method": "get_status", "args": []}
    real = _run(dict(listed, result={"error": "TypeError"}), dict(status, result={"error": "TypeError"}))
    fake = _run(dict(listed, result={"value": []}), dict(status, result={"value": "DONE"}))
    comparison = compare_runs(real, fake)
    assert any("list_trial_jobs" in note and "README" in note for note in comparison.notes)
    assert len(comparison.problems) == 1 and "get_status" in comparison.problems[0]


def test_runs_stuck_at_the_same_point_match_and_say_so() -> None:
    stuck = {"op": "failed", "result": {"error": "timed out after 60 s waiting for trial 2 RUNNING"}}
    other = {"op": "failed", "result": {"error": "timed out after 60 s waiting for trial 3 RUNNING"}}
    comparison = compare_runs(_run(stuck), _run(dict(stuck)))
    assert comparison.matched and "stopped at step 0 the same way" in comparison.notes[0]
    assert not compare_runs(_run(stuck), _run(other)).matched


def test_shrinking_keeps_only_what_makes_the_run_diverge(tmp_path: Path) -> None:
    """With a stand-in for the real replay that diverges whenever a kill-finished action is there,
    shrinking drops the other actions and the trials the scenario does not need."""
    def only_kill(scenario: GeneratedScenario) -> GeneratedScenario:
        return dataclasses.replace(scenario, actions=tuple(a for a in scenario.actions if a.kind == "kill-finished"))

    scenarios = (scenario_from_seed(seed) for seed in SEEDS)
    scenario = next(s for s in scenarios if len(s.actions) >= 2 and len(only_kill(s).actions) == 1
                    and keeps_timing_rules(only_kill(s)))
    seed = scenario.seed
    played: List[GeneratedScenario] = []

    def play(candidate: GeneratedScenario, root: Path) -> Outcome:
        played.append(candidate)
        diverges = any(action.kind == "kill-finished" for action in candidate.actions)
        return Outcome(candidate, Comparison(seed, ["differs"] if diverges else []), "report", 1)

    smallest = shrink(play(scenario, tmp_path), tmp_path, play=play)
    assert [action.kind for action in smallest.scenario.actions] == ["kill-finished"]
    assert smallest.scenario.max_trials <= scenario.max_trials
    assert all(keeps_timing_rules(candidate) for candidate in played[1:])
    assert len(played) <= 1 + len(scenario.actions) * 3 + scenario.max_trials


def test_a_trigger_at_the_experiments_end_may_see_done_or_not() -> None:
    """The trigger trial ended in the tick that ended the experiment: one side's wait saw DONE too."""
    def trigger(*statuses: str) -> Dict[str, Any]:
        return {"op": "wait", "name": "a0.trigger", "until": {"kind": "status", "args": ["DONE"]},
                "result": {"statuses": list(statuses), "counts": {}}}

    assert compare_runs(_run(trigger("RUNNING", "NO_MORE_TRIAL")),
                        _run(trigger("RUNNING", "NO_MORE_TRIAL", "DONE"))).matched
    assert not compare_runs(_run(trigger("RUNNING", "NO_MORE_TRIAL")), _run(trigger("RUNNING", "DONE"))).matched
    final = dict(trigger("RUNNING", "NO_MORE_TRIAL"), name="end")
    assert not compare_runs(_run(final), _run(dict(final, result={"statuses": ["RUNNING", "NO_MORE_TRIAL", "DONE"],
                                                                  "counts": {}}))).matched


def test_a_real_run_stalled_by_the_race_is_explained_not_blamed() -> None:
    """Recorded from seed 1012 on the real manager: TPE, trials 0 and 1 swapped parameters, the tuner
    crashed (KeyError in receive_trial_result) and the experiment stalled; the fake went on to DONE."""
    end = {"op": "wait", "name": "end", "until": {"kind": "status", "args": ["DONE"]}}
    jobs = [_job("<trial:0>", 0), _job("<trial:1>", 1)]
    log = ["INFO (nni.tuner.tpe/Thread-1 (command_queue_worker)) Replayed 1 FINISHED trials",
           "ERROR (nni.runtime.msg_dispatcher_base/Thread-1 (command_queue_worker)) 0", "KeyError: 0",
           "INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher exiting..."]
    stalled = [{"op": "failed", "result": {"error": "timed out after 120 s waiting for the end"}},
               {"op": "request", "name": "after-failure.trial-jobs", "result": {"body": jobs}},
               {"op": "request", "name": "after-failure.metric-data",
                "result": {"body": [_metric("<trial:0>", 1), _metric("<trial:1>", 0)]}},
               {"op": "dispatcher_log", "name": "after-failure.dispatcher-log", "result": {"value": log}}]
    done = dict(end, result={"statuses": ["RUNNING", "DONE"], "counts": {"SUCCEEDED": 5}})
    comparison = compare_runs(_run(*stalled), _run(done))
    assert comparison.matched and comparison.explained and "KeyError: 0" in comparison.notes[-1]
    assert not compare_runs(_run(*stalled[:3]), _run(done)).matched, "no tuner crash: not explained"
    unraced = [stalled[0], stalled[1], {"op": "request", "name": "after-failure.metric-data",
                                        "result": {"body": [_metric("<trial:0>", 0)]}}, stalled[3]]
    assert not compare_runs(_run(*unraced), _run(done)).matched, "no race: not explained"


def test_the_schedule_sees_other_trials_events_near_an_action() -> None:
    """Two trials of 5.25 s and 5.75 s start together: trial 1 ends 0.5 s after trial 0, too close to
    act when trial 0 finishes; with one trial at a time the next one starts a tick after, which only a
    neutral action (kill of the finished trial) may ignore."""
    plans = [TrialPlan(5.25, 1), TrialPlan(5.75, 1), TrialPlan(3.75)]
    assert not Schedule(plans, 2, 3).quiet(Action("concurrency-up", 0, "finished", 3))
    assert Schedule(plans, 2, 3).quiet(Action("concurrency-up", 0, "reported", 3))
    assert Schedule(plans, 1, 3).quiet(Action("kill-finished", 0, "finished"))
    assert not Schedule(plans, 1, 3).quiet(Action("concurrency-up", 0, "finished", 2))
    assert not Schedule(plans, 1, 3).quiet(Action("kill-finished", 1, "reported")), "trial 1 starts later"


@pytest.mark.parametrize("raced, late, attempts, fails", [
    ([], [], 1, True),                      # a plain divergence: no replay, it fails
    ([], ["trial #0 was 2 s late"], 2, True),  # a busy machine: replayed once, still fails
    (["<trial:1>"], [], 2, False),          # NNI's race both times: replayed, explained
])
def test_when_a_divergence_is_replayed_or_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    raced: List[str], late: List[str], attempts: int,
                                                    fails: bool) -> None:
    from . import run

    scenario = scenario_from_seed(CI_SEEDS[0])
    played: List[str] = []

    def fake_play(scenario: GeneratedScenario, kind: TargetKind) -> Any:
        played.append(kind.name)
        return SimpleNamespace(steps=[], generated=scenario, target=SimpleNamespace(code=tmp_path, name=kind.name))

    monkeypatch.setattr(run, "_play", fake_play)
    monkeypatch.setattr(run, "late_trials", lambda code: list(late))
    monkeypatch.setattr(run, "compare_runs", lambda real, fake: Comparison(
        scenario.seed, ["step end: trial counts differs"], raced=list(raced)))
    outcome = run.run_differential(scenario, tmp_path)
    assert played == ["fake"] + ["nni"] * attempts and outcome.attempts == attempts
    assert bool(outcome.report) is fails and bool(outcome.comparison.explained) is not fails
    assert ("machine was busy" in " ".join(outcome.comparison.notes)) is bool(late)
