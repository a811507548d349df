"""A seed → a differential scenario, as plain data (:func:`scenario_from_seed`).

A scenario is an experiment config (tuner and its seed, a search space over NNI's ``_type`` s,
concurrency, limits), a plan per trial (by sequence id: duration, intermediate reports, number or dict
metric, failure) and a list of mid-run actions, each triggered by an observable condition on one
trial ("trial k reported its first intermediate result", "trial k finished"), never at a clock time.

Timing rules, so that the outcome does not depend on the machine's speed:

* a trigger trial's first report comes at 3.5 s (a real trial spends 2-3 s importing ``nni``; a trial
  that could not keep its plan's times says so, see :mod:`.behaviour`) and the trial ends >= 1.3 s
  later: the action lands well inside the trial, more than a manager tick away from its end;
* no other trial starts or ends within :data:`MARGIN` s of an action in the expected schedule
  (:class:`Schedule`);
* triggers name strictly increasing trial indices and every trigger trial is guaranteed to exist and
  reach the trigger (limits only grow before the last action; a killed trial is never a later trigger);
* an action that changes what is submitted next (search space, limits down) is only generated where
  at most one trial runs, or as the last action.

Budget (2 CPUs): at most 6 tuner trials, concurrency <= 3, trials of 3.75-6.25 s.
"""

from __future__ import annotations

import copy
import json
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from tests.scenarios import conditions as c
from tests.scenarios.conditions import Condition

__all__ = ["TrialPlan", "Action", "GeneratedScenario", "Schedule", "scenario_from_seed", "grid_size", "ACTION_KINDS",
           "SPACE_TYPES", "FIRST_REPORT", "DEFAULT_PLAN"]

#: Seconds after its start when a trial reports its first intermediate result (the real trial spends
#: its first 2-3 s importing ``nni``); later reports come :data:`REPORT_GAP` apart.
FIRST_REPORT = 3.5
REPORT_GAP = 0.4
#: Every action kind the generator can emit.
ACTION_KINDS = ("kill-running", "kill-finished", "concurrency-up", "concurrency-down", "max-trials-up",
                "max-trials-down", "duration-up", "duration-down", "search-space", "custom-trial",
                "import-data", "stop-resume")
#: Every ``_type`` of NNI 3.0's search spaces, plus nested ``choice``.
SPACE_TYPES = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
               "lognormal", "qlognormal", "nested")
_GRID_TYPES = ("choice", "randint", "quniform")
#: Trial durations: a quarter tick off the manager's 0.5 s ticks, so a trial's end never falls on the
#: tick that sees it (trials start on a tick): which tick sees which end does not depend on jitter.
_DURATIONS = (3.75, 5.25, 5.75, 6.25)


@dataclass(frozen=True)
class TrialPlan:
    """What the trial with one sequence id does: runs ``duration`` s, reports ``reports``
    intermediate results (at :data:`FIRST_REPORT`, then :data:`REPORT_GAP` apart), then a final
    ``metric`` (``"number"`` or ``"dict"``), or fails (exit code 1) when ``fail``."""

    duration: float = 3.75
    reports: int = 0
    metric: str = "number"
    fail: bool = False

    @property
    def report_times(self) -> Tuple[float, ...]:
        """When the intermediate results come (seconds after the trial's start)."""
        return tuple(round(FIRST_REPORT + REPORT_GAP * i, 3) for i in range(self.reports))


#: The plan of a trial the scenario did not plan (a sequence id beyond the table).
DEFAULT_PLAN = TrialPlan()


@dataclass(frozen=True)
class Action:
    """One mid-run action: ``kind`` (one of :data:`ACTION_KINDS`), done when trial ``trial``
    (submission order) reached ``when`` (``"reported"``: RUNNING with a metric; ``"finished"``:
    SUCCEEDED or FAILED); ``value``: the new limit, search space, parameters, imported data."""

    kind: str
    trial: int
    when: str
    value: Any = None

    def trigger(self) -> Condition:
        """The condition the driver waits for before acting."""
        if self.when == "reported":
            return c.all_of(c.trial(self.trial, "RUNNING"), c.metrics(self.trial, 1))
        return c.any_of(c.trial(self.trial, "SUCCEEDED"), c.trial(self.trial, "FAILED"))

    def __str__(self) -> str:
        value = "" if self.value is None else " " + json.dumps(self.value, sort_keys=True)
        return f"when trial {self.trial} {self.when}: {self.kind}{value}"


@dataclass(frozen=True)
class GeneratedScenario:
    """A whole differential scenario (see the module docstring); JSON-able with :meth:`to_json`."""

    seed: int
    tuner: Dict[str, Any]
    search_space: Dict[str, Any]
    concurrency: int
    max_trials: int
    max_duration: Optional[str]
    trials: Tuple[TrialPlan, ...]
    actions: Tuple[Action, ...] = field(default=())

    def plan(self, sequence_id: int) -> TrialPlan:
        """The plan of the trial with ``sequence_id``."""
        return self.trials[sequence_id] if 0 <= sequence_id < len(self.trials) else DEFAULT_PLAN

    def config(self) -> Dict[str, Any]:
        """``ExperimentConfig`` fields of the experiment (a target adds the command and directories)."""
        return {"search_space": self.search_space, "tuner": self.tuner, "trial_concurrency": self.concurrency,
                "max_trial_number": self.max_trials, "max_experiment_duration": self.max_duration}

    def to_json(self) -> Dict[str, Any]:
        """The scenario as JSON-able data."""
        return asdict(self)

    def describe(self) -> str:
        """A few lines for a human: config, trial plans, actions."""
        lines = [f"seed {self.seed}: tuner {json.dumps(self.tuner, sort_keys=True)}, concurrency "
                 f"{self.concurrency}, maxTrialNumber {self.max_trials}, maxExperimentDuration {self.max_duration}",
                 f"  search space {json.dumps(self.search_space, sort_keys=True)}"]
        for index, plan in enumerate(self.trials):
            ending = "fails" if plan.fail else f"{plan.metric} metric"
            lines.append(f"  trial #{index}: {plan.duration:g} s, {plan.reports} report(s), {ending}")
        lines += [f"  action {index}: {action}" for index, action in enumerate(self.actions)]
        return "\n".join(lines)


# ---------------------------------------------------------------------- search spaces


def _spec(rng: random.Random, type_: str, depth: int = 0) -> Dict[str, Any]:
    if type_ == "choice":
        options: List[Any] = rng.choice([[1, 2, 3], ["a", "b"], [0.5, "x", 7], [True, False]])
        return {"_type": "choice", "_value": options}
    if type_ == "nested":
        if depth:
            return _spec(rng, "choice")
        return {"_type": "choice", "_value": [
            {"_name": "small", "n": _spec(rng, "randint", depth + 1)},
            {"_name": "big", "lr": _spec(rng, "loguniform", depth + 1)},
        ]}
    if type_ == "randint":
        low = rng.randint(-3, 3)
        return {"_type": "randint", "_value": [low, low + rng.randint(2, 6)]}
    if type_ == "uniform":
        start: float = rng.choice([-1, 0, 0.5])
        return {"_type": "uniform", "_value": [start, start + rng.choice([1, 2.5])]}
    if type_ == "quniform":
        return {"_type": "quniform", "_value": [0, rng.choice([1, 2]), rng.choice([0.25, 0.5])]}
    if type_ == "loguniform":
        return {"_type": "loguniform", "_value": [0.001, rng.choice([0.1, 1])]}
    if type_ == "qloguniform":
        return {"_type": "qloguniform", "_value": [1, rng.choice([10, 100]), 1]}
    if type_ == "normal":
        return {"_type": "normal", "_value": [0, rng.choice([1, 0.5])]}
    if type_ == "qnormal":
        return {"_type": "qnormal", "_value": [1, 2, rng.choice([1, 0.5])]}
    if type_ == "lognormal":
        return {"_type": "lognormal", "_value": [0, 1]}
    if type_ == "qlognormal":
        return {"_type": "qlognormal", "_value": [1, 0.5, 1]}
    raise ValueError(f"unknown search space type {type_!r}")


def _low(spec: Dict[str, Any]) -> Any:
    """A valid value of the parameter ``spec``: its first choice, its lower end, or for the log-normal
    types ``exp(mu)`` (on ``q``'s grid)."""
    first = spec["_value"][0]
    if spec["_type"] == "choice":
        if isinstance(first, dict):
            return {key: _low(item) if isinstance(item, dict) else item for key, item in first.items()}
        return first
    if spec["_type"] == "lognormal":
        return round(math.exp(first), 6)
    if spec["_type"] == "qlognormal":
        q = spec["_value"][2]
        return max(q, round(math.exp(first) / q) * q)
    return first


def grid_size(space: Dict[str, Any]) -> int:
    """How many points GridSearch finds in ``space`` at least (choice, randint and quniform only)."""
    size = 1
    for spec in space.values():
        low, high = spec["_value"][0], spec["_value"][1]
        if spec["_type"] == "choice":
            size *= len(spec["_value"])
        elif spec["_type"] == "randint":
            size *= high - low
        else:
            size *= int(round((high - low) / spec["_value"][2])) + 1
    return size


def _search_space(rng: random.Random, types: Tuple[str, ...], size: int) -> Dict[str, Any]:
    chosen = rng.sample(types, min(size, len(types)))
    return {f"p{index}_{type_}": _spec(rng, type_) for index, type_ in enumerate(chosen)}


# ---------------------------------------------------------------------- the scenario


def _plans(rng: random.Random, count: int) -> Tuple[TrialPlan, ...]:
    plans = []
    for _ in range(count):
        duration = rng.choice(_DURATIONS)
        reports = rng.choice([0, 1, 1, 2]) if duration >= FIRST_REPORT + 1.3 else 0
        plans.append(TrialPlan(duration, reports, rng.choice(["number", "dict"]), rng.random() < 0.15))
    return tuple(plans)


def scenario_from_seed(seed: int) -> GeneratedScenario:
    """The scenario of ``seed`` (the same seed always gives the same scenario)."""
    rng = random.Random(seed)
    tuner_name = rng.choice(["Random", "Random", "TPE", "GridSearch"])
    if tuner_name == "GridSearch":
        space = _search_space(rng, _GRID_TYPES, rng.randint(1, 2))
        tuner: Dict[str, Any] = {"name": "GridSearch"}
    else:
        space = _search_space(rng, SPACE_TYPES, rng.randint(1, 4))
        tuner = {"name": tuner_name, "class_args": {"seed": rng.randint(0, 10_000)}}
    concurrency = rng.randint(1, 3)
    max_trials = rng.randint(2, 5)
    max_duration = rng.choice([None, None, "10m"])
    plans = list(_plans(rng, 10))
    actions: List[Action] = []
    state = {"concurrency": concurrency, "max_trials": max_trials, "stopped": False, "killed": set(),
             "grid": grid_size(space) if tuner_name == "GridSearch" else max_trials + 10}
    schedule = Schedule(plans, concurrency, max_trials)
    last_trigger = -1
    for _ in range(rng.choice([1, 2, 2, 3, 3])):
        action = None
        for _attempt in range(12):
            trial_state = copy.deepcopy(state)
            candidate = _action(rng, plans, trial_state, last_trigger, space, tuner_name)
            if candidate is not None and schedule.quiet(candidate):
                action, state = candidate, trial_state
                break
        if action is None:
            break
        actions.append(action)
        schedule.apply(action)
        last_trigger = action.trial
        if action.kind in ("max-trials-down", "duration-down", "stop-resume", "custom-trial"):
            break
    return GeneratedScenario(seed, tuner, space, concurrency, max_trials, max_duration, tuple(plans), tuple(actions))


#: Seconds of the expected schedule that must separate an action from any other trial's start or end
#: (three manager ticks); a stop must be :data:`STOP_MARGIN` away from the next one (stopping takes time).
MARGIN = 1.5
STOP_MARGIN = 3.0
#: Seconds from a trial's end until the manager has started the next one (the next tick: a quarter tick later).
LAG = 0.25
#: Actions that change nothing about what the manager submits next: the trial a trigger trial's end
#: makes room for may start before or after them.
_NEUTRAL = frozenset({"kill-finished", "import-data"})


class Schedule:
    """The expected schedule of a scenario's trials (durations from their plans, a :data:`LAG` per
    start, concurrency and limit as the actions set them), to keep every action more than
    :data:`MARGIN` seconds away from any other trial's start or end: what the manager does around an
    action then does not depend on the machine's speed."""

    def __init__(self, plans: List[TrialPlan], concurrency: int, max_trials: int) -> None:
        self.plans = plans
        self.slots = concurrency
        self.limit = max_trials
        self.starts: Dict[int, float] = {}
        self.ends: Dict[int, float] = {}
        self.done: set = set()
        self.now = 0.0
        self._fill(0.0)

    def _fill(self, now: float) -> None:
        running = [i for i in self.starts if i not in self.done]
        while len(running) < self.slots and len(self.starts) < self.limit:
            index = len(self.starts)
            self.starts[index] = now + (LAG if now > 0 else 0.0)
            self.ends[index] = self.starts[index] + self.plans[index % len(self.plans)].duration
            running.append(index)

    def _advance(self, until: float) -> None:
        while True:
            pending = sorted(end for i, end in self.ends.items() if end <= until and i not in self.done)
            if not pending:
                break
            moment = pending[0]
            self.done.update(i for i, end in self.ends.items() if end == moment)
            self._fill(moment)
        self.now = max(self.now, until)

    def moment(self, action: Action) -> Optional[float]:
        """When ``action``'s trigger comes (None: its trial never starts in this schedule)."""
        if action.trial not in self.starts:
            return None
        offset = FIRST_REPORT if action.when == "reported" else self.plans[action.trial].duration
        return self.starts[action.trial] + offset

    def quiet(self, action: Action) -> bool:
        """Whether no other trial starts or ends near ``action`` (see the class docstring)."""
        at = self.moment(action)
        if at is None or at < self.now:
            return False
        probe = copy.deepcopy(self)
        probe._advance(at)
        after = STOP_MARGIN if action.kind == "stop-resume" else MARGIN
        for index in probe.starts:
            if index == action.trial:
                continue
            for moment in (probe.starts[index], probe.ends[index]):
                caused = action.when == "finished" and action.kind in _NEUTRAL and abs(moment - (at + LAG)) < 1e-9
                if at - MARGIN < moment < at + after and not caused:
                    return False
        return True

    def apply(self, action: Action) -> None:
        """Go on to ``action``'s moment and let it change the schedule."""
        at = self.moment(action)
        assert at is not None
        self._advance(at)
        if action.kind == "kill-running":
            self.ends[action.trial] = at
            self.done.add(action.trial)
        elif action.kind.startswith("concurrency"):
            self.slots = action.value
        elif action.kind.startswith("max-trials"):
            self.limit = action.value
        self._fill(at)


def _action(rng: random.Random, plans: List[TrialPlan], state: Dict[str, Any], last: int,
            space: Dict[str, Any], tuner_name: str) -> Optional[Action]:
    """One more action after trigger trial ``last`` (None when no trial is left to trigger on)."""
    # trials 0 .. max_trials-2 are submitted for sure (GridSearch: if its grid has that many points)
    # and are never the last one (the experiment still runs when they trigger); the plan table covers
    # them.
    submitted_for_sure = min(state["max_trials"], state["grid"])
    candidates = [k for k in range(last + 1, submitted_for_sure - 1) if k not in state["killed"]]
    if not candidates:
        return None
    k = rng.choice(candidates[:3])
    running = state["concurrency"]
    kinds = ["kill-finished", "custom-trial", "import-data", "max-trials-up", "concurrency-up",
             "concurrency-down", "duration-up", "stop-resume", "stop-resume"]
    if plans[k].reports:
        kinds += ["kill-running", "max-trials-down"]
        if running == 1:
            kinds += ["search-space", "duration-down"]
    kind = rng.choice(kinds)
    if kind in ("kill-running", "max-trials-down", "search-space", "duration-down") and not plans[k].reports:
        kind = "kill-finished"
    when = "reported" if plans[k].reports else "finished"
    value: Any = None
    if kind == "kill-running":
        when = "reported"
        state["killed"].add(k)
    elif kind == "kill-finished":
        when = "finished"
    elif kind == "concurrency-up":
        value = min(3, running + 1)
        state["concurrency"] = value
    elif kind == "concurrency-down":
        value = max(1, running - 1)
        state["concurrency"] = value
    elif kind == "max-trials-up":
        value = min(6, state["max_trials"] + rng.randint(1, 2))
        state["max_trials"] = value
    elif kind == "max-trials-down":
        # trials 0..k started and at most `running` run: at most k + running were submitted
        value = k + running
        when = "reported"
        if value >= state["max_trials"]:
            kind, value = "max-trials-up", min(6, state["max_trials"] + 1)
            state["max_trials"] = value
    elif kind == "duration-up":
        value = "1h"
    elif kind == "duration-down":
        value = "1s"
        when = "reported"
    elif kind == "search-space":
        types = _GRID_TYPES if tuner_name == "GridSearch" else SPACE_TYPES
        value = _search_space(rng, types, rng.randint(1, 2))
        if tuner_name == "GridSearch":
            state["grid"] = 0  # what a new grid submits is the subject, not a trigger
        when = "reported"
    elif kind == "custom-trial":
        value = {"custom": rng.randint(0, 9)}
    elif kind == "import-data":
        value = [{"parameter": {name: _low(spec) for name, spec in space.items()}, "value": round(rng.random(), 3)}]
    elif kind == "stop-resume":
        if state["stopped"]:
            return Action("kill-finished", k, "finished")
        state["stopped"] = True
    return Action(kind, k, when, value)
