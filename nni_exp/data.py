"""Records returned by :class:`~nni_exp.Experiment`, decoded from NNI 3.0's wire format.

The manager encodes some values as JSON text inside JSON, and these classes undo it the way NNI's
client does:

* ``TrialMetricData.data`` arrives encoded twice (``"\\"0.5\\""``) and is decoded twice;
* each element of ``TrialJob.hyperParameters`` arrives as a JSON string and is decoded once;
* ``TrialResult.value`` (export data) arrives as a JSON string and is decoded once.

``parameterId`` stays what the manager sends: a *string* (or ``None`` for customized trials).

:func:`trial_job`, :func:`hyper_parameters`, :func:`metric_data` and :func:`trial_result` build these
records from a decoded answer's items. Each returns what the class called with the item as keyword
arguments returns, and raises what it raises. For an item with the usual keys they set the attributes
directly, which saves the keyword call's argument handling (about 0.25 us per record; a listed trial
is three records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import fast_json

__all__ = ["TrialResult", "TrialMetricData", "TrialHyperParameters", "TrialJob", "trial_job", "hyper_parameters",
           "metric_data", "trial_result"]


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


# ---------------------------------------------------------------------- from a decoded answer's items

_new = object.__new__
_loads = fast_json.loads
_loads_twice = fast_json.loads_twice
#: The keys an item of ``GET /trial-jobs`` has (``envId`` is ignored, as by ``TrialJob``).
_JOB_KEYS = frozenset(("trialJobId", "status", "hyperParameters", "logPath", "startTime", "endTime",
                       "finalMetricData", "stderrPath", "sequenceId", "message", "envId"))
_HYPER_PARAMETER_KEYS = frozenset(("parameter_id", "parameter_source", "parameters", "parameter_index",
                                   "placement_constraint", "version_info"))


def trial_job(item: Any) -> TrialJob:
    """``TrialJob(**item)``."""
    if type(item) is dict and _JOB_KEYS.issuperset(item):
        try:
            trial_job_id, status = item["trialJobId"], item["status"]
            start_time, sequence_id = item["startTime"], item["sequenceId"]
        except KeyError:
            pass  # the keyword call raises its TypeError
        else:
            # what TrialJob.__init__ does, in its order
            job = _new(TrialJob)
            job.trialJobId = trial_job_id
            job.status = status
            job.hyperParameters = [hyper_parameters(_loads(text)) for text in item.get("hyperParameters") or ()]
            job.logPath = item.get("logPath", "")
            job.startTime = start_time
            job.endTime = item.get("endTime", -1)
            job.finalMetricData = [metric_data(metric) for metric in item.get("finalMetricData") or ()]
            job.stderrPath = item.get("stderrPath", "")
            job.sequenceId = sequence_id
            job.message = item.get("message", "--")
            return job
    return TrialJob(**item)


def hyper_parameters(value: Any) -> TrialHyperParameters:
    """``TrialHyperParameters(**value)``."""
    if type(value) is dict and _HYPER_PARAMETER_KEYS.issuperset(value):
        try:
            parameter_id, source, parameters = value["parameter_id"], value["parameter_source"], value["parameters"]
        except KeyError:
            pass
        else:
            hyper = _new(TrialHyperParameters)
            hyper.parameter_id = parameter_id
            hyper.parameter_source = source
            hyper.parameters = parameters
            hyper.parameter_index = value.get("parameter_index")
            hyper.placement_constraint = value.get("placement_constraint")
            hyper.version_info = value.get("version_info")
            return hyper
    return TrialHyperParameters(**value)


def metric_data(item: Any) -> TrialMetricData:
    """``TrialMetricData(**item)``."""
    if type(item) is dict and len(item) == 6:
        try:  # six keys, all of these: exactly the parameters
            timestamp, trial_job_id, parameter_id = item["timestamp"], item["trialJobId"], item["parameterId"]
            metric_type, sequence, data = item["type"], item["sequence"], item["data"]
        except KeyError:
            pass
        else:
            metric = _new(TrialMetricData)
            metric.timestamp = timestamp
            metric.trialJobId = trial_job_id
            metric.parameterId = parameter_id
            metric.type = metric_type
            metric.sequence = sequence
            metric.data = _loads_twice(data)
            return metric
    return TrialMetricData(**item)


def trial_result(item: Any) -> TrialResult:
    """``TrialResult(**item)``."""
    if type(item) is dict and len(item) == 3:
        try:
            parameter, value, trial_job_id = item["parameter"], item["value"], item["trialJobId"]
        except KeyError:
            pass
        else:
            result = _new(TrialResult)
            result.parameter = parameter
            result.value = _loads(value)
            result.trialJobId = trial_job_id
            return result
    return TrialResult(**item)
