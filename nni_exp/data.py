"""Records returned by :class:`~nni_exp.Experiment`, decoded from NNI 3.0's wire format.

The manager encodes some values as JSON text inside JSON, and these classes undo it the way NNI's
client does:

* ``TrialMetricData.data`` arrives encoded twice (``"\\"0.5\\""``) and is decoded twice;
* each element of ``TrialJob.hyperParameters`` arrives as a JSON string and is decoded once;
* ``TrialResult.value`` (export data) arrives as a JSON string and is decoded once.

``parameterId`` stays what the manager sends: a *string* (or ``None`` for customized trials).

:func:`trial_job_from_wire`, :func:`metric_from_wire` and :func:`result_from_wire` build the same
objects as the constructors called with a decoded record's keys (``TrialJob(**record)``), with the
same errors, faster: a record of the usual shape becomes the instance's ``__dict__`` as it is, with
the encoded values decoded in place; any other record goes through the constructor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from . import fast_json

__all__ = ["TrialResult", "TrialMetricData", "TrialHyperParameters", "TrialJob", "trial_job_from_wire",
           "metric_from_wire", "result_from_wire"]


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


# ---------------------------------------------------------------------- fast construction from the wire
# Each record below is a dict just decoded from an answer, owned by nobody else: the usual shapes are
# checked key by key, in order, so that the instance's __dict__ is exactly the one its constructor
# would have built (the same keys in the same order, the same values).

_new = object.__new__
_loads = fast_json.loads
_loads_twice = fast_json.loads_twice
#: The wire's key order of each record, which is the order the constructors set the attributes in.
_METRIC_KEYS: Tuple[str, ...] = ("timestamp", "trialJobId", "parameterId", "type", "sequence", "data")
_RESULT_KEYS: Tuple[str, ...] = ("parameter", "value", "trialJobId")
_HYPER_KEYS: Tuple[str, ...] = ("parameter_id", "parameter_source", "parameters", "parameter_index")


def metric_from_wire(record: Any) -> TrialMetricData:
    """``TrialMetricData(**record)``, reusing ``record`` as the instance's ``__dict__``."""
    if type(record) is dict and tuple(record) == _METRIC_KEYS:
        record["data"] = _loads_twice(record["data"])
        metric = _new(TrialMetricData)
        metric.__dict__ = record
        return metric
    return TrialMetricData(**record)


def result_from_wire(record: Any) -> TrialResult:
    """``TrialResult(**record)``, reusing ``record`` as the instance's ``__dict__``."""
    if type(record) is dict and tuple(record) == _RESULT_KEYS:
        record["value"] = _loads(record["value"])
        result = _new(TrialResult)
        result.__dict__ = record
        return result
    return TrialResult(**record)


def _hyper_parameters_from_wire(text: Any) -> TrialHyperParameters:
    """``TrialHyperParameters(**json.loads(text))``."""
    record = _loads(text)
    if type(record) is dict and tuple(record) == _HYPER_KEYS:
        record["placement_constraint"] = None  # the two fields the dispatcher's records lack
        record["version_info"] = None
        hyper_parameters = _new(TrialHyperParameters)
        hyper_parameters.__dict__ = record
        return hyper_parameters
    return TrialHyperParameters(**record)


def trial_job_from_wire(record: Any) -> TrialJob:
    """``TrialJob(**record)``, without the keyword-argument call."""
    if type(record) is dict and "self" not in record:  # "self" would clash with the constructor's own
        try:  # before anything is decoded: a record lacking one goes to the constructor (its TypeError)
            required = record["trialJobId"], record["status"], record["startTime"], record["sequenceId"]
        except KeyError:
            pass
        else:
            get = record.get
            job = _new(TrialJob)
            job.__dict__ = {
                "trialJobId": required[0], "status": required[1],
                "hyperParameters": [_hyper_parameters_from_wire(hp) for hp in (get("hyperParameters") or [])],
                "logPath": get("logPath", ""), "startTime": required[2], "endTime": get("endTime", -1),
                "finalMetricData": [metric_from_wire(metric) for metric in (get("finalMetricData") or [])],
                "stderrPath": get("stderrPath", ""), "sequenceId": required[3], "message": get("message", "--"),
            }
            return job
    return TrialJob(**record)
