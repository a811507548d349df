"""One simulated NNI manager process: NNI 3.0's ``NNIManager`` state machine on a virtual clock.

It follows ``nni_node/core/nnimanager.js``: the tuner connects some time after ``POST /experiment``,
then a ``manageTrials`` tick runs every 0.5 s (the local training service's poll interval) and an
``execDuration`` timer every second. Each tick cancels over-time trials, collects finished trials,
asks the tuner for as many new trials as finished (plus concurrency increases), applies the limits
(NO_MORE_TRIAL, then DONE once every submitted trial finished) and submits queued parameters up to
the concurrency. Tuner answers, trial metrics and trial ends are timed events in between.

The search is a simulated dispatcher process (:mod:`fakes.search`): the manager sends it NNI's
tuner commands (``IN``, ``GE``, ``ME``, ``SS``, ``FD``, ``AD``, ``EN``, ``TE``) with the real
contents and acts on its answers (``ID``, ``TR``, ``SP``, ``NO``, ``KI``, ``ER``) ``tuner_latency``
seconds later, as the real manager does.

Trials are scripted (:mod:`fakes.trials`: a timeline played back on the virtual clock) or, with
``FakeManager(real_trials=True)``, real processes of the local training service
(:mod:`fakes.local_trials`): then what a trial does arrives as messages stamped with real time, and
the virtual clock follows real time while trials run.

Ticks in which nothing can change are skipped (the clock jumps to the next tick that matters), which
is what makes thousands of simulated trials per second possible; ``skip_idle_ticks=False`` runs
every tick, and the tests check that both give the same experiment.
"""

from __future__ import annotations

import functools
import heapq
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from time import monotonic as _real_monotonic  # taken before any time patch (fakes.time_patch)
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from nni_exp import fast_json
from nni_exp.backend import ManagerArgs

from .clock import ScaledRealClock
from .js_numbers import DurationError, js_to_number, js_to_seconds
from .search import DispatcherLog, DispatcherProcess, SearchInfo, SearchRequest, SearchStartError
from .search import commands as cmd
from .store import ExperimentStore, hyper_parameter_entry
from .trial_files import ScriptedLog, log_stamp
from .trials import TrialContext, TrialFunction, TrialScript, run_trial_function
from .wire import UNDEFINED, js_dumps, js_dumps_strings, py_dumps

if TYPE_CHECKING:
    from .local_trials import LocalTrialService, TrialMessage
    from .manager import FakeManager

__all__ = ["SimulatedManager", "ManagerTiming", "RequestRejected", "ACTIVE_STATUSES"]

#: Statuses in which execDuration grows.
ACTIVE_STATUSES = frozenset({"RUNNING", "NO_MORE_TRIAL", "TUNER_NO_MORE_TRIAL"})
#: Statuses that end the manager's loops.
_FINAL_STATUSES = frozenset({"ERROR", "STOPPING", "STOPPED"})
#: The largest request for new trials sent to the tuner whole (see ``SimulatedManager._request_trials``).
EAGER_REQUEST_LIMIT = 1000
_TRIAL_ID_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TRIAL_ID_REST = _TRIAL_ID_FIRST + "0123456789"
_TUNER_TIMEOUT = 10.0
_TUNER_TIMEOUT_MESSAGE = (
    "tuner_command_channel: Tuner did not connect in 10 seconds. Please check tuner (dispatcher) log."
)
_TUNER_CRASH_MESSAGE = "Dispatcher stream error, tuner may have crashed."
#: Seconds the manager's channel waits for a dispatcher whose connection dropped before giving up.
_RECONNECT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ManagerTiming:
    """Virtual durations of the simulated manager (defaults close to the real one on a local machine)."""

    #: Seconds between two ``manageTrials`` ticks (the local training service's poll interval).
    tick: float = 0.5
    #: Seconds from ``POST /experiment`` until the tuner process has connected.
    tuner_startup: float = 3.0
    #: Seconds the tuner takes to answer a command.
    tuner_latency: float = 0.01

    def __post_init__(self) -> None:
        for name, minimum in (("tick", None), ("tuner_startup", 0.0), ("tuner_latency", 0.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or (value <= 0 if minimum is None else value < minimum):
                rule = "> 0" if minimum is None else ">= 0"
                raise ValueError(f"ManagerTiming.{name} must be a finite number {rule}, got {value!r}")


class RequestRejected(Exception):
    """A manager operation failed; the router turns it into an HTTP error answer."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class _Form:
    """A queued trial submission (the manager's ``waitingTrials`` entry)."""

    sequence_id: int
    value: str
    trial_job_id: Optional[str] = None


@dataclass
class _LiveTrial:
    """A trial the manager tracks (submitted and not yet seen finished)."""

    trial_job_id: str
    sequence_id: int
    form_value: str
    parameter_id: Optional[int]
    start: float
    end: float
    outcome: str
    script: TrialScript
    killed_at: Optional[float] = None
    periodical_sequence: int = 0
    log_path: str = ""
    #: A real process runs this trial (its end is known when it exits).
    real: bool = False
    parameter_sent: bool = False
    #: Why the manager stopped it (``"USER_CANCELED"`` or ``"EARLY_STOPPED"``), for a real trial.
    stop_reason: Optional[str] = None

    @functools.cached_property
    def parameter_id_text(self) -> Optional[str]:
        """``parameterId`` of its metric rows (the manager stores it as text): one string for all of them."""
        return None if self.parameter_id is None else str(self.parameter_id)


#: A timed event in the manager's heap: ``(virtual time, order of scheduling, action)``. A plain tuple
#: (compared in C); the order breaks ties, so actions are never compared.
_Event = Tuple[float, int, Callable[[], None]]


class SimulatedManager:
    """The state of one manager process. Operations are called by the router; time moves through
    :meth:`run_until`."""

    def __init__(self, world: FakeManager, args: ManagerArgs, store: ExperimentStore, pid: int,
                 trial: TrialFunction, rng: random.Random,
                 timing: ManagerTiming, skip_idle_ticks: bool = True) -> None:
        self.world = world
        self.args = args
        self.store = store
        self.pid = pid
        self.trial_function = trial
        self.rng = rng
        self.timing = timing
        self.skip_idle_ticks = skip_idle_ticks
        self.status = "INITIALIZED"
        self.errors: List[str] = []
        self.profile: Optional[Dict[str, Any]] = None
        self.readonly = False
        self.alive = True
        self.log_lines: List[str] = []
        #: The dispatcher process (None before the experiment starts, or when it failed to start).
        self.search: Optional[DispatcherProcess] = None
        #: Which implementation runs (or tried to run) the search, and what it approximates.
        self.search_info: Optional[SearchInfo] = None
        #: Its ``dispatcher.log``.
        self.dispatcher_log = DispatcherLog(self._epoch_seconds)
        #: What the files of this manager's scripted trials share (they connected to its port).
        self._scripted_log = ScriptedLog(args.port)
        self._tuner_created = False
        self._tuner_spawned_at = 0.0
        self._tuner_connected = False
        self._channel_closed = False
        #: When (virtual monotonic seconds) the dispatcher process dies, if it must (fault injection).
        self.dispatcher_dies_at: Optional[float] = None
        self._waiting: List[_Form] = []
        self._tracked: Dict[str, _LiveTrial] = {}
        self._submitted = 0
        self._concurrency_change = 0.0
        #: Trials the manager asked for beyond :data:`EAGER_REQUEST_LIMIT`, not yet sent to the tuner.
        self._owed_trials = 0.0
        #: Trials asked of the tuner whose parameters have not arrived yet.
        self._unanswered_trials = 0
        self._all_finished = 0
        self._trial_data_for_tuner = ""
        self._trial_data_for_resume = ""
        self._events: List[_Event] = []
        self._event_order = 0
        self._next_tick: Optional[float] = None
        self._loop_origin: Optional[float] = None
        self._exec_fired = 0
        self._now = world.clock.monotonic()
        #: Real trial processes (``FakeManager(real_trials=True)``), once the experiment starts.
        self.trial_service: Optional[LocalTrialService] = None
        #: (virtual, real) monotonic times that line up while real trials run on a virtual clock.
        self._real_anchor: Optional[Tuple[float, float]] = None

    # ------------------------------------------------------------------ time

    @property
    def now(self) -> float:
        return self._now

    def _ms(self, moment: Optional[float] = None) -> int:
        return self.world.epoch_ms(self._now if moment is None else moment)

    def _epoch_seconds(self) -> float:
        return self.world.epoch_ms(self._now) / 1000

    def log(self, level: str, message: str) -> None:
        """Append a line to this manager's log (what ``nnimanager.log`` would say)."""
        self.log_lines.append(f"[{self._ms()}] {level} (NNIManager) {message}")

    def run_until(self, moment: float) -> None:
        """Play every timed event and tick up to ``moment`` (virtual monotonic seconds)."""
        while self.alive:
            event_time = self._events[0][0] if self._events else math.inf
            tick_time = self._next_tick if self._next_tick is not None else math.inf
            if self.trial_service is not None and self._play_trial_message(min(event_time, tick_time, moment)):
                continue
            if min(event_time, tick_time) > moment:
                break
            if event_time <= tick_time:
                event_time, _, action = heapq.heappop(self._events)
                self._set_now(event_time)
                action()
            else:
                self._set_now(tick_time)
                self._tick()
        if self.alive:
            self._set_now(max(self._now, moment))

    def _play_trial_message(self, horizon: float) -> bool:
        """Act on the next thing a real trial did by virtual time ``horizon``, waiting for it in real
        time as long as trials run (a real trial takes as many virtual seconds as real ones);
        whether there was one."""
        service = self.trial_service
        assert service is not None
        if not service.busy:
            self._real_anchor = None
            return False
        message = service.next_message(self._real_time(horizon))
        if message is None:
            return False
        self._set_now(max(self._now, self._virtual_time(message.real_time)))
        self._on_trial_message(message)
        return True

    def _real_time(self, moment: float) -> float:
        """``time.monotonic()`` at virtual time ``moment``, while real trials run."""
        clock = self.world.clock
        if isinstance(clock, ScaledRealClock):
            return clock.real_at(moment)
        if self._real_anchor is None:
            self._real_anchor = (self._now, _real_monotonic())
        virtual, real = self._real_anchor
        return real + (moment - virtual)

    def _virtual_time(self, real_moment: float) -> float:
        clock = self.world.clock
        if isinstance(clock, ScaledRealClock):
            return clock.at_real(real_moment)
        if self._real_anchor is None:
            return self._now
        virtual, real = self._real_anchor
        return virtual + (real_moment - real)

    def _set_now(self, moment: float) -> None:
        self._now = moment
        self._advance_exec_duration()

    def _schedule(self, delay: float, action: Callable[[], None]) -> None:
        self._event_order += 1
        heapq.heappush(self._events, (self._now + delay, self._event_order, action))

    def _advance_exec_duration(self) -> None:
        """Count the 1-second execDuration timer firings up to now (it only counts in active statuses)."""
        if self._loop_origin is None or self.profile is None:
            return
        target = math.floor(self._now - self._loop_origin + 1e-9)
        if target <= self._exec_fired:
            return
        if self.status in ACTIVE_STATUSES:
            self.profile["execDuration"] += target - self._exec_fired
            stores = target // 10 - self._exec_fired // 10
            if stores:
                self.profile["revision"] += stores
                self.store.store_profile(self.profile)
        self._exec_fired = target

    def _wake(self) -> None:
        """Something changed outside a tick: make sure the next tick is not skipped."""
        if self._next_tick is None or self._loop_origin is None:
            return
        self._next_tick = min(self._next_tick, self._grid_at_or_after(self._now, strictly_after=True))

    def _grid_at_or_after(self, moment: float, strictly_after: bool = False) -> float:
        assert self._loop_origin is not None
        tick = self.timing.tick
        steps = (moment - self._loop_origin) / tick
        index = math.floor(steps + 1e-9) + 1 if strictly_after else math.ceil(steps - 1e-9)
        return self._loop_origin + max(index, 0) * tick

    # ------------------------------------------------------------------ status and profile

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.log("INFO", f"Change NNIManager status from: {self.status} to: {status}")
            self.status = status
            if self.profile is not None:
                self.world.manifest.update(self.profile["id"], "status", status)

    def _set_end_time(self) -> None:
        assert self.profile is not None
        self.profile["endTime"] = self._ms()
        self.world.manifest.update(self.profile["id"], "endTime", self.profile["endTime"])

    def _store_profile(self) -> None:
        assert self.profile is not None
        self.profile["revision"] += 1
        self.store.store_profile(self.profile)

    def _critical_error(self, message: str) -> None:
        self.log("ERROR", message)
        self.errors.append(message)
        if self.profile is not None:
            self._set_end_time()
        self._set_status("ERROR")
        self._next_tick = None

    @property
    def _params(self) -> Dict[str, Any]:
        assert self.profile is not None
        return self.profile["params"]  # type: ignore[no-any-return,unused-ignore]

    def _max_duration(self) -> float:
        return self._limit_seconds("maxExperimentDuration")

    def _max_trial_duration(self) -> float:
        return self._limit_seconds("maxTrialDuration")

    def _limit_seconds(self, key: str) -> float:
        """A duration limit as the manager reads it: no limit when unset, ``toSeconds`` otherwise
        (which throws on a JSON ``null``, as on any other value that is not a number or a string)."""
        value = self._params.get(key, UNDEFINED)
        if value is UNDEFINED:
            return math.inf
        if value is None:
            raise DurationError("Cannot read properties of null (reading 'toLowerCase')")
        return js_to_seconds(value)

    def _max_trial_number(self) -> float:
        """``maxTrialNumber`` as the manager compares it: no limit when unset, ``null`` is 0."""
        value = self._params.get("maxTrialNumber", UNDEFINED)
        if value is UNDEFINED:
            return math.inf
        return js_to_number(value, missing=0.0)

    def _concurrency(self) -> float:
        return js_to_number(self._params.get("trialConcurrency"), missing=0)

    # ------------------------------------------------------------------ operations (called by the router)

    def start_experiment(self, config: Dict[str, Any]) -> str:
        """``POST /experiment`` on a manager started with ``--action create``."""
        if self.profile is not None:  # a second POST: the real manager resets half its state
            return str(self.profile["id"])
        if "trialConcurrency" in config:
            _refuse_infinite_concurrency(config["trialConcurrency"])
        self.profile = {
            "params": config,
            "id": self.args.experiment_id,
            "execDuration": 0,
            "logDir": f"{self.args.experiments_directory.rstrip('/')}/{self.args.experiment_id}",
            "startTime": self._ms(),
            "endTime": UNDEFINED,
            "nextSequenceId": 0,
            "revision": 0,
        }
        self._store_profile()
        self._setup_tuner("start")
        self._setup_training_service()
        self._set_status("RUNNING")
        self._store_profile()
        return self.args.experiment_id

    def resume_experiment(self, readonly: bool) -> None:
        """``POST /experiment`` on a manager started with ``--action resume`` or ``view``."""
        if self.profile is not None:
            return
        if self.store.stored_profile is None:
            raise RequestRejected(f"experiment {self.args.experiment_id} has no stored profile to resume")
        self.profile = _reloaded_profile(self.store.stored_profile)
        self.readonly = readonly
        if readonly:
            self._set_status("VIEWED")
            return
        self._setup_tuner("resume")
        self._setup_training_service()
        all_trials = self.store.trials()
        self._submitted = len(all_trials)
        recovered = self._recover_trials(all_trials)
        self._submitted -= recovered
        trial_data = list(self.store.export_data())
        for batch in self.store.imported_data:
            trial_data.extend(json.loads(batch))
        self._trial_data_for_tuner = js_dumps(trial_data)
        if (self.profile["execDuration"] < self._max_duration() and self._submitted < self._max_trial_number()
                and _has_end_time(self.profile)):
            del self.profile["endTime"]
        self._set_status("RUNNING")

    def _recover_trials(self, all_trials: List[Dict[str, Any]]) -> int:
        assert self.profile is not None
        max_sequence_id = 0
        recovered = 0
        resumed: List[Dict[str, Any]] = []
        for job in all_trials:
            if job["status"] not in ("WAITING", "RUNNING") or "sequenceId" not in job or not job["hyperParameters"]:
                continue
            original = json.loads(job["hyperParameters"][0])
            packed = {  # JSON.stringify drops the keys of absent (undefined) values
                "parameter_id": original.get("parameter_id", UNDEFINED),
                "parameter_source": "resumed",
                "parameters": original.get("parameters", UNDEFINED),
                "parameter_index": original.get("parameter_index", UNDEFINED),
            }
            max_sequence_id = max(max_sequence_id, job["sequenceId"])
            self._waiting.append(_Form(job["sequenceId"], js_dumps(packed), job["trialJobId"]))
            resumed.append(packed)
            self.store.add_event("ADD_RESUMED", job["trialJobId"], self._ms(), "")
            recovered += 1
        self.profile["nextSequenceId"] = max_sequence_id + 1
        self._trial_data_for_resume = js_dumps(resumed)
        return recovered

    def _setup_tuner(self, mode: str) -> None:
        """Spawn the dispatcher process; it connects ``tuner_startup`` seconds later.

        When it cannot create its algorithms it exits before connecting, and the manager gives up
        waiting 10 seconds after the start with the real "Tuner did not connect" error.
        """
        assert self.profile is not None
        params = self._params
        deprecated = params.get("deprecated")
        log_dir = str(self.profile["logDir"])
        request = SearchRequest(
            tuner=params.get("tuner"), assessor=params.get("assessor"), mode=mode,
            include_intermediate_results=bool(isinstance(deprecated, dict)
                                              and deprecated.get("includeIntermediateResults")),
            log_level=self.args.log_level, log_directory=f"{log_dir}/log", checkpoint_directory=f"{log_dir}/checkpoint")
        self._tuner_created = True
        self._tuner_spawned_at = self._now
        try:
            self.search = self.world.open_search(self, request, self._on_dispatcher_command, self.dispatcher_log)
        except SearchStartError as error:
            self.search_info = error.info
            self.log("ERROR", f"the dispatcher exited before connecting: {error} (its log: dispatcher_log)")
            self._schedule(_TUNER_TIMEOUT, self._tuner_never_connected)
            return
        self.search_info = self.search.info
        self.search.same_trial_id = self.store.same_trial_id
        self.log("INFO", self.search.info.describe())
        self._schedule(self.timing.tuner_startup, self._on_tuner_connected)
        if self.dispatcher_dies_at is not None:
            self._schedule(max(self.dispatcher_dies_at - self._now, 0.0), self.kill_dispatcher)

    def _setup_training_service(self) -> None:
        """With real trials, the local training service that runs ``trialCommand`` per trial."""
        if not self.world.real_trials or self.trial_service is not None:
            return
        from .local_trials import LocalTrialService  # real trials only: spares the fake HTTP's imports

        assert self.profile is not None
        params = self._params
        self.trial_service = LocalTrialService(
            self.args.experiment_id, str(self.profile["logDir"]), str(params.get("trialCommand") or ""),
            str(params.get("trialCodeDirectory") or "."), channel_url=self.world.trial_channel_url(self.args.port))

    def _tuner_never_connected(self) -> None:
        if self.status not in _FINAL_STATUSES:
            self._critical_error(_TUNER_TIMEOUT_MESSAGE)

    def _on_tuner_connected(self) -> None:
        if self.status in _FINAL_STATUSES or self.search is None:
            return
        if self.search.state == "killed":  # died before connecting
            self._schedule(max(self._tuner_spawned_at + _TUNER_TIMEOUT - self._now, 0.0), self._tuner_never_connected)
            return
        self._tuner_connected = True
        self._loop_origin = self._now
        self._exec_fired = 0
        self._all_finished = self._submitted
        self._next_tick = self._now
        self._send(cmd.INITIALIZE, js_dumps(self._params.get("searchSpace")))

    # ------------------------------------------------------------------ the tuner command channel

    def _send(self, command: str, content: str = "") -> None:
        """Send a tuner command (dropped, as by the real channel, once it is closed or lost)."""
        if self.search is None or self._channel_closed:
            self.log("ERROR", f"Channel closed. Ignored command {command}")
            return
        if not self.search.deliver(command, content):
            self.log("WARNING", f"Connection lost. Enqueue command {command}")
        if command == cmd.TERMINATE:
            self._channel_closed = True

    def _on_dispatcher_command(self, command: str, content: str) -> None:
        """The dispatcher sent a command: the manager acts on it ``tuner_latency`` later."""
        self._schedule(self.timing.tuner_latency, functools.partial(self._on_tuner_command, command, content))

    def _on_tuner_command(self, command: str, content: str) -> None:
        if command == cmd.ERROR:  # the channel reports it as an error, not as a command
            self.log("ERROR", f"Dispatcher error: {content}")
            self._critical_error(_TUNER_CRASH_MESSAGE)
            return
        if self.status in _FINAL_STATUSES:
            return
        if command != cmd.NEW_TRIAL_JOB:
            self.log("INFO", f"NNIManager received command from dispatcher: {command}, {content}")
        if command == cmd.INITIALIZED:
            self._on_tuner_initialized()
        elif command == cmd.NEW_TRIAL_JOB:
            self._on_new_trial(content)
        elif command == cmd.SEND_TRIAL_JOB_PARAMETER:
            self._on_trial_parameter(content)
        elif command == cmd.NO_MORE_TRIAL_JOBS:
            self._owed_trials = 0  # the rest of a large request would get the same answer
            self._unanswered_trials = 0
            self._set_status("TUNER_NO_MORE_TRIAL")
        elif command == cmd.KILL_TRIAL_JOB:
            self._kill_for_tuner(json.loads(content))

    def _on_tuner_initialized(self) -> None:
        """INITIALIZED: send past results and resumed trials (resume), then ask for the first trials."""
        if self._trial_data_for_tuner:
            self._send(cmd.IMPORT_DATA, self._trial_data_for_tuner)
        if self._trial_data_for_resume:
            self._send(cmd.ADD_CUSTOMIZED_TRIAL_JOB, self._trial_data_for_resume)
        self._request_trials(self._concurrency())

    def _request_trials(self, count: float) -> None:
        """Ask the tuner for ``count`` new trials: ``GE count`` (nothing for fewer than one).

        A request of up to :data:`EAGER_REQUEST_LIMIT` trials goes to the tuner whole, as NNI sends
        it. NNI's dispatcher makes every parameter set of a larger request before it sends the first
        (a concurrency of 10**8 takes it hours and gigabytes, while no new trial starts); the fake
        owes such a request instead and asks, each tick, for what can be queued
        (:meth:`_ask_owed_trials`).
        """
        if count >= 1 and self._owed_trials < 1 and count <= EAGER_REQUEST_LIMIT:
            self._unanswered_trials += int(count)
            self._send(cmd.REQUEST_TRIAL_JOBS, str(int(count)))
            return
        if count >= 1:
            self._owed_trials += math.floor(count)  # infinity stays infinity
        self._ask_owed_trials()

    def _owed_trials_to_ask(self) -> float:
        """How many owed trials can be asked for now: the queue is kept under the eager limit, and
        nothing is asked beyond ``maxTrialNumber``."""
        if self._owed_trials < 1:
            return 0
        queued = len(self._waiting) + self._unanswered_trials
        room = EAGER_REQUEST_LIMIT - queued
        remaining = self._max_trial_number() - self._submitted - queued
        if math.isnan(remaining):
            remaining = math.inf  # JavaScript: a NaN limit never stops anything
        return max(min(self._owed_trials, room, remaining), 0)

    def _ask_owed_trials(self) -> None:
        count = self._owed_trials_to_ask()
        if count >= 1:
            self._owed_trials -= math.floor(count)
            self._unanswered_trials += math.floor(count)
            self._send(cmd.REQUEST_TRIAL_JOBS, str(math.floor(count)))

    def _on_new_trial(self, content: str) -> None:
        assert self.profile is not None
        self._unanswered_trials = max(self._unanswered_trials - 1, 0)
        if self.status == "TUNER_NO_MORE_TRIAL":
            self._set_status("RUNNING")
        self._waiting.append(_Form(self.profile["nextSequenceId"], content))
        self.profile["nextSequenceId"] += 1
        self._wake()

    def _on_trial_parameter(self, content: str) -> None:
        """SEND_TRIAL_JOB_PARAMETER: more parameters for a running trial (multi-phase).

        The real manager hands them to the trial and stores an ``ADD_HYPERPARAMETER`` event;
        scripted trials never ask for more parameters, so only the event is stored.
        """
        packed = json.loads(content)
        if isinstance(packed, dict) and packed.get("parameters") is not None:
            self.store.add_event("ADD_HYPERPARAMETER", str(packed.get("trial_job_id")), self._ms(), content)

    def _kill_for_tuner(self, trial_job_id: Any) -> None:
        """KILL_TRIAL_JOB (an assessor's early stop): the training service stops the trial.

        NNI 3.0's local service marks the trial early-stopped only after it has ended, so it ends
        USER_CANCELED; a trial that already ended is left as it is, and an id the service does not
        know is a JavaScript TypeError that puts the manager in ERROR.
        """
        self.log("INFO", f"cancelTrialJob: {trial_job_id}")
        trial = self._tracked.get(trial_job_id) if isinstance(trial_job_id, str) else None
        if trial is not None:
            if trial.end > self._now:
                self._end_trial_now(trial, "USER_CANCELED")
                self._wake()
            return
        if not (isinstance(trial_job_id, str) and self.store.has_trial(trial_job_id)):
            self._critical_error("Tuner command event error: Cannot set properties of undefined "
                                 "(setting 'isEarlyStopped')")

    def kill_dispatcher(self) -> None:
        """The dispatcher process dies (as by SIGKILL).

        The manager's channel notices the lost connection, queues what it sends, and gives up 30
        seconds later: ERROR with "Dispatcher stream error, tuner may have crashed.". A dispatcher
        that had not connected yet never does: the start-up timeout applies.
        """
        if self.search is None or self.search.state == "killed":
            return
        self.search.kill()
        if not self._tuner_connected:
            return
        self.log("WARNING", "Connection closed unexpectedly: Peer closed")

        def give_up() -> None:
            if self.status in _FINAL_STATUSES:
                return
            self.log("ERROR", "Dispatcher error: WsChannel terminated: have not reconnected in 30s")
            self._critical_error(_TUNER_CRASH_MESSAGE)

        self._schedule(_RECONNECT_TIMEOUT, give_up)

    # ------------------------------------------------------------------ the tick

    def _tick(self) -> None:
        assert self.profile is not None
        tick_time = self._now
        if self.status in _FINAL_STATUSES:
            self._next_tick = None
            return
        try:
            self._kill_over_time_trials()
        except ValueError as error:
            self._critical_error(f"Job management error: {error}")
            return
        finished = self._collect_finished_trials()
        self._all_finished += finished
        request = self._concurrency_change + finished
        self._concurrency_change = 0 if request >= 0 else request
        try:
            limit_reached = (self.profile["execDuration"] > self._max_duration()
                             or self._submitted >= self._max_trial_number())
        except ValueError as error:
            self._critical_error(f"Job management error: {error}")
            return
        if limit_reached:
            if self.status != "DONE":
                self._set_status("NO_MORE_TRIAL")
                if self._all_finished >= self._submitted:
                    self._set_status("DONE")
                    self._set_end_time()
                    self._store_profile()
                    self.log("INFO", "Experiment done.")
        else:
            self._request_trials(request)
            if self.status == "ERROR":
                return
            if self.status == "DONE":
                self.profile.pop("endTime", None)
                self._store_profile()
            if self.status != "TUNER_NO_MORE_TRIAL":
                self._set_status("RUNNING")
            while (len(self._tracked) < self._concurrency() and self._waiting
                   and not self._submitted >= self._max_trial_number()):  # JavaScript: NaN compares false
                form = self._waiting.pop(0)
                self._submitted += 1
                self._submit(form)
        self._next_tick = self._plan_next_tick(tick_time)

    def _plan_next_tick(self, tick_time: float) -> float:
        """The next tick that can change anything (every tick when skipping is off)."""
        following = tick_time + self.timing.tick
        if not self.skip_idle_ticks or self._tick_would_act():
            return following
        moment = self._next_moment()
        if math.isinf(moment):
            return math.inf
        return max(following, self._grid_at_or_after(moment))

    def _next_moment(self) -> float:
        """When the next thing a tick acts on happens by itself (a trial ends, a limit is reached)."""
        moments = [trial.end for trial in self._tracked.values()]
        max_trial_duration = self._max_trial_duration()
        if math.isfinite(max_trial_duration):
            moments.extend(trial.start + max_trial_duration + 1e-6 for trial in self._tracked.values())
        max_duration = self._max_duration()
        if math.isfinite(max_duration) and self.status in ACTIVE_STATUSES and self._loop_origin is not None:
            assert self.profile is not None
            missing = max(math.floor(max_duration) + 1 - self.profile["execDuration"], 0)
            moments.append(self._loop_origin + self._exec_fired + missing)
        return min(moments, default=math.inf)

    def idle_forever(self) -> bool:
        """Nothing this manager does can ever change by itself (only a client's request could)."""
        if not self.alive or self._events or (self.trial_service is not None and self.trial_service.busy):
            return False
        if self._next_tick is None or self._loop_origin is None or self.status in _FINAL_STATUSES:
            return True
        try:
            return not self._tick_would_act() and math.isinf(self._next_moment())
        except ValueError:
            return False  # a bad duration unit: the next tick fails (ERROR)

    def stall_reason(self) -> str:
        """Why :meth:`idle_forever` holds, in a sentence."""
        if self.search is not None and self.search.failure:
            return (f"its tuner (dispatcher) stopped after an exception, {self.search.failure} (see "
                    "manager_at(port).dispatcher_log); NNI 3.0 leaves the experiment RUNNING with errors [] "
                    "and starts no new trial")
        if self.search is not None and self.search.state == "killed":
            return "its tuner (dispatcher) process was killed"
        if self.status in _FINAL_STATUSES or self.status in ("VIEWED", "DONE"):
            return f"the experiment is {self.status}"
        if self.status == "TUNER_NO_MORE_TRIAL":
            return "the tuner has no more trials and none is running or queued"
        return ("no trial is running or queued, and the manager asks its tuner for trials only when trials end "
                "or the concurrency grows")

    def _tick_would_act(self) -> bool:
        """Whether the next tick changes something even if no trial ends before it."""
        assert self.profile is not None
        try:
            limit_reached = (self.profile["execDuration"] > self._max_duration()
                             or self._submitted >= self._max_trial_number())
            self._max_trial_duration()
        except ValueError:
            return True  # the tick will fail with the manager's "Bad unit" error
        if limit_reached:
            if self.status == "NO_MORE_TRIAL":
                return self._all_finished >= self._submitted
            return self.status != "DONE"
        if self._concurrency_change >= 1 or self.status in ("DONE", "NO_MORE_TRIAL"):
            return True
        if self._owed_trials_to_ask() >= 1:
            return True
        return bool(self._waiting) and len(self._tracked) < self._concurrency() \
            and not self._submitted >= self._max_trial_number()

    def _kill_over_time_trials(self) -> None:
        limit = self._max_trial_duration()
        if not math.isfinite(limit):
            return
        for trial in self._tracked.values():
            if trial.killed_at is None and self._now - trial.start > limit and trial.end > self._now:
                # Local v3 stops the process before the early-stop flag is set: USER_CANCELED.
                self._end_trial_now(trial, "USER_CANCELED")
                self.log("INFO", f"Trial job {trial.trial_job_id} has been canceled because it is over max "
                                 "trial duration.")

    def _collect_finished_trials(self) -> int:
        finished = 0
        for trial_id in [t.trial_job_id for t in self._tracked.values() if t.end <= self._now + 1e-9]:
            trial = self._tracked.pop(trial_id)
            self.store.add_event(trial.outcome, trial_id, self._ms(trial.end), log_path=trial.log_path)
            finished += 1
            self._send(cmd.TRIAL_END, js_dumps_strings({"trial_job_id": trial_id, "event": trial.outcome,
                                                        "hyper_params": trial.form_value}))
        return finished

    def _submit(self, form: _Form) -> None:
        trial_id = form.trial_job_id or self._new_trial_id()
        record = fast_json.loads(form.value)
        parameters = record.get("parameters") or {}
        parameter_id = record.get("parameter_id")
        if self.trial_service is not None:
            self._submit_real(form, trial_id, parameter_id)
            return
        # What the store keeps of the form, encoded before the trial function can change ``parameters``.
        hyper = hyper_parameter_entry(record)
        context = TrialContext(parameters, trial_id, form.sequence_id, self.args.experiment_id, parameter_id)
        script = run_trial_function(self.trial_function, context)
        trial = _LiveTrial(
            trial_job_id=trial_id, sequence_id=form.sequence_id, form_value=form.value,
            parameter_id=parameter_id, start=self._now, end=self._now + script.duration,
            outcome="FAILED" if script.failed else "SUCCEEDED", script=script,
            log_path=self._trial_directory(trial_id),
        )
        self._store_profile()
        self._tracked[trial_id] = trial
        self.store.add_event("RUNNING", trial_id, self._ms(), form.value, trial.log_path, form.sequence_id,
                             "local-env", hyper=hyper)
        # NNI's trial runtime logs a first line when the trial connects to its channel
        self.store.trial_files.add_scripted(trial_id, self._scripted_log, script.stderr)
        for offset, line in script.log_lines:
            self._schedule(offset, functools.partial(self._append_trial_log, trial, line))
        for offset, value in script.intermediate:
            self._schedule(offset, functools.partial(self._deliver_metric, trial, "PERIODICAL", value))
        if script.has_final:
            self._schedule(script.duration, functools.partial(self._deliver_metric, trial, "FINAL", script.final))

    def _submit_real(self, form: _Form, trial_id: str, parameter_id: Optional[int]) -> None:
        """Start the trial's process; what it does arrives as :class:`TrialMessage` objects."""
        from .local_trials import TrialStartError

        assert self.trial_service is not None
        if self._real_anchor is None and not isinstance(self.world.clock, ScaledRealClock):
            self._real_anchor = (self._now, _real_monotonic())
        output = self._trial_directory(trial_id)
        trial = _LiveTrial(trial_job_id=trial_id, sequence_id=form.sequence_id, form_value=form.value,
                           parameter_id=parameter_id, start=self._now, end=math.inf, outcome="RUNNING",
                           script=TrialScript(duration=0.0), log_path=output, real=True)
        self._store_profile()
        self._tracked[trial_id] = trial
        self.store.add_event("RUNNING", trial_id, self._ms(), form.value, trial.log_path, form.sequence_id,
                             "local-env")
        try:
            self.trial_service.start_trial(trial_id, form.sequence_id)
        except TrialStartError as error:
            self.log("ERROR", f"Exception when create trial {trial_id}: {error}")
            trial.end = self._now
            trial.outcome = "FAILED"
            self._write_trial_stderr(trial, f"{error}\n")
            self._wake()

    def _write_trial_stderr(self, trial: _LiveTrial, text: str) -> None:
        path = Path(trial.log_path) / "trial.stderr"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)

    def _on_trial_message(self, message: TrialMessage) -> None:
        """A real trial asked for its parameters, reported a metric, or exited."""
        assert self.trial_service is not None
        trial = self._tracked.get(message.trial_id)
        if trial is None:
            return
        if message.kind == "request_parameter":
            if not trial.parameter_sent:
                trial.parameter_sent = True
                self.trial_service.send_parameter(trial.trial_job_id, trial.form_value)
            else:  # the local service has no more parameters for it: the trial waits for ever
                self.log("ERROR", "No parameters available")
        elif message.kind == "metric":
            self._deliver_trial_metric(trial, message.payload)
        elif message.kind == "exit":
            if message.exit_code == 0:
                trial.outcome = "SUCCEEDED"
            elif message.exit_code is not None:
                trial.outcome = "FAILED"
            else:
                trial.outcome = trial.stop_reason or "USER_CANCELED"
            trial.end = self._now
            self._wake()

    def _deliver_trial_metric(self, trial: _LiveTrial, metric_json: Any) -> None:
        """A metric as a real trial sent it through its channel (``{"type", "sequence", "value", ...}``)."""
        try:
            metric = json.loads(metric_json)
            metric_type = metric["type"]
            value_json = metric["value"]
            sequence = int(metric.get("sequence") or 0)
        except (TypeError, ValueError, KeyError) as error:
            self.log("ERROR", f"Bad metric from trial {trial.trial_job_id}: {error}")
            return
        self.store.add_metric({
            "timestamp": self._ms(),
            "trialJobId": trial.trial_job_id,
            "parameterId": None if metric.get("parameter_id") is None else str(metric["parameter_id"]),
            "type": metric_type,
            "sequence": sequence,
            "data": js_dumps(value_json),
        })
        self._send(cmd.REPORT_METRIC_DATA, metric_json)

    def _stop_real_trial(self, trial: _LiveTrial, reason: str) -> None:
        assert self.trial_service is not None
        if trial.stop_reason is None:
            trial.stop_reason = reason
        self.trial_service.stop_trial(trial.trial_job_id)

    def _trial_log_line(self, offset: float, text: str) -> str:
        """A ``trial.log`` line as NNI's trial runtime writes it, ``offset`` seconds from now."""
        return f"[{log_stamp(self.world.epoch_ms(self._now + offset) // 1000)}] {text}\n"

    def _append_trial_log(self, trial: _LiveTrial, line: str) -> None:
        """What a scripted trial printed reaches its ``trial.log`` when it printed it."""
        if trial.killed_at is not None and self._now > trial.killed_at:
            return
        files = self.store.trial_files.get(trial.trial_job_id)
        if files is not None:  # a new dict: storage rewrites the files it sees changed
            self.store.trial_files[trial.trial_job_id] = {
                **files, "trial.log": files["trial.log"] + self._trial_log_line(0.0, f"PRINT {line}")}

    def _trial_directory(self, trial_id: str) -> str:
        """Where the local training service keeps a trial's files (its ``logPath``)."""
        return (f"{self.args.experiments_directory.rstrip('/')}/{self.args.experiment_id}"
                f"/environments/local-env/trials/{trial_id}")

    def _new_trial_id(self) -> str:
        while True:
            candidate = self.rng.choice(_TRIAL_ID_FIRST) + "".join(self.rng.choices(_TRIAL_ID_REST, k=4))
            if not self.store.has_trial(candidate):
                return candidate

    def _deliver_metric(self, trial: _LiveTrial, metric_type: str, value: Any) -> None:
        if trial.trial_job_id not in self._tracked or (trial.killed_at is not None and self._now > trial.killed_at):
            return
        if metric_type == "PERIODICAL":
            sequence = trial.periodical_sequence
            trial.periodical_sequence += 1
        else:
            sequence = 0
        value_text = py_dumps(value)
        self.store.add_metric({
            "timestamp": self._ms(),
            "trialJobId": trial.trial_job_id,
            "parameterId": trial.parameter_id_text,
            "type": metric_type,
            "sequence": sequence,
            "data": js_dumps(value_text),
        })
        # the metric as the trial sent it (nni.report_*_result) is what the dispatcher receives
        self._send(cmd.REPORT_METRIC_DATA, py_dumps({
            "parameter_id": trial.parameter_id, "trial_job_id": trial.trial_job_id, "type": metric_type,
            "sequence": sequence, "value": value_text}))

    def _end_trial_now(self, trial: _LiveTrial, outcome: str) -> None:
        """Stop a trial: a scripted one ends now; a real one is signalled and ends when it exits."""
        trial.killed_at = self._now
        if trial.real:
            self._stop_real_trial(trial, outcome)
            return
        trial.end = self._now
        trial.outcome = outcome

    # ------------------------------------------------------------------ user operations

    def _reject_if_readonly(self, what: str) -> None:
        if self.readonly:
            raise RequestRejected(f"Error: can not {what} in readonly mode!")

    def update_profile(self, body: Any, update_type: Optional[str]) -> None:
        """``PUT /experiment?update_type=...`` with the whole profile as body."""
        self._reject_if_readonly("update experiment profile")
        known = ("TRIAL_CONCURRENCY", "MAX_EXEC_DURATION", "SEARCH_SPACE", "MAX_TRIAL_NUM")
        if update_type not in known:
            raise RequestRejected(
                f"unknown update_type {update_type!r}: expected one of {', '.join(known)} "
                "(the real manager never answers this request)", 400)
        if self.profile is None:
            raise RequestRejected("the experiment has not been started (POST /experiment first)", 400)
        new_params = body.get("params") if isinstance(body, dict) else None
        if not isinstance(new_params, dict):
            raise RequestRejected("the body must be the experiment profile, with a 'params' object "
                                  "(the real manager never answers this request)", 400)
        if update_type == "TRIAL_CONCURRENCY":
            value = new_params.get("trialConcurrency")
            number = js_to_number(value, missing=math.nan)
            if math.isnan(number):
                raise RequestRejected(f"trialConcurrency must be a number, got {value!r}", 400)
            _refuse_infinite_concurrency(value)
            self._concurrency_change += number - self._concurrency()
            self._set_param("trialConcurrency", value)
        elif update_type == "MAX_EXEC_DURATION":
            self._set_param("maxExperimentDuration", new_params.get("maxExperimentDuration", UNDEFINED))
        elif update_type == "SEARCH_SPACE":
            if not self._tuner_connected:
                raise RequestRejected("Error: tuner has not been setup (the real manager never answers this "
                                      "request)", 409)
            space = new_params.get("searchSpace")
            self.log("INFO", "Updated search space [object Object]")  # the real manager logs the object so
            self._send(cmd.UPDATE_SEARCH_SPACE, js_dumps(space))
            self._set_param("searchSpace", new_params.get("searchSpace", UNDEFINED))
        else:
            self._set_param("maxTrialNumber", new_params.get("maxTrialNumber", UNDEFINED))
        self._store_profile()
        self._wake()

    def _set_param(self, key: str, value: Any) -> None:
        """Change one config value; params are replaced, never changed in place (stored revisions share them)."""
        assert self.profile is not None
        params = dict(self._params)
        if value is UNDEFINED:
            params.pop(key, None)  # JSON.stringify drops undefined keys (a JSON null stays)
        else:
            params[key] = value
        self.profile["params"] = params

    def cancel_trial(self, trial_job_id: str) -> None:
        """``DELETE /trial-jobs/:id``."""
        self._reject_if_readonly("cancel trial job")
        if not self.store.has_trial(trial_job_id):
            raise RequestRejected(f"trial job {trial_job_id!r} not found (the real manager answers with a "
                                  "JavaScript TypeError)", 404)
        self.log("INFO", f"User cancelTrialJob: {trial_job_id}")
        if self.store.trial_status(trial_job_id) == "ADD_RESUMED":
            # The real manager asks its training service, which does not know the trial (queued to
            # run again, or left over from an earlier resume), and answers with a JavaScript
            # TypeError; nothing changes.
            raise RequestRejected(f"trial job {trial_job_id!r} is waiting to be resumed (ADD_RESUMED) and cannot "
                                  "be canceled before it runs again (the real manager answers with a JavaScript "
                                  "TypeError)", 409)
        trial = self._tracked.get(trial_job_id)
        if trial is not None and trial.end > self._now:
            self._end_trial_now(trial, "USER_CANCELED")
        self.store.add_event("USER_TO_CANCEL", trial_job_id, self._ms(), "")
        self._wake()

    def add_customized_trial(self, parameters: Any) -> int:
        """``POST /trial-jobs`` with a parameter dict: queue a trial with these parameters."""
        self._reject_if_readonly("add customized trial job")
        if self.profile is None:
            raise RequestRejected("the experiment has not been started (POST /experiment first)", 400)
        if self._submitted >= self._max_trial_number():
            raise RequestRejected("reach maxTrialNum")
        packed = {"parameter_id": None, "parameter_source": "customized", "parameters": parameters}
        sequence_id = self.profile["nextSequenceId"]
        self.profile["nextSequenceId"] += 1
        self._waiting.append(_Form(sequence_id, js_dumps(packed)))
        self.store.add_event("ADD_CUSTOMIZED", "", self._ms(), js_dumps(parameters))
        self._wake()
        return int(sequence_id)

    def import_data(self, data: Any) -> None:
        """``POST /experiment/import-data`` with ``[{"parameter": {...}, "value": ...}, ...]``."""
        self._reject_if_readonly("import data")
        if not self._tuner_created:
            raise RequestRejected("tuner has not been setup")
        if not isinstance(data, list) or not all(isinstance(e, dict) and "parameter" in e and "value" in e
                                                 for e in data):
            raise RequestRejected("import data must be a list of {\"parameter\": {...}, \"value\": ...} objects "
                                  "(the real tuner crashes on anything else)", 400)
        if not self._tuner_connected:
            raise RequestRejected("Error: tuner has not been setup (the real manager never answers this request)",
                                  409)
        self._send(cmd.IMPORT_DATA, js_dumps(data))
        self.store.add_event("IMPORT_DATA", "", self._ms(), js_dumps(data))

    def shutdown(self) -> None:
        """``DELETE /experiment``, SIGTERM or SIGINT: stop, as the real manager does, then exit."""
        if not self.alive:
            return
        self._set_status("STOPPING")
        self.log("INFO", "Stopping experiment, cleaning up ...")
        if not self.readonly and self._tuner_created and not self._tuner_connected:
            # The real manager fails to send TERMINATE to a tuner that has not connected yet and
            # never runs the rest of its shutdown: the manifest keeps STOPPING.
            self.log("ERROR", "Error during shutting down NniManager: tuner not connected")
            self.exit()
            return
        if self._tuner_connected:
            self._send(cmd.TERMINATE)
        if self.profile is not None:
            if not _has_end_time(self.profile):
                self._set_end_time()
            self._store_profile()
        self._set_status("STOPPED")
        self.log("INFO", "Experiment stopped.")
        self.exit()

    def exit(self) -> None:
        """The process is gone: no more events, port closed, its trial processes stopped."""
        self.alive = False
        if self.trial_service is not None:
            self.trial_service.close()
        self._events.clear()
        self._next_tick = None
        self.world.forget_process(self)

    # ------------------------------------------------------------------ queries

    def check_status(self) -> Dict[str, Any]:
        return {"status": self.status, "errors": list(self.errors)}

    def trial_file(self, trial_job_id: str, filename: str) -> Tuple[str, bool]:
        """``GET /trial-file/:id/:filename``: (content, whether it is read as text).

        As the local training service: ``trial.log``, ``stdout`` and ``stderr`` (the files
        ``trial.log``, ``trial.stdout``, ``trial.stderr``) are read as text, an empty one reading
        ``<filename> is empty.``; any other name is a file of the trial directory read as bytes
        (served as ``application/octet-stream``, empty when empty).
        """
        text_names = {"trial.log": "trial.log", "stdout": "trial.stdout", "stderr": "trial.stderr"}
        name = text_names.get(filename, filename)
        files = self.store.trial_files.get(trial_job_id)
        path = f"{self._trial_directory(trial_job_id)}/{name}"
        if files is None and self.trial_service is not None:
            return _read_trial_file(path, filename, text=filename in text_names)
        if files is None or name not in files:
            raise RequestRejected(f"ENOENT: no such file or directory, open '{path}'")
        if filename not in text_names:
            return files[name], False
        return files[name] or f"{filename} is empty.", True

    def latest_metrics(self) -> List[Dict[str, Any]]:
        finals: List[Dict[str, Any]] = []
        latest: Dict[str, Dict[str, Any]] = {}
        for metric in self.store.metric_rows():
            if metric["type"] != "PERIODICAL":
                finals.append(metric)
            else:
                old = latest.get(metric["trialJobId"])
                if old is None or old["sequence"] <= metric["sequence"]:
                    latest[metric["trialJobId"]] = metric
        return finals + list(latest.values())

    def metrics_in_sequence_range(self, low: float, high: float) -> List[Dict[str, Any]]:
        wanted = {job["trialJobId"] for job in self.store.trials()
                  if "sequenceId" in job and low <= job["sequenceId"] <= high}
        return [metric for metric in self.store.metric_rows() if metric["trialJobId"] in wanted]


def _read_trial_file(path: str, filename: str, text: bool) -> Tuple[str, bool]:
    """A real trial's file, as the local service reads it (``ENOENT`` as the manager's error)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise RequestRejected(f"ENOENT: no such file or directory, open '{path}'") from None
    if not text:
        return data.decode("latin-1"), False
    content = data.decode("utf-8", "replace")
    return content or f"{filename} is empty.", True


def _has_end_time(profile: Dict[str, Any]) -> bool:
    return profile.get("endTime", UNDEFINED) is not UNDEFINED


def _reloaded_profile(stored: Dict[str, Any]) -> Dict[str, Any]:
    """A profile as the manager reads it back from its database (its column order)."""
    copy = json.loads(json.dumps({k: v for k, v in stored.items() if v is not UNDEFINED}))
    keys = ("params", "id", "execDuration", "startTime", "endTime", "logDir", "nextSequenceId", "revision")
    return {key: copy.get(key, UNDEFINED) for key in keys}


def _refuse_infinite_concurrency(value: Any) -> None:
    """Refuse (400) a ``trialConcurrency`` that JavaScript reads as an infinity (``1e400``, ``"1e400"``,
    ``"-Infinity"``): the real manager asks its tuner for ``Infinity`` (later ``NaN``) trials, the
    tuner's dispatcher dies on that request, and the experiment stays RUNNING with no trial for ever."""
    if math.isinf(js_to_number(value, missing=math.nan)):
        raise RequestRejected(f"trialConcurrency must be a finite number, got {value!r} (the real manager asks "
                              "its tuner for Infinity trials and the tuner dies)", 400)

