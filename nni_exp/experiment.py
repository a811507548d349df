"""``Experiment``: NNI 3.0's experiment API, over any backend."""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import os
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable, DefaultDict, Dict, List, Optional, TypeVar, Union

from . import errors
from .backend import Backend, ManagerArgs, ManagerProcess, RunMode
from .backends import resolve_backend
from .config import ExperimentConfig, diff
from .config.base import canonical_json
from .data import TrialJob, TrialMetricData, TrialResult, metric_data, trial_job, trial_result
from .durations import parse_duration
from .errors import (
    CheckpointError,
    ConfigError,
    ExperimentNotFoundError,
    ExperimentNotRunningError,
    InvalidArgumentError,
    MissingConfigError,
)
from .gc_pause import gc_paused
from .ids import check_experiment_id, generate_experiment_id
from .interrupts import reraises_keyboard_interrupts
from .json_values import MAX_SAFE_INTEGER, json_value_problem
from .launcher import manager_mode, start_manager, stop_manager
from .reprs import short_repr
from .rest import strip_prefix
from .trial_ids import trial_path

__all__ = ["Experiment", "RunMode"]

_logger = logging.getLogger("nni_exp.experiment")

#: Statuses of a trial that has not finished yet (ADD_RESUMED: re-queued by a resume).
_UNFINISHED_TRIAL_STATUSES = {"WAITING", "RUNNING", "UNKNOWN", "ADD_RESUMED"}
#: Seconds (on the backend's clock) an exhausted tuner with no trial left must stay so before run() ends.
_EXHAUSTED_SETTLE_SECONDS = 3.0
#: camelCase profile key -> the manager's update_type.
_UPDATE_TYPES = {
    "trialConcurrency": "TRIAL_CONCURRENCY",
    "maxExperimentDuration": "MAX_EXEC_DURATION",
    "searchSpace": "SEARCH_SPACE",
    "maxTrialNumber": "MAX_TRIAL_NUM",
}


class _DualMethod:
    """Lets ``resume``/``view`` be called on an instance or, deprecated, as ``Experiment.resume('<id>')``.

    Whichever way it is looked up, it shows the method's own name, docstring and signature
    (``inspect.signature``, ``help()``, IDEs, Sphinx): ``(self, port=8080, ...)`` on the class, as
    NNI's plain method, and ``(port=8080, ...)`` on an instance.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]  # name, doc, __wrapped__

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.func)

    def __set_name__(self, owner: type, name: str) -> None:
        self.__qualname__ = f"{owner.__qualname__}.{name}"

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is not None:
            return self.func.__get__(instance, owner)
        func = self.func
        name = func.__name__

        @functools.wraps(func)
        def call_with_id(experiment_id: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(experiment_id, owner):
                return func(experiment_id, *args, **kwargs)
            warnings.warn(
                f"Experiment.{name}(id) is deprecated; use Experiment(None, id=...).{name}()",
                DeprecationWarning,
                stacklevel=2,
            )
            backend = kwargs.pop("backend", None)
            return func(owner(None, id=check_experiment_id(experiment_id), backend=backend), *args, **kwargs)

        call_with_id.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        return call_with_id


if TYPE_CHECKING:  # type checkers and IDEs see a plain method with its own signature
    _F = TypeVar("_F", bound=Callable[..., Any])

    def _dual_method(func: _F) -> _F:
        return func
else:
    _dual_method = _DualMethod


class Experiment:
    """An NNI experiment: its config, its id and, once started, its manager.

    Same API as ``nni.experiment.Experiment`` (NNI 3.0), plus ``backend=``: a backend object, or
    ``'nni'`` (the real NNI manager; the default, or what ``NNI_EXP_BACKEND`` says) or ``'fake'``
    (a fresh in-memory fake manager, :class:`fakes.FakeManager`).

    Parameters
    ----------
    config_or_platform
        An :class:`~nni_exp.config.ExperimentConfig`, a training-service platform name (or a list
        of them) for a blank config of that platform, or None (to resume / view / connect).
    id
        Experiment id; a random 8-character id when omitted.
    backend
        Where the manager runs. Keyword-only.

    Attributes
    ----------
    config, id
        As given (or generated).
    port
        The manager's port while it runs, else None.
    url_prefix
        A URL prefix for the manager's REST API and web UI (``None`` for none).
    backend
        The backend object in use.

    Used as a context manager, the experiment is stopped on exit.
    """

    def __init__(self, config_or_platform: Union[ExperimentConfig, str, List[str], None],
                 id: Optional[str] = None, *, backend: Any = None) -> None:  # noqa: A002
        self.config: Optional[ExperimentConfig] = None
        self.id: str = check_experiment_id(id) if id is not None else generate_experiment_id()
        self.port: Optional[int] = None
        self.url_prefix: Optional[str] = None
        self.backend: Backend = resolve_backend(backend)
        self._proc: Optional[ManagerProcess] = None
        self._action = "create"
        if isinstance(config_or_platform, (str, list)):
            self.config = ExperimentConfig(config_or_platform)
        elif config_or_platform is None or isinstance(config_or_platform, ExperimentConfig):
            self.config = config_or_platform
        else:
            raise ConfigError(
                "config_or_platform must be an ExperimentConfig, a platform name, a list of platform names "
                f"or None, not {short_repr(config_or_platform)} ({type(config_or_platform).__name__})"
            )

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.port is not None else "not running"
        return f"<Experiment {self.id} on {self.backend.name} backend, {state}>"

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 8080, debug: bool = False, run_mode: RunMode = RunMode.Background) -> None:
        """Start the experiment's manager and return once it accepted the config.

        Raises on failure (bad config, busy port, manager start-up failure). Unless ``run_mode`` is
        ``Detach``, the manager is stopped when the Python process exits.
        """
        if not isinstance(run_mode, RunMode):
            raise InvalidArgumentError(f"run_mode must be a RunMode, not {short_repr(run_mode)}", "run_mode", run_mode)
        _check_port(port)
        if run_mode is not RunMode.Detach:
            atexit.register(self.stop)
        if self.config is None:
            raise MissingConfigError("Experiment has no config: pass one to Experiment(...) or load a checkpoint")
        config = self.config.canonical_copy()
        if config.use_annotation:
            raise RuntimeError("NNI annotation is not supported by Python experiment API.")
        config_json = canonical_json(config)  # json() would canonicalize the copy again
        log_level = str(config.log_level)
        if debug and log_level not in ("debug", "trace"):
            log_level = "debug"
        args = ManagerArgs(
            port=port,
            experiment_id=self.id,
            action=self._action,
            mode=manager_mode(config_json),
            experiments_directory=str(config.experiment_working_directory),
            log_level=log_level,
            foreground=run_mode is RunMode.Foreground,
            url_prefix=strip_prefix(self.url_prefix),
        )
        self._proc = start_manager(self.backend, args, config_json, run_mode, config.experiment_name)
        self.port = port
        _logger.info("Experiment %s started on port %d (%s backend)", self.id, port, self.backend.name)

    def stop(self) -> None:
        """Stop the experiment's manager (safe to call when it is not running)."""
        atexit.unregister(self.stop)
        self.save_checkpoint()
        if self._proc is not None:
            stop_manager(self.backend, self._proc, self.port, self.url_prefix)
        self.port = None
        self._proc = None

    def run(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> Optional[bool]:
        """Start the experiment and, by default, wait until it ends.

        Returns None right away when ``wait_completion`` is false. Otherwise True when the
        experiment is DONE or STOPPED, or when its tuner has no more trials and none is running;
        False when it is in ERROR. Ctrl-C stops the experiment and returns None (under pytest it
        then goes on as ``KeyboardInterrupt``: :mod:`nni_exp.interrupts`). The manager keeps
        running after a normal return: call :meth:`stop` (or rely on the exit hook).
        """
        return self._run_impl(port, wait_completion, debug)

    def run_or_resume(self, port: int = 8080, wait_completion: bool = True,
                      debug: bool = False) -> Optional[bool]:
        """:meth:`resume` when :meth:`has_checkpoint`, else :meth:`run`."""
        if self.has_checkpoint():
            return self.resume(port, wait_completion, debug)
        return self.run(port, wait_completion, debug)

    def has_checkpoint(self) -> bool:
        """True when the experiments manifest has a record for this id."""
        return self.id in self.backend.manifest.records()

    def load_checkpoint(self) -> None:
        """Load the stored config of this (stopped) experiment.

        With a config already set, the stored one is only compared with it (a warning shows the
        difference) and the current config is kept.
        """
        experiments_directory: Optional[str] = None
        if self.config is not None:
            experiments_directory = str(self.config.canonical_copy().experiment_working_directory)
        params = self.backend.load_stopped_config(self.id, experiments_directory)
        if params is None:
            raise CheckpointError(f"Config of {self.id} (under {experiments_directory}) failed to be loaded.")
        loaded = ExperimentConfig(**params)
        if experiments_directory is not None and not _same_path(
            str(loaded.experiment_working_directory), experiments_directory
        ):
            loaded.experiment_working_directory = experiments_directory
        if self.config is None:
            self.config = loaded
            return
        difference = diff(self.config, loaded, "Current", "Loaded")
        if difference:
            _logger.warning("Config is found but does not match the current config:\n%s", difference)
            _logger.warning("Current config will NOT be overridden by the loaded config.")

    def save_checkpoint(self) -> None:
        """Nothing to do: the manager stores an HPO experiment's state itself."""

    @classmethod
    def connect(cls, port: int, *, backend: Any = None) -> Experiment:
        """An :class:`Experiment` attached to the manager already running on ``port``."""
        _check_port(port)
        experiment = cls(None, backend=backend)
        experiment.port = port
        experiment.id = experiment.get_experiment_profile()["id"]
        status = experiment.get_status()
        pid = experiment.get_experiment_metadata(experiment.id).get("pid")
        if pid is None:
            _logger.warning("Get experiment pid failed, can not stop experiment by stop().")
        else:
            experiment._proc = experiment.backend.attach(int(pid))
        _logger.info("Connect to port %d success, experiment id is %s, status is %s.", port, experiment.id, status)
        return experiment

    @_dual_method
    def resume(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> Optional[bool]:
        """Resume a stopped experiment; arguments and result as :meth:`run`.

        ``Experiment.resume('<id>')`` still works but is deprecated.
        """
        _check_port(port)
        if not self.has_checkpoint():
            raise ExperimentNotFoundError(f"Experiment {self.id} does not exist thus cannot be resumed.")
        self.load_checkpoint()
        self._action = "resume"
        return self._run_impl(port, wait_completion, debug)

    @_dual_method
    def view(self, port: int = 8080, non_blocking: bool = False) -> Experiment:
        """Open a stopped experiment read-only (status VIEWED) and return self.

        Blocking (the default) waits until Ctrl-C or until the manager goes away, then stops it.
        ``Experiment.view('<id>')`` still works but is deprecated.
        """
        _check_port(port)
        self._action = "view"
        if not self.has_checkpoint():
            raise ExperimentNotFoundError(f"Experiment {self.id} does not exist thus cannot be viewed.")
        self.load_checkpoint()
        self.start(port=port, debug=False, run_mode=RunMode.Detach)
        if not non_blocking:
            try:
                while self._proc is not None and self._proc.is_alive():
                    self.backend.clock.sleep(self.backend.poll_interval)
            except KeyboardInterrupt:
                _logger.warning("KeyboardInterrupt detected")
                if reraises_keyboard_interrupts():
                    raise  # after the ``finally`` below has stopped the experiment
            finally:
                self.stop()
        return self

    def _run_impl(self, port: int, wait_completion: bool, debug: bool) -> Optional[bool]:
        try:
            self.start(port, debug)
            if wait_completion:
                return self.wait_completion()
        except KeyboardInterrupt:
            _logger.warning("KeyboardInterrupt detected")
            self.stop()
            if reraises_keyboard_interrupts():
                raise
        return None

    def wait_completion(self, on_poll: Optional[Callable[[str], None]] = None) -> bool:
        """Wait until the running experiment ends; the result is :meth:`run`'s.

        Polls the status every ``backend.poll_interval`` seconds (on the backend's clock, so a fake
        backend does not really wait) and calls ``on_poll(status)`` after each poll.
        """
        clock = self.backend.clock
        idle_since: Optional[float] = None
        idle_polls = 0
        while True:
            status = self.get_status()
            if on_poll is not None:
                on_poll(status)
            if status in ("DONE", "STOPPED"):
                return True
            if status == "ERROR":
                return False
            if status == "TUNER_NO_MORE_TRIAL" and self._tuner_exhausted_and_idle():
                # NNI 3.0 waits forever here. The manager may still hold trials the tuner sent before
                # it ran out, submitted at its next ticks: the idle state must last a while.
                now = clock.monotonic()
                idle_since = now if idle_since is None else idle_since
                idle_polls += 1
                if idle_polls >= 2 and now - idle_since >= _EXHAUSTED_SETTLE_SECONDS:
                    return True
            else:
                idle_since, idle_polls = None, 0
            clock.sleep(self.backend.poll_interval)

    def _tuner_exhausted_and_idle(self) -> bool:
        """No trial is unfinished and none is queued in the manager.

        A queued trial already has a sequence id: ``nextSequenceId`` is then ahead of every trial's.
        """
        jobs = self._request("GET", "/trial-jobs")
        if any(job.get("status") in _UNFINISHED_TRIAL_STATUSES for job in jobs):
            return False
        next_sequence_id = self.get_experiment_profile().get("nextSequenceId", 0)
        highest = max((job.get("sequenceId", -1) for job in jobs), default=-1)
        return bool(next_sequence_id <= highest + 1)

    # ------------------------------------------------------------------ REST queries

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        if self.port is None:
            raise ExperimentNotRunningError("Experiment is not running")
        return self.backend.request(method, self.port, path, body, url_prefix=strip_prefix(self.url_prefix))

    def get_status(self) -> str:
        """The experiment status: INITIALIZED, RUNNING, NO_MORE_TRIAL, DONE, ERROR, VIEWED ..."""
        return str(self._request("GET", "/check-status")["status"])

    def get_trial_job(self, trial_job_id: str) -> TrialJob:
        """One trial job; :class:`~nni_exp.errors.TrialNotFoundError` for an unknown id,
        :class:`~nni_exp.errors.InvalidTrialIdError` for one no manager can have produced."""
        answer = self._request("GET", trial_path("/trial-jobs", trial_job_id))
        if not answer:  # the real manager answers 200 with an empty body
            raise errors.TrialNotFoundError(trial_job_id)
        return trial_job(answer)

    def list_trial_jobs(self) -> List[TrialJob]:
        """All trial jobs, in submission order."""
        with gc_paused():
            return list(map(trial_job, self._request("GET", "/trial-jobs")))

    def get_job_statistics(self) -> List[Dict[str, Any]]:
        """``[{'trialJobStatus': status, 'trialJobNumber': count}, ...]`` for statuses present."""
        return list(self._request("GET", "/job-statistics"))

    def get_job_metrics(self, trial_job_id: Optional[str] = None) -> Dict[str, List[TrialMetricData]]:
        """Metrics grouped by trial id, in arrival order; one trial's only when an id is given.

        An id that is not None must be a trial job id (:class:`~nni_exp.errors.InvalidTrialIdError`
        otherwise, also for ``''``, which NNI took for "all trials").
        """
        path = "/metric-data" if trial_job_id is None else trial_path("/metric-data", trial_job_id)
        metrics: DefaultDict[str, List[TrialMetricData]] = defaultdict(list)
        with gc_paused():
            for item in self._request("GET", path):
                metrics[item["trialJobId"]].append(metric_data(item))
        return dict(metrics)

    def get_experiment_profile(self) -> Dict[str, Any]:
        """The manager's profile: ``params`` (the config), ``id``, ``execDuration``, ``startTime`` ..."""
        return dict(self._request("GET", "/experiment"))

    def get_experiment_metadata(self, exp_id: str) -> Dict[str, Any]:
        """The manifest record of ``exp_id``, or ``{}``."""
        for metadata in self.get_all_experiments_metadata():
            if metadata.get("id") == exp_id:
                return dict(metadata)
        return {}

    def get_all_experiments_metadata(self) -> List[Dict[str, Any]]:
        """Every manifest record, as the manager reports them."""
        return list(self._request("GET", "/experiments-info"))

    def export_data(self) -> List[TrialResult]:
        """Parameters and final result of every succeeded trial."""
        with gc_paused():
            return list(map(trial_result, self._request("GET", "/export-data")))

    # ------------------------------------------------------------------ updates

    def _update_experiment_profile(self, key: str, value: Any) -> None:
        profile = self.get_experiment_profile()
        profile["params"][key] = value
        self._request("PUT", f"/experiment?update_type={_UPDATE_TYPES[key]}", profile)
        _logger.info("Successfully update %s.", key)

    def update_trial_concurrency(self, value: int) -> None:
        """Set how many trials run at once (0 pauses submissions).

        ``value`` must be an int from 0 to ``2**53 - 1`` (the largest count the manager holds
        exactly); anything else raises :class:`~nni_exp.errors.ConfigError` before anything is sent.
        """
        _check_count("trial_concurrency", value, 0)
        self._update_experiment_profile("trialConcurrency", value)

    def update_max_experiment_duration(self, value: str) -> None:
        """Set the experiment's time budget: ``'30s'``, ``'10m'``, ``'2h'``, ``'1d'``.

        A duration that does not parse, is not positive, or is longer than ``2**53 - 1`` seconds
        raises :class:`~nni_exp.errors.ConfigError`.
        """
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            raise ConfigError(f"max_experiment_duration: {error}", "max_experiment_duration") from None
        if seconds <= 0:
            raise ConfigError(f"max_experiment_duration must be > 0, got {short_repr(value)}",
                              "max_experiment_duration")
        self._update_experiment_profile("maxExperimentDuration", value)

    def update_search_space(self, value: Dict[str, Any]) -> None:
        """Replace the search space; trials generated afterwards use it.

        ``value`` must be a dict that JSON can carry (no sets, bytes, NaN ...), or
        :class:`~nni_exp.errors.ConfigError` names the bad part.
        """
        if not isinstance(value, dict):
            raise ConfigError(f"search_space must be a dict, got {short_repr(value)} ({type(value).__name__})",
                              "search_space")
        problem = json_value_problem(value, "search_space")
        if problem is not None:
            raise ConfigError(problem, "search_space")
        self._update_experiment_profile("searchSpace", value)

    def update_max_trial_number(self, value: int) -> None:
        """Set the maximum number of trials (raising it revives a DONE experiment).

        ``value`` must be an int from 1 to ``2**53 - 1``, or :class:`~nni_exp.errors.ConfigError`.
        """
        _check_count("max_trial_number", value, 1)
        self._update_experiment_profile("maxTrialNumber", value)

    def kill_trial_job(self, trial_job_id: str) -> None:
        """Cancel a trial (it ends USER_CANCELED)."""
        self._request("DELETE", trial_path("/trial-jobs", trial_job_id))


def _check_count(name: str, value: Any, minimum: int) -> None:
    """``value`` is an int from ``minimum`` to ``MAX_SAFE_INTEGER``, or ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SAFE_INTEGER:
        raise ConfigError(f"{name} must be an int from {minimum} to {MAX_SAFE_INTEGER} (2**53 - 1), "
                          f"got {short_repr(value)}", name)


def _check_port(port: Any) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidArgumentError(f"port must be an int in 1..65535, got {short_repr(port)}", "port", port)


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))
