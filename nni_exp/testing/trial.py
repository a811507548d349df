"""A fake of NNI's trial side: run trial code with given parameters and capture what it reports.

Trial code talks to NNI through six functions: ``nni.get_next_parameter()``,
``nni.report_intermediate_result()``, ``nni.report_final_result()``, ``nni.get_experiment_id()``,
``nni.get_trial_id()`` and ``nni.get_sequence_id()``. :func:`run_trial` runs a trial **function**
(in this process) or **script** (in a subprocess, as NNI's local training service runs
``trialCommand``), hands it the parameters and records every report in a :class:`TrialRun`::

    run = run_trial("trial.py", {"lr": 0.1})
    assert run.succeeded, run.stderr
    assert run.final > 0.9 and len(run.intermediate) == 10

How the trial reaches us:

* **nni installed, script**: the subprocess gets the environment NNI gives a trial
  (``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``, ``NNI_TRIAL_SEQ_ID``, ``NNI_SYS_DIR``, ``NNI_OUTPUT_DIR``)
  plus ``NNI_TRIAL_COMMAND_CHANNEL=import://nni_exp.testing.trial.RecordingTrialCommandChannel``,
  NNI's public seam for a custom trial command channel. NNI reads these variables once, when
  ``nni`` is imported; a fresh process is what makes them apply. ``NNI_PLATFORM`` is ``unittest``
  (NNI's own test value: no log redirection, and reports need ``get_next_parameter()`` first, as
  under a real manager).
* **nni installed, function**: NNI's ``set_default_trial_command_channel()`` installs the recording
  channel, and the per-process state NNI keeps in ``nni.trial`` (ids read from the environment at
  import time, the current parameters, the intermediate-result counter) is set for the run and
  restored afterwards. Not thread-safe: in-process runs are serialized by a lock.
* **nni not installed** (or ``use_nni=False``): a minimal stand-in ``nni`` module with only the six
  functions is injected for the run (``sys.modules['nni']`` in this process; a directory at the
  front of ``PYTHONPATH`` for a subprocess). Outside a run it behaves as NNI's standalone mode
  (``get_next_parameter()`` warns and returns ``{}``, reports are dropped).

Semantics follow NNI 3.0's trial API: the first ``get_next_parameter()`` returns the parameters,
later calls return None (as NNI's file channel does); reporting before getting parameters raises
NNI's ``AssertionError``; intermediate results are numbered from 0; metric values travel as JSON
(numpy scalars become Python numbers, anything not JSON-serializable fails the trial).

:func:`nni_trial_as_fake_trial` turns the same trial code into a scripted trial for
:class:`fakes.FakeManager`, each report taking some virtual seconds.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.machinery
import io
import json
import math
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import traceback
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

__all__ = [
    "CHANNEL_URL",
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_TRIAL_ID",
    "ReportedMetric",
    "TrialFailedError",
    "TrialRun",
    "TrialRunner",
    "nni_is_installed",
    "nni_trial_as_fake_trial",
    "run_trial",
    "standin_nni",
]

#: Experiment id a trial sees unless told otherwise (8 characters, as NNI generates them).
DEFAULT_EXPERIMENT_ID = "fakeexp0"
#: Trial job id a trial sees unless told otherwise (5 characters, as the local service makes them).
DEFAULT_TRIAL_ID = "Trial"
#: ``NNI_TRIAL_COMMAND_CHANNEL`` value that makes NNI use :class:`RecordingTrialCommandChannel`.
CHANNEL_URL = "import://nni_exp.testing.trial.RecordingTrialCommandChannel"
#: Environment variable naming the directory through which a subprocess trial reports.
_SESSION_ENV = "NNI_EXP_FAKE_TRIAL_DIR"
_SESSION_FILE = "session.json"
_EVENTS_FILE = "events.jsonl"
_STANDIN_FUNCTIONS = ("get_next_parameter", "report_intermediate_result", "report_final_result",
                      "get_experiment_id", "get_trial_id", "get_sequence_id")
_NNI_TRIAL_STATE = ("_params", "_experiment_id", "_trial_id", "_sequence_id", "_intermediate_seq")
#: Environment variables of NNI's dispatcher or legacy modes that must not leak into a trial.
_FOREIGN_ENV = ("SDK_PROCESS", "REUSE_MODE", "MULTI_PHASE", "NNI_PLATFORM", "NNI_TRIAL_COMMAND_CHANNEL")
_IN_PROCESS_LOCK = threading.RLock()

Metric = Any
TrialTarget = Union[Callable[..., Any], str, "os.PathLike[str]"]


class TrialFailedError(AssertionError):
    """Raised by :meth:`TrialRun.check` for a trial that did not succeed."""


@dataclass(frozen=True)
class ReportedMetric:
    """One report of a trial: ``type`` is ``'PERIODICAL'`` (intermediate) or ``'FINAL'``."""

    type: str
    sequence: int
    parameter_id: Optional[int]
    value: Metric


@dataclass
class TrialRun:
    """What one trial run received and reported.

    Attributes
    ----------
    parameters
        The parameters handed to the trial.
    experiment_id, trial_id, sequence_id, parameter_id
        The identity the trial saw.
    metrics
        Every report, in order (:class:`ReportedMetric`).
    exception
        The exception that ended an in-process run (None for a subprocess: see ``stderr``).
    exit_code
        0 on success, 1 for an exception, the ``SystemExit`` code or the process's exit code;
        None when a subprocess timed out.
    stdout, stderr
        What the trial printed (for an in-process exception, ``stderr`` ends with its traceback).
    output_dir
        ``NNI_OUTPUT_DIR`` of the run when it was kept (the ``nni_trial`` fixture keeps it).
    parameter_requests
        How many times the trial called ``get_next_parameter()``.
    timed_out
        A subprocess exceeded its timeout and was killed.
    """

    parameters: Dict[str, Any]
    experiment_id: str
    trial_id: str
    sequence_id: int
    parameter_id: Optional[int]
    metrics: List[ReportedMetric] = field(default_factory=list)
    exception: Optional[BaseException] = None
    exit_code: Optional[int] = 0
    stdout: str = ""
    stderr: str = ""
    output_dir: Optional[Path] = None
    parameter_requests: int = 0
    timed_out: bool = False

    @property
    def intermediate(self) -> List[Metric]:
        """Values of the intermediate results, in order."""
        return [m.value for m in self.metrics if m.type == "PERIODICAL"]

    @property
    def finals(self) -> List[Metric]:
        """Values of every final result (a well-behaved trial reports exactly one)."""
        return [m.value for m in self.metrics if m.type == "FINAL"]

    @property
    def final(self) -> Optional[Metric]:
        """The first final result (the one NNI keeps), or None."""
        finals = self.finals
        return finals[0] if finals else None

    @property
    def succeeded(self) -> bool:
        """True when the trial ended normally (exit code 0)."""
        return self.exit_code == 0 and not self.timed_out

    def check(self) -> TrialRun:
        """Return self if the trial succeeded, else raise :class:`TrialFailedError` with its stderr."""
        if self.succeeded:
            return self
        why = "timed out" if self.timed_out else f"exited with code {self.exit_code}"
        tail = "\n".join(self.stderr.rstrip().splitlines()[-20:])
        error = TrialFailedError(f"trial {self.trial_id} {why}" + (f"\n--- stderr (tail) ---\n{tail}" if tail else ""))
        raise error from self.exception


# ---------------------------------------------------------------------------------------------- sessions


class _Session:
    """The manager side of one trial: its parameters, identity and the reports it made."""

    def __init__(self, parameters: Dict[str, Any], parameter_id: Optional[int], parameter_source: str,
                 experiment_id: str, trial_id: str, sequence_id: int,
                 on_metric: Optional[Callable[[ReportedMetric], None]] = None,
                 events_file: Optional[Path] = None) -> None:
        self.parameters = parameters
        self.parameter_id = parameter_id
        self.parameter_source = parameter_source
        self.experiment_id = experiment_id
        self.trial_id = trial_id
        self.sequence_id = sequence_id
        self.on_metric = on_metric
        self.events_file = events_file
        self.metrics: List[ReportedMetric] = []
        self.requests = 0
        self.current: Optional[Dict[str, Any]] = None
        self.next_intermediate = 0

    @classmethod
    def from_environment(cls) -> _Session:
        """The session of a subprocess trial, described by the directory in ``NNI_EXP_FAKE_TRIAL_DIR``."""
        directory = os.environ.get(_SESSION_ENV)
        if not directory:
            raise RuntimeError(f"{_SESSION_ENV} is not set: this trial was not started by nni_exp.testing.trial")
        path = Path(directory)
        spec = json.loads((path / _SESSION_FILE).read_text(encoding="utf-8"))
        return cls(spec["parameters"], spec["parameter_id"], spec["parameter_source"], spec["experiment_id"],
                   spec["trial_id"], spec["sequence_id"], events_file=path / _EVENTS_FILE)

    def receive_parameter(self) -> Optional[Dict[str, Any]]:
        """NNI's ``receive_parameter()``: the record the first time, None afterwards."""
        self.requests += 1
        self._write({"event": "parameter"})
        if self.requests > 1:
            self.current = None
            return None
        self.current = {
            "parameter_id": self.parameter_id,
            "parameter_source": self.parameter_source,
            "parameters": copy.deepcopy(self.parameters),
            "parameter_index": 0,
        }
        return copy.deepcopy(self.current)

    def send_metric(self, metric_type: str, value: Metric, sequence: Optional[int] = None) -> None:
        """Record one report (``sequence`` None: numbered here, as NNI's trial API does)."""
        if metric_type not in ("PERIODICAL", "FINAL"):
            raise ValueError(f"metric type must be 'PERIODICAL' or 'FINAL', got {metric_type!r}")
        if self.current is None:
            kind = "intermediate" if metric_type == "PERIODICAL" else "final"
            raise AssertionError(f"nni.get_next_parameter() needs to be called before report_{kind}_result")
        if sequence is None:
            sequence = 0
            if metric_type == "PERIODICAL":
                sequence = self.next_intermediate
                self.next_intermediate += 1
        metric = ReportedMetric(metric_type, int(sequence), self.current.get("parameter_id"), _jsonable(value))
        self.metrics.append(metric)
        self._write({"event": "metric", "type": metric.type, "sequence": metric.sequence,
                     "parameter_id": metric.parameter_id, "value": metric.value})
        if self.on_metric is not None:
            self.on_metric(metric)

    def _write(self, event: Dict[str, Any]) -> None:
        if self.events_file is not None:
            with open(self.events_file, "a", encoding="utf-8") as file:
                file.write(json.dumps(event) + "\n")


def _jsonable(value: Any) -> Any:
    """``value`` as it comes out of a JSON round trip (numpy scalars and arrays included)."""
    def default(obj: Any) -> Any:
        for method in ("item", "tolist"):
            convert = getattr(obj, method, None)
            if callable(convert):
                return convert()
        raise TypeError(f"a metric must be JSON-serializable (a number or a dict with 'default'), "
                        f"got {type(obj).__name__}: {obj!r}")

    return json.loads(json.dumps(value, default=default))


_current_session: Optional[_Session] = None


# ---------------------------------------------------------------------------------------------- NNI's channel


class _RecordingChannelMixin:
    """NNI ``TrialCommandChannel`` methods that forward to a :class:`_Session`."""

    def __init__(self, session: Optional[_Session] = None) -> None:
        self._session = session if session is not None else _Session.from_environment()

    def receive_parameter(self) -> Optional[Dict[str, Any]]:
        return self._session.receive_parameter()

    def send_metric(self, type: str, parameter_id: Optional[int], trial_job_id: str,  # noqa: A002 - NNI's name
                    sequence: int, value: Metric) -> None:
        self._session.send_metric(type, value, sequence)


_channel_class: Optional[type] = None


def _recording_channel_class() -> type:
    """``RecordingTrialCommandChannel``: a subclass of NNI's ``TrialCommandChannel`` when nni is there."""
    global _channel_class
    if _channel_class is None:
        bases: tuple = (_RecordingChannelMixin,)
        if nni_is_installed():
            from nni.runtime.trial_command_channel import TrialCommandChannel

            bases = (_RecordingChannelMixin, TrialCommandChannel)
        _channel_class = type("RecordingTrialCommandChannel", bases, {
            "__module__": __name__,
            "__doc__": "NNI trial command channel that records reports (see nni_exp.testing.trial).",
        })
    return _channel_class


def __getattr__(name: str) -> Any:
    if name == "RecordingTrialCommandChannel":
        return _recording_channel_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def nni_is_installed() -> bool:
    """Whether the real ``nni`` package can be imported (the stand-in does not count)."""
    module = sys.modules.get("nni")
    if module is not None and not getattr(module, "__nni_exp_standin__", False):
        return True
    try:
        spec = importlib.machinery.PathFinder.find_spec("nni")
    except (ImportError, ValueError):
        return False
    return spec is not None and "nni_exp_standin" not in str(getattr(spec, "origin", "") or "")


# ---------------------------------------------------------------------------------------------- the stand-in


def _session_or_none() -> Optional[_Session]:
    global _current_session
    if _current_session is None and os.environ.get(_SESSION_ENV):
        _current_session = _Session.from_environment()
    return _current_session


def _standin_get_next_parameter() -> Any:
    """Get the hyper-parameters of this trial (None once they were already taken)."""
    session = _session_or_none()
    if session is None:
        warnings.warn("Running trial code without runtime (nni-exp stand-in of nni).", RuntimeWarning, stacklevel=2)
        return {}
    record = session.receive_parameter()
    return None if record is None else record["parameters"]


def _standin_report_intermediate_result(metric: Metric) -> None:
    """Report an intermediate result."""
    session = _session_or_none()
    if session is not None:
        session.send_metric("PERIODICAL", metric)


def _standin_report_final_result(metric: Metric) -> None:
    """Report the final result."""
    session = _session_or_none()
    if session is not None:
        session.send_metric("FINAL", metric)


def _standin_get_experiment_id() -> str:
    """The experiment id ('STANDALONE' outside a run)."""
    session = _session_or_none()
    return "STANDALONE" if session is None else session.experiment_id


def _standin_get_trial_id() -> str:
    """The trial job id ('STANDALONE' outside a run)."""
    session = _session_or_none()
    return "STANDALONE" if session is None else session.trial_id


def _standin_get_sequence_id() -> int:
    """The trial's sequence number (0 outside a run)."""
    session = _session_or_none()
    return 0 if session is None else session.sequence_id


def _standin_missing(name: str) -> Any:
    raise AttributeError(
        f"the nni stand-in of nni-exp only provides {', '.join(_STANDIN_FUNCTIONS)}; nni.{name} needs the real "
        "nni package (pip install nni)"
    )


_standin_module: Optional[types.ModuleType] = None


def standin_nni() -> types.ModuleType:
    """The stand-in ``nni`` module (always the same object): the six trial functions only."""
    global _standin_module
    if _standin_module is None:
        module = types.ModuleType("nni", "Stand-in for NNI's trial API, provided by nni_exp.testing.trial.")
        module.__dict__.update({
            "get_next_parameter": _standin_get_next_parameter,
            "report_intermediate_result": _standin_report_intermediate_result,
            "report_final_result": _standin_report_final_result,
            "get_experiment_id": _standin_get_experiment_id,
            "get_trial_id": _standin_get_trial_id,
            "get_sequence_id": _standin_get_sequence_id,
            "__all__": list(_STANDIN_FUNCTIONS),
            "__nni_exp_standin__": True,
            "__getattr__": _standin_missing,
        })
        _standin_module = module
    return _standin_module


_STANDIN_SOURCE = '''"""Stand-in for NNI's trial API (nni_exp.testing.trial): only the six trial functions."""
from nni_exp.testing.trial import standin_nni as _standin

_module = _standin()
globals().update({name: getattr(_module, name) for name in _module.__all__})
__all__ = list(_module.__all__)
__nni_exp_standin__ = True
__getattr__ = _module.__getattr__
'''


@contextlib.contextmanager
def _standin_installed() -> Iterator[types.ModuleType]:
    """``sys.modules['nni']`` is the stand-in inside the block (restored afterwards)."""
    module = standin_nni()
    saved = sys.modules.get("nni")
    sys.modules["nni"] = module
    try:
        yield module
    finally:
        if saved is None:
            sys.modules.pop("nni", None)
        else:
            sys.modules["nni"] = saved


@contextlib.contextmanager
def _real_nni_patched(session: _Session) -> Iterator[None]:
    """NNI's trial API, in this process, talks to ``session`` inside the block."""
    import nni.runtime.trial_command_channel as channels
    import nni.trial as trial_module

    missing = [name for name in _NNI_TRIAL_STATE if not hasattr(trial_module, name)]
    if missing or not hasattr(channels, "set_default_trial_command_channel"):
        raise RuntimeError(f"this nni version keeps its trial state differently (missing {missing}); run the trial "
                           "as a script instead (in_subprocess=True)")
    saved_state = {name: getattr(trial_module, name) for name in _NNI_TRIAL_STATE}
    saved_channel = getattr(channels, "_channel", None)
    channels.set_default_trial_command_channel(_recording_channel_class()(session))
    trial_module._params = None
    trial_module._experiment_id = session.experiment_id
    trial_module._trial_id = session.trial_id
    trial_module._sequence_id = session.sequence_id
    trial_module.overwrite_intermediate_seq(0)
    try:
        yield
    finally:
        for name, value in saved_state.items():
            setattr(trial_module, name, value)
        channels._channel = saved_channel


# ---------------------------------------------------------------------------------------------- running


def _resolve_use_nni(use_nni: Optional[bool]) -> bool:
    if use_nni is None:
        return nni_is_installed()
    if not isinstance(use_nni, bool):
        raise TypeError(f"use_nni must be True, False or None (auto), not {use_nni!r}")
    if use_nni and not nni_is_installed():
        raise ModuleNotFoundError("use_nni=True but the nni package is not installed (pip install nni)")
    return use_nni


def _check_target(target: Any) -> Union[Callable[..., Any], Path]:
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        if not path.is_file():
            raise FileNotFoundError(f"trial script not found: {str(path)!r}")
        return path
    if callable(target):
        return target
    raise TypeError(f"a trial is a function or the path of a script, not {type(target).__name__}: {target!r}")


def _check_parameters(parameters: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a mapping (the dict a tuner generates), not {type(parameters).__name__}")
    try:
        return dict(json.loads(json.dumps(dict(parameters))))
    except (TypeError, ValueError) as error:
        raise TypeError(f"parameters must be JSON-serializable, as NNI sends them to trials: {error}") from None


def _check_identity(experiment_id: Any, trial_id: Any, sequence_id: Any, parameter_id: Any,
                    parameter_source: Any) -> None:
    for name, value in (("experiment_id", experiment_id), ("trial_id", trial_id)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string, got {value!r}")
    if isinstance(sequence_id, bool) or not isinstance(sequence_id, int) or sequence_id < 0:
        raise ValueError(f"sequence_id must be an int >= 0, got {sequence_id!r}")
    if parameter_id is not None and (isinstance(parameter_id, bool) or not isinstance(parameter_id, int)):
        raise TypeError(f"parameter_id must be an int or None, got {parameter_id!r}")
    if parameter_source not in ("algorithm", "customized", "resumed"):
        raise ValueError(f"parameter_source must be 'algorithm', 'customized' or 'resumed', got {parameter_source!r}")


def run_trial(target: TrialTarget, parameters: Optional[Mapping[str, Any]] = None, *,
              args: Sequence[Any] = (), experiment_id: str = DEFAULT_EXPERIMENT_ID,
              trial_id: str = DEFAULT_TRIAL_ID, sequence_id: int = 0, parameter_id: Optional[int] = 0,
              parameter_source: str = "algorithm", in_subprocess: Optional[bool] = None,
              use_nni: Optional[bool] = None, cwd: Union[str, os.PathLike[str], None] = None,
              env: Optional[Mapping[str, str]] = None, output_dir: Union[str, os.PathLike[str], None] = None,
              timeout: float = 60.0) -> TrialRun:
    """Run one trial with ``parameters`` and return what it reported.

    Parameters
    ----------
    target
        A function (called as ``target(*args)``) or the path of a Python script (run as
        ``python script *args``).
    parameters
        What ``nni.get_next_parameter()`` returns (JSON-serializable; default ``{}``).
    experiment_id, trial_id, sequence_id, parameter_id, parameter_source
        The identity the trial sees (``parameter_id`` None and source ``'customized'`` for a
        customized trial).
    in_subprocess
        Run in a fresh Python process. Default: yes for a script, no for a function (a function
        cannot run in a subprocess).
    use_nni
        Use the real ``nni`` package (True), the stand-in (False), or the real one when installed
        (None, the default).
    cwd, env
        Working directory and extra environment variables of the trial (``env``: subprocess only).
    output_dir
        ``NNI_OUTPUT_DIR``/``NNI_SYS_DIR`` of the trial, kept afterwards (default: a temporary
        directory removed after the run).
    timeout
        Real seconds a subprocess may run before it is killed (``TrialRun.timed_out``).
    """
    checked = _check_target(target)
    params = _check_parameters(parameters)
    _check_identity(experiment_id, trial_id, sequence_id, parameter_id, parameter_source)
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(f"args must be a sequence of arguments, not {type(args).__name__}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 or math.isinf(timeout):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    if env is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in dict(env).items()):
        raise TypeError("env must map strings to strings")
    real = _resolve_use_nni(use_nni)
    if in_subprocess is None:
        in_subprocess = isinstance(checked, Path)
    if in_subprocess and not isinstance(checked, Path):
        raise TypeError("a trial function runs in this process; pass the path of a script to run it in a subprocess")
    if not in_subprocess and env:
        raise ValueError("env applies to subprocess trials only (NNI reads its variables when nni is imported)")
    with contextlib.ExitStack() as stack:
        if output_dir is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nni_exp_trial_output_")))
            kept: Optional[Path] = None
        else:
            out = kept = Path(output_dir)
            out.mkdir(parents=True, exist_ok=True)
        if in_subprocess:
            assert isinstance(checked, Path)
            run = _run_subprocess(checked, params, args, experiment_id, trial_id, sequence_id, parameter_id,
                                  parameter_source, real, cwd, env, out, timeout)
        else:
            session = _Session(params, parameter_id, parameter_source, experiment_id, trial_id, sequence_id)
            run = _run_in_process(checked, session, args, real, cwd, out)
        run.output_dir = kept
        return run


def _run_in_process(target: Union[Callable[..., Any], Path], session: _Session, args: Sequence[Any], real: bool,
                    cwd: Union[str, os.PathLike[str], None], output_dir: Path) -> TrialRun:
    global _current_session
    stdout, stderr = io.StringIO(), io.StringIO()
    exception: Optional[BaseException] = None
    exit_code: Optional[int] = 0
    with _IN_PROCESS_LOCK, contextlib.ExitStack() as stack:
        previous_session = _current_session
        _current_session = session
        stack.callback(_restore_session, previous_session)
        stack.enter_context(_real_nni_patched(session) if real else _standin_installed())
        stack.enter_context(_trial_environment(session, output_dir))
        if cwd is not None:
            stack.enter_context(_working_directory(Path(cwd)))
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                if isinstance(target, Path):
                    with _script_argv(target, args):
                        runpy.run_path(str(target), run_name="__main__")
                else:
                    target(*args)
            except SystemExit as stop:
                exit_code = _exit_code(stop)
                if exit_code:
                    exception = stop
            except Exception as error:  # noqa: BLE001 - a raising trial is a failed trial
                exception = error
                exit_code = 1
                traceback.print_exc()
    return TrialRun(parameters=session.parameters, experiment_id=session.experiment_id, trial_id=session.trial_id,
                    sequence_id=session.sequence_id, parameter_id=session.parameter_id, metrics=list(session.metrics),
                    exception=exception, exit_code=exit_code, stdout=stdout.getvalue(), stderr=stderr.getvalue(),
                    parameter_requests=session.requests)


@contextlib.contextmanager
def _trial_environment(session: _Session, output_dir: Path) -> Iterator[None]:
    """The variables a trial reads itself (``NNI_OUTPUT_DIR`` ...) are set in ``os.environ`` inside the block.

    (NNI's own variables that select its channel and logging are left alone: nni read them at import.)
    """
    values = {
        "NNI_EXP_ID": session.experiment_id,
        "NNI_TRIAL_JOB_ID": session.trial_id,
        "NNI_TRIAL_SEQ_ID": str(session.sequence_id),
        "NNI_SYS_DIR": str(output_dir),
        "NNI_OUTPUT_DIR": str(output_dir),
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _restore_session(previous: Optional[_Session]) -> None:
    global _current_session
    _current_session = previous


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _script_argv(script: Path, args: Sequence[Any]) -> Iterator[None]:
    saved_argv, saved_path0 = sys.argv, sys.path[0] if sys.path else None
    sys.argv = [str(script), *map(str, args)]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        yield
    finally:
        sys.argv = saved_argv
        if sys.path and sys.path[0] == str(script.resolve().parent) and sys.path[0] != saved_path0:
            del sys.path[0]


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    if not path.is_dir():
        raise NotADirectoryError(f"cwd is not a directory: {str(path)!r}")
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def _run_subprocess(script: Path, params: Dict[str, Any], args: Sequence[Any], experiment_id: str, trial_id: str,
                    sequence_id: int, parameter_id: Optional[int], parameter_source: str, real: bool,
                    cwd: Union[str, os.PathLike[str], None], extra_env: Optional[Mapping[str, str]],
                    output_dir: Path, timeout: float) -> TrialRun:
    if cwd is not None and not Path(cwd).is_dir():
        raise NotADirectoryError(f"cwd is not a directory: {str(cwd)!r}")
    with tempfile.TemporaryDirectory(prefix="nni_exp_trial_") as control:
        control_dir = Path(control)
        (control_dir / _SESSION_FILE).write_text(json.dumps({
            "parameters": params, "parameter_id": parameter_id, "parameter_source": parameter_source,
            "experiment_id": experiment_id, "trial_id": trial_id, "sequence_id": sequence_id,
        }), encoding="utf-8")
        (control_dir / _EVENTS_FILE).write_text("", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        env.update(extra_env or {})
        python_path = [str(Path(__file__).resolve().parents[2])]
        if not real:
            standin_root = control_dir / "nni_exp_standin"
            (standin_root / "nni").mkdir(parents=True)
            (standin_root / "nni" / "__init__.py").write_text(_STANDIN_SOURCE, encoding="utf-8")
            python_path.insert(0, str(standin_root))
        if env.get("PYTHONPATH"):
            python_path.append(env["PYTHONPATH"])
        env.update({
            "PYTHONPATH": os.pathsep.join(python_path),
            "NNI_PLATFORM": "unittest",
            "NNI_EXP_ID": experiment_id,
            "NNI_TRIAL_JOB_ID": trial_id,
            "NNI_TRIAL_SEQ_ID": str(sequence_id),
            "NNI_SYS_DIR": str(output_dir),
            "NNI_OUTPUT_DIR": str(output_dir),
            "NNI_TRIAL_COMMAND_CHANNEL": CHANNEL_URL,
            _SESSION_ENV: str(control_dir),
        })
        command = [sys.executable, str(script.resolve()), *map(str, args)]
        timed_out = False
        try:
            done = subprocess.run(command, env=env, cwd=None if cwd is None else str(cwd), capture_output=True,
                                  text=True, timeout=timeout, check=False)
            exit_code: Optional[int] = done.returncode
            stdout, stderr = done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            timed_out, exit_code = True, None
            stdout = _text(expired.stdout)
            stderr = _text(expired.stderr) + f"\n[nni_exp] trial killed after {timeout:g} s\n"
        metrics: List[ReportedMetric] = []
        requests = 0
        for line in (control_dir / _EVENTS_FILE).read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["event"] == "parameter":
                requests += 1
            else:
                metrics.append(ReportedMetric(event["type"], event["sequence"], event["parameter_id"], event["value"]))
    return TrialRun(parameters=params, experiment_id=experiment_id, trial_id=trial_id, sequence_id=sequence_id,
                    parameter_id=parameter_id, metrics=metrics, exit_code=exit_code, stdout=stdout, stderr=stderr,
                    parameter_requests=requests, timed_out=timed_out)


def _text(data: Union[bytes, str, None]) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


# ---------------------------------------------------------------------------------------------- runner


class TrialRunner:
    """Runs trials for one test (what the ``nni_trial`` fixture gives): ``runner(target, params, ...)``.

    Every run gets its own kept output directory under ``base_dir`` and is appended to
    :attr:`runs`. Keyword arguments given here are defaults for every run. Used as a context
    manager, the stand-in ``nni`` module is importable inside the block when the real package is
    not installed, so that trial modules doing ``import nni`` at top level can be imported.
    """

    def __init__(self, base_dir: Union[str, os.PathLike[str], None] = None, **defaults: Any) -> None:
        unknown = set(defaults) - _RUN_OPTIONS
        if unknown:
            raise TypeError(f"unknown run_trial option(s): {', '.join(sorted(unknown))}")
        self.base_dir = None if base_dir is None else Path(base_dir)
        self.defaults = defaults
        self.runs: List[TrialRun] = []
        self._stack: Optional[contextlib.ExitStack] = None

    def __call__(self, target: TrialTarget, parameters: Optional[Mapping[str, Any]] = None,
                 **options: Any) -> TrialRun:
        """:func:`run_trial` with this runner's defaults; the run is recorded in :attr:`runs`."""
        merged = {**self.defaults, **options}
        if "output_dir" not in merged and self.base_dir is not None:
            merged["output_dir"] = self.base_dir / f"trial_{len(self.runs)}"
        run = run_trial(target, parameters, **merged)
        self.runs.append(run)
        return run

    @property
    def last(self) -> TrialRun:
        """The latest run."""
        if not self.runs:
            raise LookupError("no trial has run yet")
        return self.runs[-1]

    def __enter__(self) -> TrialRunner:
        self._stack = contextlib.ExitStack()
        if not nni_is_installed() and "nni" not in sys.modules:
            self._stack.enter_context(_standin_installed())
        return self

    def __exit__(self, *exc_info: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()


_RUN_OPTIONS = frozenset({"args", "experiment_id", "trial_id", "sequence_id", "parameter_id", "parameter_source",
                          "in_subprocess", "use_nni", "cwd", "env", "output_dir", "timeout"})


# ---------------------------------------------------------------------------------------------- fake manager


def nni_trial_as_fake_trial(target: TrialTarget, *,
                            seconds_per_report: Union[float, Callable[[ReportedMetric], float]] = 1.0,
                            tail_seconds: float = 0.0, args: Sequence[Any] = (), use_nni: Optional[bool] = None,
                            output_root: Union[str, os.PathLike[str], None] = None,
                            ) -> Callable[[Dict[str, Any], Any], Any]:
    """Turn trial code written against ``nni`` into a scripted trial for :class:`fakes.FakeManager`.

    ``target`` is a function (``def main(): params = nni.get_next_parameter(); ...``, called as
    ``target(*args)``) or a script path (run in this process with ``runpy``, as ``__main__``).
    The returned ``fn(params, trial)`` runs it in this process with the fake trial's parameters and
    identity; before each report ``seconds_per_report`` virtual seconds pass (a number, or a
    function of the :class:`ReportedMetric`), and ``tail_seconds`` after the code returns.
    Intermediate results become the trial's PERIODICAL metrics, the first final result its FINAL
    metric (recorded when the trial ends), printed lines its ``trial.log``; an exception or a non-zero
    exit fails it.
    ``NNI_OUTPUT_DIR`` is ``<output_root>/<trial id>`` (kept), or a temporary directory removed
    when the trial function returns.
    """
    checked = _check_target(target)
    _resolve_use_nni(use_nni)
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(f"args must be a sequence of arguments, not {type(args).__name__}")
    if not callable(seconds_per_report):
        _check_seconds("seconds_per_report", seconds_per_report)
    _check_seconds("tail_seconds", tail_seconds)
    root = None if output_root is None else Path(output_root)

    def fake_trial(params: Dict[str, Any], trial: Any) -> Any:
        def on_metric(metric: ReportedMetric) -> None:
            pause = seconds_per_report(metric) if callable(seconds_per_report) else seconds_per_report
            trial.sleep(pause)
            if metric.type == "PERIODICAL":
                trial.report_intermediate_result(metric.value)

        source = "algorithm" if trial.parameter_id is not None else "customized"
        session = _Session(dict(params), trial.parameter_id, source, trial.experiment_id, trial.trial_job_id,
                           int(trial.sequence_id), on_metric=on_metric)
        with contextlib.ExitStack() as stack:
            if root is None:
                out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nni_exp_trial_output_")))
            else:
                out = root / str(trial.trial_job_id)
                out.mkdir(parents=True, exist_ok=True)
            run = _run_in_process(checked, session, args, _resolve_use_nni(use_nni), None, out)
        for line in run.stdout.splitlines():
            trial.log(line)
        if run.exit_code:
            if isinstance(run.exception, Exception):
                raise run.exception
            raise RuntimeError(f"trial exited with code {run.exit_code}\n{run.stderr}")
        trial.sleep(tail_seconds)
        return run.final

    fake_trial.__name__ = getattr(target, "__name__", Path(str(target)).stem)
    fake_trial.__doc__ = f"{fake_trial.__name__} (NNI trial code) as a fake-manager trial."
    return fake_trial


def _check_seconds(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
