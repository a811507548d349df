"""What a fake trial does: a scripted function run on the virtual clock.

A trial function has the signature ``fn(params, trial)``. It may call
``trial.report_intermediate_result(value)`` and ``trial.sleep(seconds)`` (virtual seconds), returns
its final metric (a number, a dict with a ``'default'`` key, or None for no final result) and
fails the trial by raising.

The function runs to completion when the trial starts; what it did becomes a :class:`TrialScript`,
a timeline that the fake manager plays back as virtual time passes (so killing a trial simply cuts
the timeline).
"""

from __future__ import annotations

import hashlib
import json
import math
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "TrialFunction",
    "TrialContext",
    "TrialScript",
    "run_trial_function",
    "default_trial",
    "DEFAULT_TRIAL_DURATION",
]

#: ``fn(params, trial) -> final metric``
TrialFunction = Callable[[Dict[str, Any], "TrialContext"], Any]

#: Virtual seconds the default trial runs.
DEFAULT_TRIAL_DURATION = 10.0


class TrialContext:
    """The ``trial`` argument of a scripted trial function."""

    def __init__(self, parameters: Dict[str, Any], trial_job_id: str, sequence_id: int,
                 experiment_id: str, parameter_id: Optional[int]) -> None:
        self.parameters = parameters
        self.trial_job_id = trial_job_id
        self.sequence_id = sequence_id
        self.experiment_id = experiment_id
        self.parameter_id = parameter_id
        self._elapsed = 0.0
        self._metrics: List[Tuple[float, Any]] = []
        self._log: List[Tuple[float, str]] = []

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the trial started."""
        return self._elapsed

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass inside the trial."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
                or seconds < 0:
            raise ValueError(f"trial.sleep() takes a finite number of seconds >= 0, got {seconds!r}")
        self._elapsed += float(seconds)

    def report_intermediate_result(self, value: Any) -> None:
        """Report an intermediate (PERIODICAL) metric now."""
        _check_metric(value)
        self._metrics.append((self._elapsed, value))

    def log(self, message: str) -> None:
        """Print ``message`` (one line per line of it) to the trial's ``trial.log``, now."""
        for line in str(message).split("\n"):
            self._log.append((self._elapsed, line))


@dataclass
class TrialScript:
    """The timeline of one trial: intermediate metrics, its end, its outcome."""

    duration: float
    intermediate: List[Tuple[float, Any]] = field(default_factory=list)
    final: Any = None
    has_final: bool = False
    failed: bool = False
    stderr: str = ""
    #: ``(seconds since the trial started, line)`` of what the trial printed.
    log_lines: List[Tuple[float, str]] = field(default_factory=list)


def run_trial_function(fn: TrialFunction, context: TrialContext) -> TrialScript:
    """Run ``fn`` eagerly and record what it did."""
    try:
        result = fn(dict(context.parameters), context)
    except Exception:  # noqa: BLE001 - a raising trial is a FAILED trial
        return TrialScript(duration=context.elapsed, intermediate=list(context._metrics), failed=True,
                           stderr=traceback.format_exc(), log_lines=list(context._log))
    script = TrialScript(duration=context.elapsed, intermediate=list(context._metrics),
                         log_lines=list(context._log))
    if result is not None:
        try:
            _check_metric(result)
        except (TypeError, ValueError) as error:
            script.failed = True
            script.stderr = f"invalid final result returned by the trial function: {error}\n"
            return script
        script.final = result
        script.has_final = True
    return script


def default_trial(params: Dict[str, Any], trial: TrialContext) -> float:
    """The trial used when none is scripted: runs 10 virtual seconds and returns a number in
    [0, 1) derived only from its parameters (the same parameters always give the same metric)."""
    trial.sleep(DEFAULT_TRIAL_DURATION)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _check_metric(value: Any) -> None:
    """A metric must be a number or a dict with a numeric ``'default'`` (as NNI's tuners expect)."""
    if isinstance(value, bool):
        raise TypeError(f"a metric must be a number or a dict with 'default', got {value!r}")
    if isinstance(value, (int, float)):
        return
    if isinstance(value, dict):
        if "default" not in value:
            raise ValueError(f"a dict metric needs a 'default' key, got keys {sorted(map(str, value))}")
        json.dumps(value)
        return
    raise TypeError(f"a metric must be a number or a dict with 'default', got {type(value).__name__}")
