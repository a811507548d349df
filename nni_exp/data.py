"""Records returned by :class:`~nni_exp.Experiment`, decoded from NNI 3.0's wire format.

The manager encodes some values as JSON text inside JSON, and these classes undo it the way NNI's
client does:

* ``TrialMetricData.data`` arrives encoded twice (``"\\"0.5\\""``) and is decoded twice;
* each element of ``TrialJob.hyperParameters`` arrives as a JSON string and is decoded once;
* ``TrialResult.value`` (export data) arrives as a JSON string and is decoded once.

``parameterId`` stays what the manager sends: a *string* (or ``None`` for customized trials).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import fast_json

__all__ = ["TrialResult", "TrialMetricData", "TrialHyperParameters", "TrialJob"]


@dataclass(init=False)
class TrialResult:
    """One line of ``export_data()``: a succeeded trial's parameters and its final result."""

    parameter: Dict[str, Any]
    value: Any
    trialJobId: str

    def __init__(self, parameter: Dict[str, Any], value: str, trialJobId: str) -> None:
        self.parameter = parameter
        self.value = fast_json.loads(value)
        self.trialJobId = trialJobId


@dataclass(init=False)
class TrialMetricData:
    """One metric reported by a trial: ``type`` is ``PERIODICAL`` (intermediate) or ``FINAL``."""

    timestamp: int
    trialJobId: str
    parameterId: Any
    type: str
    sequence: int
    data: Any

    def __init__(self, timestamp: int, trialJobId: str, parameterId: Any, type: str,  # noqa: A002
                 sequence: int, data: str) -> None:
        self.timestamp = timestamp
        self.trialJobId = trialJobId
        self.parameterId = parameterId
        self.type = type
        self.sequence = sequence
        self.data = fast_json.loads_twice(data)


@dataclass
class TrialHyperParameters:
    """The parameters a trial was submitted with.

    ``parameter_index`` is optional here: the manager omits it for customized trials
    (``POST /trial-jobs``), where NNI's own class fails with a TypeError.
    """

    parameter_id: Optional[int]
    parameter_source: str
    parameters: Dict[str, Any]
    parameter_index: Optional[int] = None
    placement_constraint: Optional[Dict[str, Any]] = None
    version_info: Optional[Dict[str, Any]] = None


@dataclass(init=False)
class TrialJob:
    """A trial job as ``GET /trial-jobs`` describes it.

    Unknown keys of the wire record (such as ``envId``) are accepted and ignored.
    """

    trialJobId: str
    status: str
    hyperParameters: List[TrialHyperParameters]
    logPath: str
    startTime: int
    endTime: int
    finalMetricData: List[TrialMetricData]
    stderrPath: str
    sequenceId: int
    message: str = field(default="--")

    def __init__(self, trialJobId: str, status: str, startTime: int, sequenceId: int, logPath: str = "",
                 endTime: int = -1, stderrPath: str = "", hyperParameters: Optional[List[str]] = None,
                 finalMetricData: Optional[List[Dict[str, Any]]] = None, message: str = "--",
                 **kwargs: Any) -> None:
        self.trialJobId = trialJobId
        self.status = status
        self.hyperParameters = [TrialHyperParameters(**fast_json.loads(hp)) for hp in (hyperParameters or [])]
        self.logPath = logPath
        self.startTime = startTime
        self.endTime = endTime
        self.finalMetricData = [TrialMetricData(**m) for m in (finalMetricData or [])]
        self.stderrPath = stderrPath
        self.sequenceId = sequenceId
        self.message = message
