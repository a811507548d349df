"""``FakeManager``: a backend whose NNI managers are simulated in memory.

One ``FakeManager`` is a small fake machine: manager "processes" listening on fake ports, the
experiments manifest, the stored data of every experiment (for resume and view) and a virtual
clock. Nothing touches the network, the file system or real time.
"""

from __future__ import annotations

import copy
import json
import math
import random
import threading
from types import TracebackType
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol, Tuple, Type, Union
from urllib.parse import quote

from nni_exp import errors
from nni_exp.backend import ACTIONS, ManagerArgs, Manifest, RunMode
from nni_exp.errors import ExperimentStalledError, TimePatchError
from nni_exp.rest import build_url, decode_answer, strip_prefix

from . import router
from .clock import ScaledRealClock, VirtualClock
from .search import (
    SEARCH_IMPLEMENTATIONS,
    DispatcherLog,
    DispatcherProcess,
    SearchRequest,
    open_search,
    resolve_implementation,
)
from .search import commands as search_commands
from .simulator import ManagerTiming, SimulatedManager
from .store import ExperimentStore
from .time_patch import TimePatch, check_mode
from .trials import TrialFunction, default_trial

__all__ = ["FakeManager", "FakeManifest", "FakeProcess", "StoreStorage"]

#: Log levels the real manager's command line accepts.
_MANAGER_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: Fake pids start here, far above any real pid, so they never name a real process.
_FIRST_PID = 90_000_000

Clock = Union[VirtualClock, ScaledRealClock]


class StoreStorage(Protocol):
    """Where experiment stores live between manager processes (the fake HTTP server keeps them on
    disk so that a later ``--action resume`` process finds them)."""

    def load(self, experiment_id: str, experiments_directory: str) -> Optional[ExperimentStore]: ...

    def save(self, store: ExperimentStore, experiments_directory: str) -> None: ...


class _MachineLock:
    """The fake machine's re-entrant lock, which knows whether the calling thread holds it (a time
    patch must not re-enter the simulation from a trial function or a tuner, see :meth:`held`)."""

    __slots__ = ("_lock", "_owner", "_depth")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: Optional[int] = None
        self._depth = 0

    def __enter__(self) -> None:
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._depth += 1

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    def held(self) -> bool:
        """True when the calling thread holds the lock (the fake is at work in it)."""
        return self._owner == threading.get_ident()


class FakeManifest:
    """The experiments manifest of a fake machine (``~/nni-experiments/.experiment``)."""

    def __init__(self, is_alive: Callable[[int], bool]) -> None:
        self._records: Dict[str, Dict[str, Any]] = {}
        self._is_alive = is_alive

    def read(self) -> Dict[str, Dict[str, Any]]:
        """The records as stored, without crash detection."""
        return copy.deepcopy(self._records)

    def records(self) -> Dict[str, Dict[str, Any]]:
        """All records; like the real manager, a record whose manager died is marked STOPPED and
        loses its port."""
        for record in self._records.values():
            if record.get("status") != "STOPPED" and not self._is_alive(int(record.get("pid") or 0)):
                record["status"] = "STOPPED"
                record.pop("port", None)
        return copy.deepcopy(self._records)

    def add(self, record: Dict[str, Any]) -> None:
        self._records[str(record["id"])] = copy.deepcopy(record)

    def update(self, experiment_id: str, key: str, value: Any) -> bool:
        """Set (None: delete) one key; a missing record is ignored, as the real manager drops such writes."""
        record = self._records.get(experiment_id)
        if record is None:
            return False
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
        return True

    def remove(self, experiment_id: str) -> None:
        self._records.pop(experiment_id, None)


class FakeProcess:
    """Handle on a simulated manager process (what ``Popen`` is for the real one)."""

    def __init__(self, pid: int, manager: Optional[SimulatedManager], exit_code: Optional[int] = None,
                 log: str = "") -> None:
        self._pid = pid
        self.manager = manager
        self._exit_code = exit_code
        self._log = log

    @property
    def pid(self) -> int:
        return self._pid

    def is_alive(self) -> bool:
        return self.manager is not None and self.manager.alive

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        if self.is_alive():
            return None
        if self._exit_code is None:
            self._exit_code = 0
        return self._exit_code

    def kill(self) -> None:
        """SIGKILL: the process disappears without its shutdown sequence."""
        if self.manager is not None and self.manager.alive:
            self.manager.log("INFO", "killed")
            self.manager.exit()
            self._exit_code = -9

    def log_tail(self, lines: int = 20) -> str:
        if self.manager is not None:
            return "\n".join(self.manager.log_lines[-lines:])
        return self._log


class FakeManager:
    """An in-memory fake of NNI 3.0's manager, usable as ``Experiment(..., backend=FakeManager())``.

    Parameters
    ----------
    trial
        The trial function ``fn(params, trial) -> final metric`` (see :mod:`fakes.trials`);
        default: 10 virtual seconds and a metric derived from the parameters.
    seed
        Seeds trial ids and the search: the same seed gives the same experiment, trial for trial,
        even with algorithms that take no seed (a tuner's ``classArgs.seed`` is still honoured).
    tuner
        Replaces the configured tuner: an ``nni.tuner.Tuner``, a :class:`fakes.tuners.Tuner` or a
        callable ``fn(parameter_id, search_space, rng) -> dict | None`` (None: no more trials).
    search
        Who runs the search (:mod:`fakes.search`): ``"auto"`` (default): NNI's own dispatcher and
        algorithms, in-process, when ``nni`` can be imported, else nni-exp's own samplers;
        ``"nni"``: NNI's (an error without ``nni``); ``"own"``: nni-exp's own samplers.
    timing
        Virtual durations of the simulated manager (:class:`ManagerTiming`).
    clock
        A :class:`VirtualClock` (default) or a :class:`ScaledRealClock` (server mode).
    skip_idle_ticks
        Jump over manager ticks in which nothing can happen (default). Off: run every tick.
    manifest
        Where manifest records go (default: in memory, :class:`FakeManifest`).
    storage
        Where experiment stores are kept between processes (default: in memory only).
    real_trials
        Run each trial's ``trialCommand`` for real, as NNI's local training service does
        (:mod:`fakes.local_trials`): a process per trial in ``trialCodeDirectory``, parameters and
        metrics through NNI's trial command channel (the installed ``nni`` when the trial's Python
        has it, nni-exp's stand-in otherwise), ``trial.log``/``trial.stdout``/``trial.stderr`` in
        ``<experiment dir>/environments/local-env/trials/<id>/``. On a virtual clock, time runs at
        the real pace while trials run: a trial takes as many virtual seconds as it took real ones.
        Excludes ``trial``.
    stall_after
        Virtual seconds a client may wait on this fake's clock (``Experiment.run()``,
        ``wait_completion()``, ``clock.sleep()``) while no manager can ever change again, before
        :class:`~nni_exp.errors.ExperimentStalledError` ends the wait (the real manager would keep
        it waiting for ever). None: wait for ever, as with the real manager.
    patch_time
        ``"sleep"``: from now until :meth:`close`, ``time.sleep(s)`` in the thread that creates the
        fake advances its virtual clock by ``s`` and returns at once; ``"all"``: ``time.time`` and
        ``time.monotonic`` read the virtual clock too; None (default): the ``time`` module is left
        alone. Same as calling :meth:`patch_time` right away; see :mod:`fakes.time_patch`.
    """

    name = "fake"
    #: Virtual seconds between two status polls of ``Experiment.run()`` (NNI's client waits 10 s).
    poll_interval = 5.0
    startup_timeout = 30.0

    def __init__(self, trial: Optional[TrialFunction] = None, *, seed: Optional[int] = None,
                 tuner: Any = None, search: str = "auto", timing: Optional[ManagerTiming] = None,
                 clock: Optional[Clock] = None, skip_idle_ticks: bool = True, manifest: Optional[Manifest] = None,
                 storage: Optional[StoreStorage] = None, stall_after: Optional[float] = 3600.0,
                 real_trials: bool = False, patch_time: Optional[str] = None) -> None:
        if trial is not None and not callable(trial):
            raise TypeError(f"trial must be a function fn(params, trial), not {type(trial).__name__}")
        if not isinstance(real_trials, bool):
            raise TypeError(f"real_trials must be True or False, not {real_trials!r}")
        if real_trials and trial is not None:
            raise ValueError("real_trials=True runs the config's trialCommand: it cannot be combined with a "
                             "scripted trial function")
        self.real_trials = real_trials
        #: Base URL where this fake is served over HTTP (set by the fake manager server): real trials
        #: reach their command channel there, as on the real manager's port.
        self.served_at: Optional[str] = None
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int, not {type(seed).__name__}")
        if timing is not None and not isinstance(timing, ManagerTiming):
            raise TypeError(f"timing must be a ManagerTiming, not {type(timing).__name__}")
        if not isinstance(search, str) or search not in SEARCH_IMPLEMENTATIONS:
            raise ValueError(f"search must be one of {', '.join(map(repr, SEARCH_IMPLEMENTATIONS))}, got {search!r}")
        time_mode = check_mode(patch_time)
        if time_mode is not None and clock is not None and not isinstance(clock, VirtualClock):
            raise ValueError(f"patch_time={time_mode!r} needs a VirtualClock; a {type(clock).__name__} follows "
                             "real time, where time.sleep already lets the fake's time pass")
        if search == "nni":
            resolve_implementation(search)  # fail now, not at the first experiment
        self._search_setting = search
        self.trial: TrialFunction = trial or default_trial
        self.seed = seed
        self.tuner = tuner
        self.timing = timing or ManagerTiming()
        self.skip_idle_ticks = skip_idle_ticks
        if stall_after is not None and (isinstance(stall_after, bool) or not isinstance(stall_after, (int, float))
                                        or not stall_after > 0):
            raise ValueError(f"stall_after must be a number of seconds > 0 or None, got {stall_after!r}")
        self.stall_after = stall_after
        self._stalled_for = 0.0
        self._clock: Clock = clock or VirtualClock()
        #: The last ``epoch_ms`` computed: (epoch seconds, milliseconds).
        self._last_epoch: Tuple[float, int] = (math.nan, 0)
        self._clock.on_advance(self.sync)
        if isinstance(self._clock, VirtualClock):
            self._clock.on_sleep(self._check_stall)
        else:
            self.prepare_search()  # on a clock that follows real time, importing later would cost virtual time
        self._rng = random.Random(seed)
        self._lock = _MachineLock()
        self._time_patch: Optional[TimePatch] = None
        self._next_pid = _FIRST_PID
        self._processes: Dict[int, SimulatedManager] = {}
        self._stores: Dict[str, ExperimentStore] = {}
        self._store_directories: Dict[str, str] = {}
        self._started = 0
        self._manifest: Manifest = manifest if manifest is not None else FakeManifest(self._pid_alive)
        self.storage = storage
        if time_mode is not None:
            self.patch_time(time_mode)

    def __repr__(self) -> str:
        ports = ", ".join(str(p) for p in sorted(self._processes)) or "none"
        return f"<FakeManager seed={self.seed} t={self._clock.monotonic():g}s ports: {ports}>"

    # ------------------------------------------------------------------ Backend protocol

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def spawn_manager(self, args: ManagerArgs, run_mode: RunMode) -> FakeProcess:
        with self._lock:
            self.sync()
            pid = self._next_pid
            self._next_pid += 1
            problem = self._argument_problem(args)
            if problem:
                return FakeProcess(pid, None, exit_code=1, log=problem)
            if args.action == "create":
                store = ExperimentStore(args.experiment_id)
                self._stores[args.experiment_id] = store
                self._store_directories[args.experiment_id] = args.experiments_directory
            else:
                found = self._stores.get(args.experiment_id)
                if found is None and self.storage is not None:
                    found = self.storage.load(args.experiment_id, args.experiments_directory)
                    if found is not None:
                        self._stores[args.experiment_id] = found
                        self._store_directories[args.experiment_id] = args.experiments_directory
                if found is None or self._store_directories.get(args.experiment_id) != args.experiments_directory:
                    return FakeProcess(pid, None, exit_code=1, log=(
                        f"Datastore initialize failed: no database of experiment {args.experiment_id} "
                        f"under {args.experiments_directory}"))
                store = found
            self._started += 1
            process_seed = self._rng.randrange(2 ** 32)
            manager = SimulatedManager(self, args, store, pid, self.trial, random.Random(process_seed),
                                       self.timing, self.skip_idle_ticks)
            self._processes[args.port] = manager
            return FakeProcess(pid, manager)

    def _argument_problem(self, args: ManagerArgs) -> str:
        if args.action not in ACTIONS:
            return f'Invalid values: Argument: action, Given: "{args.action}", Choices: {", ".join(ACTIONS)}'
        if args.log_level not in _MANAGER_LOG_LEVELS:
            return (f'Invalid values: Argument: logLevel, Given: "{args.log_level}", '
                    f'Choices: {", ".join(_MANAGER_LOG_LEVELS)}')
        if not args.experiments_directory.startswith("/"):
            return f"experiments directory must be absolute, got {args.experiments_directory!r}"
        if args.port in self._processes:
            return f"listen EADDRINUSE: address already in use :::{args.port}"
        return ""

    def attach(self, pid: int) -> Optional[FakeProcess]:
        for manager in self._processes.values():
            if manager.pid == pid:
                return FakeProcess(pid, manager)
        return None

    def is_port_idle(self, port: int) -> bool:
        return port not in self._processes

    def request(self, method: str, port: int, path: str, body: Any = None, *,
                url_prefix: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        prefix = strip_prefix(url_prefix)
        url = build_url(port, path, prefix)
        with self._lock:
            self.sync()
            manager = self._processes.get(port)
            if manager is None:
                raise errors.ManagerUnreachableError(f"{method} {url}: no fake NNI manager listens on port {port}")
            target = ("/" + prefix if prefix else "") + router.API_ROOT + "/" + path.lstrip("/")
            answer = router.handle(manager, method, target, None if body is None else json.dumps(body))
            if answer.has_value and answer.status == 200 and method.upper() == "GET":
                return answer.json()  # no text: the value is what decoding it gives
            text = answer.body
        return decode_answer(method, url, answer.status, text)

    def load_stopped_config(self, experiment_id: str,
                            experiments_directory: Optional[str]) -> Optional[Dict[str, Any]]:
        with self._lock:
            self.sync()
            if experiments_directory is None:
                record = self._manifest.records().get(experiment_id)
                if record is None or record.get("status") != "STOPPED":
                    return None
                experiments_directory = str(record.get("logDir"))
            store = self._stores.get(experiment_id)
            if store is None and self.storage is not None:
                store = self.storage.load(experiment_id, experiments_directory)
                if store is not None:
                    self._stores[experiment_id] = store
                    self._store_directories[experiment_id] = experiments_directory
            if store is None or store.stored_profile is None \
                    or self._store_directories.get(experiment_id) != experiments_directory:
                return None
            return copy.deepcopy(store.stored_profile["params"])  # type: ignore[no-any-return,unused-ignore]

    # ------------------------------------------------------------------ the fake machine

    def handle(self, port: int, method: str, target: str,
               body: Union[bytes, str, None] = None) -> router.RouterResponse:
        """Answer a raw HTTP request (path with URL prefix and query) sent to ``port``."""
        with self._lock:
            self.sync()
            manager = self._processes.get(port)
            if manager is None:
                raise errors.ManagerUnreachableError(f"no fake NNI manager listens on port {port}")
            return router.handle(manager, method, target, body).written()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (trials run, ticks happen)."""
        self._clock.advance(seconds)

    def sync(self) -> None:
        """Play every manager's events up to the clock's current time."""
        with self._lock:
            moment = self._clock.monotonic()
            for manager in list(self._processes.values()):
                manager.run_until(moment)

    def _check_stall(self, slept: float) -> None:
        """A client slept on the clock: end its wait if no manager can ever change again."""
        if self.stall_after is None:
            return
        with self._lock:
            managers = list(self._processes.values())
            if not managers or not all(manager.idle_forever() for manager in managers):
                self._stalled_for = 0.0
                return
            self._stalled_for += slept
            if self._stalled_for < self.stall_after:
                return
            self._stalled_for = 0.0
            reasons = "; ".join(f"port {m.args.port} ({m.status}): {m.stall_reason()}" for m in managers)
        raise ExperimentStalledError(
            f"waited {self.stall_after:g} virtual seconds on fake NNI managers that can never change again: "
            f"{reasons}. The real NNI 3.0 manager would keep this wait going for ever "
            "(FakeManager(stall_after=None) does too).")

    def epoch_ms(self, moment: float) -> int:
        """Milliseconds since the epoch at virtual monotonic time ``moment``.

        The events of one instant (a trial's end, its final metric, the next trial's start) share one
        int object: the store keeps millions of these timestamps."""
        seconds = self._clock.time() - self._clock.monotonic() + moment
        last = self._last_epoch
        if seconds != last[0]:
            last = self._last_epoch = (seconds, int(round(seconds * 1000)))
        return last[1]

    @property
    def search(self) -> str:
        """``"nni"`` or ``"own"``: who runs the search of this fake's experiments (``search="auto"``
        decides on first use: checking that ``nni`` imports takes a second or two, once a process)."""
        return resolve_implementation(self._search_setting)

    def prepare_search(self) -> str:
        """Decide on the search and import what it needs now rather than at the first experiment
        (a fake that follows real time, like the fake manager server, must not lose that time later)."""
        implementation = self.search
        if implementation == "nni":
            from .search.nni_runtime import runtime

            runtime()
        return implementation

    def open_search(self, manager: SimulatedManager, request: SearchRequest, emit: search_commands.Emit,
                    log: DispatcherLog) -> DispatcherProcess:
        """Start the dispatcher process of ``manager``'s experiment (see :func:`fakes.search.open_search`)."""
        seed = manager.rng.randrange(2 ** 32) if self.seed is not None else None
        return open_search(request, emit=emit, log=log, implementation=self.search, override=self.tuner,
                           seed=seed, **self._search_faults(manager))

    def _search_faults(self, manager: SimulatedManager) -> Dict[str, Any]:
        """Extra :func:`fakes.search.open_search` arguments (fault injection overrides this)."""
        return {}

    def trial_channel_url(self, port: int) -> Optional[Callable[[str], str]]:
        """How a real trial of the manager on ``port`` reaches its channel: on :attr:`served_at`
        when this fake is served over HTTP, else None (the training service serves it itself)."""
        from .local_trials.channel import CHANNEL_PATH  # real trials only: spares the fake HTTP's imports

        base = self.served_at
        if base is None:
            return None
        return lambda trial_id: f"{base}{CHANNEL_PATH}{quote(trial_id, safe='')}"

    def forget_process(self, manager: SimulatedManager) -> None:
        """Called when a simulated process exits: its port is free again."""
        if self._processes.get(manager.args.port) is manager:
            del self._processes[manager.args.port]
        if self.storage is not None:
            self.storage.save(manager.store, manager.args.experiments_directory)

    def _pid_alive(self, pid: int) -> bool:
        return any(manager.pid == pid for manager in self._processes.values())

    def manager_at(self, port: int) -> SimulatedManager:
        """The running simulated manager on ``port`` (KeyError when none)."""
        try:
            return self._processes[port]
        except KeyError:
            raise KeyError(f"no fake NNI manager listens on port {port}") from None

    @property
    def ports(self) -> List[int]:
        """Ports with a running manager."""
        return sorted(self._processes)

    def experiments(self) -> Iterator[str]:
        """Ids of every experiment this fake machine has stored."""
        return iter(list(self._stores))

    # ------------------------------------------------------------------ the time module

    def patch_time(self, mode: str = "sleep") -> TimePatch:
        """Put the calling thread's ``time`` functions on this fake's virtual clock, now.

        ``"sleep"``: ``time.sleep(s)`` advances the clock by ``s`` virtual seconds (trials run, the
        manager ticks) and returns at once; ``"all"``: ``time.time`` / ``time.time_ns`` read
        ``clock.time()`` and ``time.monotonic`` / ``time.monotonic_ns`` move with the clock too.
        Only the calling thread is affected, and not while the fake itself is at work in it (trial
        functions keep the real functions). ``time.sleep`` is then a client waiting on the clock:
        ``stall_after`` applies. Names imported from ``time`` before this call keep the real
        functions. See :mod:`fakes.time_patch`.

        Returns the active :class:`~fakes.time_patch.TimePatch`: ``with fake.patch_time("all"):``
        undoes it at the end of the block; otherwise ``.stop()`` or :meth:`close` does.

        Raises ``ValueError`` for an unknown mode or a clock that follows real time, and
        :class:`~nni_exp.errors.TimePatchError` when this fake or this thread already has a patch.
        """
        mode_checked = check_mode(mode, "mode")
        if mode_checked is None:
            raise ValueError("mode must be 'sleep' or 'all' (to undo a patch, stop() it or close() the fake)")
        if not isinstance(self._clock, VirtualClock):
            raise ValueError(f"patch_time() needs a VirtualClock; a {type(self._clock).__name__} follows real time, "
                             "where time.sleep already lets the fake's time pass")
        current = self.time_patch
        if current is not None:
            raise TimePatchError(f"{self!r} already patches time ({current!r}); stop that patch first")
        patch = TimePatch(self._clock, mode_checked, owner=self, inside_fake=self._lock.held)
        patch.start()
        self._time_patch = patch
        return patch

    @property
    def time_patch(self) -> Optional[TimePatch]:
        """The active :class:`~fakes.time_patch.TimePatch` of this fake, or None."""
        patch = self._time_patch
        return patch if patch is not None and patch.active else None

    def close(self) -> None:
        """Kill every running manager (as at machine shutdown) and undo :meth:`patch_time`."""
        try:
            with self._lock:
                for manager in list(self._processes.values()):
                    manager.exit()
        finally:
            patch, self._time_patch = self._time_patch, None
            if patch is not None:
                patch.stop()
