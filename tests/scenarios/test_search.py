"""The search scenarios (``tpe``, ``evolution``, ``grid_update``, ``medianstop``, ``hyperband``,
``custom_tuner``, ``bad_algorithms``) on every target: what NNI's own algorithms make a client see.

Each target must also match the real manager's transcript (``test_reference.py``), value for value
where the scenario is ``exact``; these tests state the facts the transcripts hold, so that a wrong
recording cannot slip in either.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

from .scenarios import MEDIANSTOP_XS
from .session import Session
from .test_basic import body, stats

Scenario = Callable[[str], Session]


def packed(jobs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The packed parameters (``hyperParameters[0]``) of each trial."""
    return [json.loads(job["hyperParameters"][0]) for job in jobs]


def test_tpe_runs_nnis_tpe(scenario: Scenario) -> None:
    s = scenario("tpe")
    assert s["to_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    trials = packed(body(s["done.trial_jobs"]))
    assert [p["parameter_id"] for p in trials] == [0, 1, 2, 3, 4]
    xs = [p["parameters"]["x"] for p in trials]
    # the two start-up trials are TPE's seeded random draws (equal to NNI's Random with the same seed)
    assert xs[:2] == [0.7739560485559633, 0.4388784397520523]
    assert len(set(xs)) == 5 and all(0 <= x <= 1 for x in xs)
    assert s["dispatcher_log"][0] == "INFO (nni.tuner.tpe/MainThread) Using random seed 42"


def test_evolution_mutates_parents(scenario: Scenario) -> None:
    s = scenario("evolution")
    assert s["to_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    parameters = [p["parameters"] for p in packed(body(s["trial_jobs"]))]
    assert len(parameters) == 5
    # a population of 2: two random individuals (every parameter new), then mutations of a parent
    assert parameters[1]["x"] != parameters[0]["x"] and parameters[1]["y"] != parameters[0]["y"]
    for index, child in enumerate(parameters[2:], start=2):
        assert any(sum(child[key] != parent[key] for key in ("x", "y")) <= 1 for parent in parameters[:index]), (
            index, parameters)


def test_grid_search_keeps_its_position_after_an_update(scenario: Scenario) -> None:
    s = scenario("grid_update")
    assert s["update"] is None
    assert s["exhausted"].statuses == ["RUNNING", "TUNER_NO_MORE_TRIAL"]
    assert [p["parameters"]["x"] for p in packed(body(s["exhausted.trial_jobs"]))] == [0.5, 0, 1.5]
    assert body(s["later.check_status"]) == {"status": "TUNER_NO_MORE_TRIAL", "errors": []}


def test_medianstop_stops_the_trial_below_the_median(scenario: Scenario) -> None:
    s = scenario("medianstop")
    assert s["to_done"].statuses == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    jobs = body(s["done.trial_jobs"])
    assert [p["parameters"]["x"] for p in packed(jobs)] == list(MEDIANSTOP_XS)
    # NNI 3.0's local service sets its early-stop flag after the trial ended: USER_CANCELED
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED", "USER_CANCELED", "SUCCEEDED"]
    assert "finalMetricData" not in jobs[2]
    stopped = [m for m in body(s["done.metrics"]) if m["trialJobId"] == jobs[2]["trialJobId"]]
    assert [(m["type"], json.loads(json.loads(m["data"]))) for m in stopped] == [("PERIODICAL", 0.01)]
    assert stats(s["done.statistics"]) == [("SUCCEEDED", 3), ("USER_CANCELED", 1)]
    assert sorted(entry["parameter"]["x"] for entry in body(s["done.export"])) == [0.5, 0.7, 0.9]
    assert [job.status for job in s["api.trials"]] == ["SUCCEEDED", "SUCCEEDED", "USER_CANCELED", "SUCCEEDED"]


def test_hyperband_string_ids_budgets_and_nni_3_0s_crash(scenario: Scenario) -> None:
    s = scenario("hyperband")
    assert body(s["later.check_status"]) == {"status": "RUNNING", "errors": []}
    jobs = body(s["trial_jobs"])
    assert len(jobs) == 1 and jobs[0]["status"] == "SUCCEEDED"
    first = packed(jobs)[0]
    assert first["parameter_id"] == "0-1_0_0" and "parameter_index" not in first
    assert first["parameters"]["TRIAL_BUDGET"] == 1
    assert {m["parameterId"] for m in body(s["metrics"])} == {"0-1_0_0"}
    log = s["dispatcher_log"]
    assert "TypeError: '<=' not supported between instances of 'str' and 'int'" in log
    assert log[-1] == "INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher terminiated"


def test_custom_tuners_from_a_code_directory(scenario: Scenario) -> None:
    s = scenario("custom_tuner")
    assert s["exhausted"].statuses == ["RUNNING", "TUNER_NO_MORE_TRIAL"]
    assert [p["parameters"]["x"] for p in packed(body(s["exhausted.trial_jobs"]))] == [0.8, 0.45, 0.275]
    assert "INFO (nni.custom_tuners/Thread-1 (command_queue_worker)) HalvingTuner got a space of 1 parameter(s)" in (
        s["dispatcher_log"])
    # a tuner that raises on its third call: the dispatcher stops, the experiment does not
    assert body(s["raising.check_status"]) == {"status": "RUNNING", "errors": []}
    raising = body(s["raising.trial_jobs"])
    assert [job["status"] for job in raising] == ["SUCCEEDED", "SUCCEEDED"]
    assert [p["parameters"]["x"] for p in packed(raising)] == [0.1, 0.2]
    assert s["raising.dispatcher_log"][-2:] == [
        "ERROR (nni.runtime.msg_dispatcher_base/Thread-1 (command_queue_worker)) call 3 of generate_parameters fails",
        "ValueError: call 3 of generate_parameters fails"]


def test_algorithms_the_dispatcher_cannot_create(scenario: Scenario) -> None:
    s = scenario("bad_algorithms")
    causes = {"A": "RuntimeError: Builtin name is not found: tpee", "B": "ModuleNotFoundError: No module named "
              "'hyperopt'", "C": "TypeError: RandomTuner.__init__() got an unexpected keyword argument 'nonsense'",
              "D": "RuntimeError: Builtin name is not found: medianstopp"}
    for exp, cause in causes.items():
        assert s[f"{exp}.error"].statuses[-1] == "ERROR"
        assert body(s[f"{exp}.check_status"]) == {"status": "ERROR", "errors": [
            "tuner_command_channel: Tuner did not connect in 10 seconds. Please check tuner (dispatcher) log."]}
        assert s[f"{exp}.dispatcher_log"][-1] == cause
