"""A hypothesis ``RuleBasedStateMachine`` over NNI's Experiment API, with NNI's invariants.

:class:`ExperimentStateMachine` drives one experiment on a fake manager with random sequences of
API calls — start (always first), advance virtual time, the four ``update_*`` methods, kill a trial, add a
customized trial, stop, resume, view — and after every step checks what NNI 3.0's manager
guarantees (derived from ``nnimanager.js``; see each ``check_*`` method):

* the experiment and every trial only move along NNI's status transitions;
* never more RUNNING trials than the concurrency (lowering the concurrency lets running trials
  finish, so the bound is the largest concurrency in effect since the oldest running trial
  started);
* never more submitted trials than ``maxTrialNumber`` (the largest limit in effect since the
  newest trial was submitted: limits can be raised, and customized trials obey the same limit);
* ``export_data()`` holds exactly the SUCCEEDED trials that reported a final result, with their
  parameters and that final result — which is the one the scripted trial returned;
* the metrics of a trial that ran once are the ones its script reported; the parameters of a
  trial lie in a search space that was in effect (or are the customized ones added);
* a DONE experiment has no running trial, ``execDuration`` never decreases, and nothing ends in
  ERROR (the machine never sends anything invalid).

Run it with ``TestExperiment = ExperimentStateMachine.TestCase`` in a test module, or
``hypothesis.stateful.run_state_machine_as_test(ExperimentStateMachine)``. Subclass it to change
what is drawn (:meth:`configs`, :meth:`behaviours`, :meth:`search_space_updates`), the backend
(:meth:`make_backend`: e.g. an instrumented or deliberately broken fake) or to add rules and
invariants.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fakes import FakeManager
from nni_exp.data import TrialJob
from nni_exp.errors import ManagerError, ReadonlyExperimentError, TrialLimitReachedError, TrialNotFoundError
from nni_exp.experiment import Experiment
from nni_exp.strategies import (
    TrialBehaviour,
    algorithm_configs,
    durations,
    experiment_configs,
    parameters,
    parameters_in_space,
    search_spaces,
    trial_behaviours,
)

__all__ = [
    "EXPERIMENT_STATUS_TRANSITIONS",
    "TRIAL_STATUS_TRANSITIONS",
    "observable_transitions",
    "ExperimentStateMachine",
]

#: Status changes NNI 3.0's manager makes in one step (``nnimanager.js``), per manager process.
EXPERIMENT_STATUS_TRANSITIONS: Mapping[str, FrozenSet[str]] = {
    "INITIALIZED": frozenset({"RUNNING", "VIEWED", "ERROR", "STOPPING"}),
    "RUNNING": frozenset({"NO_MORE_TRIAL", "TUNER_NO_MORE_TRIAL", "ERROR", "STOPPING"}),
    # a tuner "NO" answer may arrive after a tick reached a limit; the next tick sets NO_MORE_TRIAL again
    "TUNER_NO_MORE_TRIAL": frozenset({"RUNNING", "NO_MORE_TRIAL", "ERROR", "STOPPING"}),
    "NO_MORE_TRIAL": frozenset({"DONE", "RUNNING", "TUNER_NO_MORE_TRIAL", "ERROR", "STOPPING"}),
    # raising a limit revives DONE
    "DONE": frozenset({"RUNNING", "TUNER_NO_MORE_TRIAL", "ERROR", "STOPPING"}),
    "VIEWED": frozenset({"STOPPING"}),
    "ERROR": frozenset({"STOPPING"}),
    "STOPPING": frozenset({"STOPPED"}),
    "STOPPED": frozenset(),
}

_ENDED = ("SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED")

#: Status changes of one trial record (the data store's replay of trial events).
TRIAL_STATUS_TRANSITIONS: Mapping[str, FrozenSet[str]] = {
    "UNKNOWN": frozenset({"WAITING", "RUNNING", *_ENDED}),
    "WAITING": frozenset({"RUNNING", "ADD_RESUMED", *_ENDED}),
    "RUNNING": frozenset({"ADD_RESUMED", *_ENDED}),
    "ADD_RESUMED": frozenset({"RUNNING", "USER_CANCELED"}),
    # a kill marks any trial USER_CANCELED ...
    "SUCCEEDED": frozenset({"USER_CANCELED"}),
    "FAILED": frozenset({"USER_CANCELED"}),
    "EARLY_STOPPED": frozenset({"USER_CANCELED"}),
    "SYS_CANCELED": frozenset({"USER_CANCELED"}),
    # ... and a trial that had ended before the kill was seen still gets its real end recorded
    "USER_CANCELED": frozenset({"SUCCEEDED", "FAILED", "EARLY_STOPPED", "SYS_CANCELED"}),
}


def observable_transitions(graph: Mapping[str, FrozenSet[str]]) -> Dict[str, FrozenSet[str]]:
    """The transitive closure of ``graph``, plus staying put: what two successive polls can show."""
    closure: Dict[str, Set[str]] = {state: {state, *targets} for state, targets in graph.items()}
    changed = True
    while changed:
        changed = False
        for reachable in closure.values():
            extra = set().union(*(closure.get(r, {r}) for r in reachable)) - reachable
            if extra:
                reachable |= extra
                changed = True
    return {state: frozenset(reachable) for state, reachable in closure.items()}


#: A trial id no trial has (trial ids are 5 characters).
_UNKNOWN_TRIAL = "nOtRl"
_EXPERIMENT_OBSERVABLE = observable_transitions(EXPERIMENT_STATUS_TRANSITIONS)
_TRIAL_OBSERVABLE = observable_transitions(TRIAL_STATUS_TRANSITIONS)


def _js_value(value: Any) -> Any:
    """``value`` as it reads back after a JavaScript ``JSON.stringify`` (``1.0`` -> ``1``)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _js_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_js_value(item) for item in value]
    return value


def _canonical(value: Any) -> str:
    """A comparison key of a JSON value that ignores key order and int/float spelling."""
    return json.dumps(_js_value(value), sort_keys=True)


def _in_effect_since(history: List[Tuple[int, float]], since_ms: int) -> float:
    """The largest value of ``history`` ((time ms, value), in time order) in effect at or after ``since_ms``."""
    values = [value for moment, value in history if moment >= since_ms]
    before = [value for moment, value in history if moment < since_ms]
    if before:
        values.append(before[-1])
    return max(values) if values else math.inf


def _limit(value: Any) -> float:
    """A ``maxTrialNumber`` / ``trialConcurrency`` as the manager compares it (None: no limit)."""
    if value is None:
        return math.inf
    return float(value)


#: The strategies of ``configs()``, ``behaviours()``, ... by (state-machine class, method name).
_STRATEGIES: Dict[Tuple[type, str], st.SearchStrategy[Any]] = {}


class ExperimentStateMachine(RuleBasedStateMachine):
    """Random sequences of Experiment API calls on a fake manager, checked against NNI's invariants.

    Class attributes tune it: ``port``, ``advance_steps`` (virtual seconds an ``advance`` step may
    take) and ``allow_error`` (accept an ERROR status).
    """

    port: int = 8080
    advance_steps: Tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0)
    long_advance_steps: Tuple[float, ...] = (15.0, 30.0, 60.0, 300.0)
    allow_error: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.fake: Optional[FakeManager] = None
        self.behaviour: Optional[TrialBehaviour] = None
        self.config: Any = None
        self.exp: Optional[Experiment] = None
        self.experiment_id: Optional[str] = None
        #: "new" (not started), "running", "viewing" or "stopped".
        self.mode = "new"
        self.resumable = False
        self.resumed = False
        self.process_started_at = 0.0
        self.previous_status: Optional[str] = None
        self.trial_statuses: Dict[str, str] = {}
        #: startTime of each trial when first seen (a resumed trial gets a new one when it runs again).
        self.submitted_at: Dict[str, int] = {}
        self.concurrency_history: List[Tuple[int, float]] = []
        self.max_trial_history: List[Tuple[int, float]] = []
        self.spaces: List[Dict[str, Any]] = []
        self.current_space: Dict[str, Any] = {}
        self.customized: Set[str] = set()
        self.interrupted: Set[str] = set()
        self.exec_duration = 0

    # ------------------------------------------------------------------ what is drawn (override these)
    # Each of these is called once per state-machine class (see _strategy): building and validating
    # these composite strategies for every example cost more than running it.

    def configs(self) -> st.SearchStrategy[Any]:
        """Configs of the experiment: small spaces and limits, so that examples stay fast."""
        return experiment_configs(
            search_space=search_spaces(max_size=3, max_depth=2),
            tuner=algorithm_configs(("Random", "TPE", "GridSearch")),
            trial_concurrency=st.integers(1, 4),
            max_trial_number=st.one_of(st.none(), st.integers(1, 8)),
            max_experiment_duration=st.one_of(st.none(), durations(min_seconds=10, max_seconds=3600)),
            max_trial_duration=st.one_of(st.none(), durations(min_seconds=5, max_seconds=600)),
        )

    def behaviours(self) -> st.SearchStrategy[TrialBehaviour]:
        """The scripted trials."""
        return trial_behaviours(max_plans=4, max_steps=4, max_step_seconds=20.0, min_tail=1.0)

    def search_space_updates(self) -> st.SearchStrategy[Dict[str, Any]]:
        """Search spaces for ``update_search_space``."""
        return search_spaces(max_size=3, max_depth=2)

    def _strategy(self, name: str) -> st.SearchStrategy[Any]:
        """``getattr(self, name)()``, built once per class and reused by every example."""
        key = (type(self), name)
        strategy = _STRATEGIES.get(key)
        if strategy is None:
            strategy = _STRATEGIES[key] = getattr(self, name)()
        return strategy

    def make_backend(self, trial: TrialBehaviour, seed: int) -> FakeManager:
        """The fake machine the experiment runs on."""
        return FakeManager(trial, seed=seed)

    # ------------------------------------------------------------------ helpers

    def _now_ms(self) -> int:
        assert self.fake is not None
        return self.fake.epoch_ms(self.fake.clock.monotonic())

    def _running(self) -> bool:
        return self.mode == "running"

    def _attached(self) -> bool:
        return self.mode in ("running", "viewing")

    def _tuner_ready(self) -> bool:
        assert self.fake is not None
        return self.fake.clock.monotonic() - self.process_started_at > self.fake.timing.tuner_startup + 0.1

    def _jobs(self) -> List[TrialJob]:
        assert self.exp is not None
        return self.exp.list_trial_jobs()

    def _new_process(self) -> None:
        assert self.fake is not None
        self.process_started_at = self.fake.clock.monotonic()
        self.previous_status = None

    # ------------------------------------------------------------------ rules

    @initialize(data=st.data())
    def setup(self, data: st.DataObject) -> None:
        """Draw the config, the scripted trials and the fake's seed, and start the experiment."""
        self.config = data.draw(self._strategy("configs"), label="config")
        self.behaviour = data.draw(self._strategy("behaviours"), label="trials")
        seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
        self.fake = self.make_backend(self.behaviour, seed)
        self.exp = Experiment(self.config, backend=self.fake)
        self.experiment_id = self.exp.id
        self.current_space = self.config.search_space
        self.spaces = [self.current_space]
        self.start()

    def start(self) -> None:
        """``Experiment.start()`` (the initialize step ends with it, so that every example runs one)."""
        assert self.exp is not None and self.config is not None
        self.exp.start(self.port)
        self.mode = "running"
        self._new_process()
        now = self._now_ms()
        self.concurrency_history.append((now, _limit(self.config.trial_concurrency)))
        self.max_trial_history.append((now, _limit(self.config.max_trial_number)))

    @precondition(lambda self: self._attached())
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Let a little virtual time pass (``advance_steps``)."""
        assert self.fake is not None
        self.fake.advance(data.draw(st.sampled_from(self.advance_steps), label="seconds"))

    @precondition(lambda self: self._attached())
    @rule(data=st.data())
    def let_trials_run(self, data: st.DataObject) -> None:
        """Let much virtual time pass (``long_advance_steps``): trials end, limits are reached."""
        assert self.fake is not None
        self.fake.advance(data.draw(st.sampled_from(self.long_advance_steps), label="seconds"))

    @precondition(lambda self: self._running())
    @rule(value=st.integers(1, 5))
    def update_trial_concurrency(self, value: int) -> None:
        """``update_trial_concurrency()``."""
        assert self.exp is not None
        self.exp.update_trial_concurrency(value)
        self.concurrency_history.append((self._now_ms(), float(value)))

    @precondition(lambda self: self._running())
    @rule(value=st.integers(1, 10))
    def update_max_trial_number(self, value: int) -> None:
        """``update_max_trial_number()`` (raising it revives a DONE experiment)."""
        assert self.exp is not None
        self.exp.update_max_trial_number(value)
        self.max_trial_history.append((self._now_ms(), float(value)))

    @precondition(lambda self: self._running())
    @rule(value=durations(min_seconds=10, max_seconds=7200))
    def update_max_experiment_duration(self, value: Any) -> None:
        """``update_max_experiment_duration()``."""
        assert self.exp is not None
        self.exp.update_max_experiment_duration(value if isinstance(value, str) else f"{value}s")

    @precondition(lambda self: self._running() and self._tuner_ready())
    @rule(data=st.data())
    def update_search_space(self, data: st.DataObject) -> None:
        """``update_search_space()`` (once the tuner is connected: before that the real manager hangs)."""
        assert self.exp is not None
        space = data.draw(self._strategy("search_space_updates"), label="search space")
        self.exp.update_search_space(space)
        self.current_space = space
        self.spaces.append(space)

    @precondition(lambda self: self._running())
    @rule(data=st.data())
    def kill_trial(self, data: st.DataObject) -> None:
        """``kill_trial_job()``: a known trial shows USER_CANCELED at once; an unknown id raises
        TrialNotFoundError."""
        assert self.exp is not None
        jobs = {job.trialJobId: job.status for job in self._jobs()}
        ids = sorted(jobs)
        trial_id = data.draw(st.sampled_from([*ids, _UNKNOWN_TRIAL]), label="trial")
        if trial_id == _UNKNOWN_TRIAL:
            try:
                self.exp.kill_trial_job(trial_id)
            except TrialNotFoundError:
                return
            raise AssertionError("killing an unknown trial did not raise TrialNotFoundError")
        if jobs[trial_id] == "ADD_RESUMED":
            # Queued for resubmission: the manager cannot cancel it yet (the real one answers with a
            # JavaScript TypeError) and runs it later.
            try:
                self.exp.kill_trial_job(trial_id)
            except ManagerError as error:
                assert error.status_code == 409, error
                return
            raise AssertionError(f"killing the resumed, still queued trial {trial_id} did not fail")
        self.exp.kill_trial_job(trial_id)
        self.interrupted.add(trial_id)
        status = self.exp.get_trial_job(trial_id).status
        assert status == "USER_CANCELED", f"killed trial {trial_id} shows {status}, not USER_CANCELED"

    @precondition(lambda self: self._running())
    @rule(data=st.data())
    def add_customized_trial(self, data: st.DataObject) -> None:
        """``POST /trial-jobs``: refused with ``reach maxTrialNum`` only once the limit was reached."""
        assert self.fake is not None
        params = data.draw(parameters(self.current_space), label="customized parameters")
        records = len(self._jobs())
        try:
            self.fake.request("POST", self.port, "/trial-jobs", params)
        except TrialLimitReachedError:
            limit = _limit(self._profile_params().get("maxTrialNumber"))
            assert records >= limit, (
                f"max trial number: customized trial refused with 'reach maxTrialNum' although only {records} "
                f"trials were submitted and maxTrialNumber is {limit:g}")
            return
        self.customized.add(_canonical(params))
        if not self.resumed:  # after a resume the manager counts the trials it re-runs apart
            limit = _limit(self._profile_params().get("maxTrialNumber"))
            assert records < limit, (
                f"max trial number: customized trial accepted although {records} trials were submitted and "
                f"maxTrialNumber is {limit:g}")

    @precondition(lambda self: self._attached())
    @rule()
    def stop(self) -> None:
        """``Experiment.stop()``; the trials still running are resumed by a later ``resume()``."""
        assert self.exp is not None and self.fake is not None
        if self.mode == "running":
            self.interrupted |= {job.trialJobId for job in self._jobs() if job.status in ("RUNNING", "WAITING")}
        self.exp.stop()
        self.mode = "stopped"
        record = self.fake.manifest.records().get(str(self.experiment_id), {})
        # stopped before its tuner connected, the real manager leaves the manifest at STOPPING
        self.resumable = record.get("status") == "STOPPED"

    @precondition(lambda self: self.mode == "stopped" and self.resumable)
    @rule()
    def resume(self) -> None:
        """``Experiment(None, id=...).resume()`` of the stopped experiment."""
        self.exp = Experiment(None, id=self.experiment_id, backend=self.fake)
        self.exp.resume(self.port, wait_completion=False)
        self.mode = "running"
        self.resumed = True
        self._new_process()

    @precondition(lambda self: self.mode == "stopped" and self.resumable)
    @rule()
    def view(self) -> None:
        """``Experiment(None, id=...).view(non_blocking=True)``: read-only."""
        self.exp = Experiment(None, id=self.experiment_id, backend=self.fake)
        self.exp.view(self.port, non_blocking=True)
        self.mode = "viewing"
        self._new_process()

    @precondition(lambda self: self.mode == "viewing")
    @rule(value=st.integers(1, 5))
    def update_in_view(self, value: int) -> None:
        """Every change is refused on a viewed experiment."""
        exp = self.exp
        assert exp is not None
        for attempt in (exp.update_trial_concurrency, exp.update_max_trial_number):
            try:
                attempt(value)
            except ReadonlyExperimentError:
                continue
            raise AssertionError("an update of a viewed experiment was not refused")

    def teardown(self) -> None:
        if self.exp is not None and self._attached():
            self.exp.stop()
        if self.fake is not None:
            self.fake.close()

    # ------------------------------------------------------------------ invariants

    def _profile_params(self) -> Dict[str, Any]:
        assert self.exp is not None
        return dict(self.exp.get_experiment_profile()["params"])

    @invariant()
    def nni_invariants(self) -> None:
        """Take one snapshot of the experiment and run every ``check_*`` on it."""
        if not self._attached():
            return
        assert self.exp is not None
        status = self.exp.get_status()
        profile = self.exp.get_experiment_profile()
        jobs = self._jobs()
        exported = self.exp.export_data()
        metrics = self.exp.get_job_metrics()
        self.check_experiment_status(status)
        self.check_trial_statuses(jobs)
        self.check_concurrency(jobs)
        self.check_max_trial_number(jobs)
        self.check_export_data(jobs, exported)
        self.check_trial_metrics(jobs, metrics)
        self.check_parameters(jobs)
        self.check_profile(status, profile, jobs)

    def check_experiment_status(self, status: str) -> None:
        """The status moves along :data:`EXPERIMENT_STATUS_TRANSITIONS`; VIEWED only in view mode."""
        assert status in EXPERIMENT_STATUS_TRANSITIONS, f"unknown experiment status {status!r}"
        if self.mode == "viewing":
            assert status == "VIEWED", f"a viewed experiment shows {status}"
        else:
            assert status != "VIEWED", "a running experiment shows VIEWED"
        if self.previous_status is not None:
            allowed = _EXPERIMENT_OBSERVABLE[self.previous_status]
            assert status in allowed, f"experiment status went {self.previous_status} -> {status}"
        if not self.allow_error and status == "ERROR":
            assert self.fake is not None
            errors = self.fake.request("GET", self.port, "/check-status")["errors"]
            raise AssertionError(f"experiment in ERROR: {errors}")
        self.previous_status = status

    def check_trial_statuses(self, jobs: List[TrialJob]) -> None:
        """Trials never disappear and move along :data:`TRIAL_STATUS_TRANSITIONS`."""
        seen = {job.trialJobId: job.status for job in jobs}
        assert len(seen) == len(jobs), "a trial id is listed twice"
        for trial_id, previous in self.trial_statuses.items():
            assert trial_id in seen, f"trial {trial_id} ({previous}) disappeared"
            current = seen[trial_id]
            allowed = _TRIAL_OBSERVABLE.get(previous, frozenset({previous}))
            assert current in allowed, f"trial {trial_id} went {previous} -> {current}"
        self.trial_statuses = seen

    def check_concurrency(self, jobs: List[TrialJob]) -> None:
        """RUNNING trials <= the largest concurrency in effect since the oldest of them started.

        The manager submits only while fewer trials than the concurrency are tracked, and lowering
        the concurrency lets running trials finish; so right after the last submission the tracked
        trials fit that moment's concurrency, and their number only falls until the next one.
        """
        running = [job for job in jobs if job.status == "RUNNING"]
        if not running:
            return
        oldest = min(job.startTime for job in running)
        bound = _in_effect_since(self.concurrency_history, oldest)
        assert len(running) <= bound, (
            f"concurrency: {len(running)} trials RUNNING ({', '.join(j.trialJobId for j in running)}) but the "
            f"concurrency in effect since the oldest started was at most {bound:g}")

    def check_max_trial_number(self, jobs: List[TrialJob]) -> None:
        """Submitted trials <= the largest ``maxTrialNumber`` in effect since the newest was submitted.

        A submission (of a tuner's or a customized trial) happens only while fewer trials than the
        limit of that moment were submitted; raising the limit allows more, lowering it stops
        submissions but cancels nothing. After a resume the manager counts the trials it re-runs
        apart and re-runs them first, so a trial's first submission is what counts.
        """
        if not jobs:
            return
        for job in jobs:  # a resumed trial runs again with a new startTime, but it was submitted before
            self.submitted_at.setdefault(job.trialJobId, job.startTime)
        newest = max(self.submitted_at[job.trialJobId] for job in jobs)
        bound = _in_effect_since(self.max_trial_history, newest)
        assert len(jobs) <= bound, (
            f"max trial number: {len(jobs)} trials submitted but maxTrialNumber in effect since the newest "
            f"was submitted was at most {bound:g}")

    def check_export_data(self, jobs: List[TrialJob], exported: List[Any]) -> None:
        """Export data = the SUCCEEDED trials with a final result: their parameters and that result."""
        by_id = {job.trialJobId: job for job in jobs}
        expected = {job.trialJobId for job in jobs if job.status == "SUCCEEDED" and job.finalMetricData}
        exported_ids = [item.trialJobId for item in exported]
        assert sorted(exported_ids) == sorted(expected), (
            f"export data: trials {sorted(exported_ids)} exported, SUCCEEDED with a final result: {sorted(expected)}")
        assert self.behaviour is not None
        for item in exported:
            job = by_id[item.trialJobId]
            final = job.finalMetricData[0].data
            assert _canonical(item.value) == _canonical(final), (
                f"export data: trial {job.trialJobId} exported value {item.value!r}, its final metric is {final!r}")
            assert _canonical(item.parameter) == _canonical(job.hyperParameters[0].parameters), (
                f"export data: trial {job.trialJobId} exported parameters {item.parameter!r}, "
                f"it ran with {job.hyperParameters[0].parameters!r}")
            plan = self.behaviour.plan_for(job.sequenceId)
            assert plan.reports_final and _canonical(item.value) == _canonical(plan.final), (
                f"export data: trial {job.trialJobId} (sequence {job.sequenceId}) exported {item.value!r}, "
                f"its script returned {plan.final!r}{' and failed' if plan.fails else ''}")

    def check_trial_metrics(self, jobs: List[TrialJob], metrics: Dict[str, List[Any]]) -> None:
        """A SUCCEEDED trial that ran once reported exactly its script's intermediate results."""
        assert self.behaviour is not None
        known = {job.trialJobId for job in jobs}
        assert set(metrics) <= known, f"metrics of unknown trials {sorted(set(metrics) - known)}"
        for job in jobs:
            if job.status != "SUCCEEDED" or job.trialJobId in self.interrupted:
                continue
            plan = self.behaviour.plan_for(job.sequenceId)
            rows = metrics.get(job.trialJobId, [])
            periodical = [row.data for row in rows if row.type == "PERIODICAL"]
            assert _canonical(periodical) == _canonical(plan.intermediate), (
                f"trial {job.trialJobId} (sequence {job.sequenceId}) has intermediate results {periodical!r}, "
                f"its script reported {plan.intermediate!r}")
            assert [row.sequence for row in rows if row.type == "PERIODICAL"] == list(range(len(periodical))), (
                f"trial {job.trialJobId}: intermediate results are not numbered 0, 1, ...")

    def check_parameters(self, jobs: List[TrialJob]) -> None:
        """A tuner's trial has parameters from a search space that was set; a customized one, those added."""
        for job in jobs:
            if not job.hyperParameters:
                continue
            record = job.hyperParameters[0]
            if record.parameter_source == "customized":
                assert _canonical(record.parameters) in self.customized, (
                    f"customized trial {job.trialJobId} runs {record.parameters!r}, which was never added")
            elif record.parameter_source == "algorithm":
                assert any(parameters_in_space(record.parameters, space) for space in self.spaces), (
                    f"trial {job.trialJobId} runs {record.parameters!r}, outside every search space set")

    def check_profile(self, status: str, profile: Dict[str, Any], jobs: List[TrialJob]) -> None:
        """DONE means no trial runs; execDuration never decreases."""
        if status == "DONE":
            running = [job.trialJobId for job in jobs if job.status in ("RUNNING", "WAITING")]
            assert not running, f"experiment DONE while trials {running} still run"
        duration = int(profile["execDuration"])
        assert duration >= self.exec_duration, f"execDuration went back from {self.exec_duration} to {duration}"
        self.exec_duration = duration


ExperimentStateMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
)
