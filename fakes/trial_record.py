"""A trial's record in the fake's store: the fold of its events, in a third of a dict's memory.

The store keeps one record per trial for the experiment's life, a million of them in a long run. A
record holds its values in slots and the wire keys it has, in the order they were first set (the order
``GET /trial-jobs`` shows them in), as one tuple shared by every record with the same keys. Two values
are kept smaller than they show:

* ``logPath``, almost always the experiment's trials directory followed by the trial id, keeps only
  the directory (:class:`LogDirectory`, one object per experiment);
* ``hyperParameters``, almost always one string, keeps it without a list around it.

The fold follows the real data store's replay: a ``USER_TO_CANCEL`` event reads as USER_CANCELED even
after SUCCEEDED, ``ADD_RESUMED`` shows as a status, ``ADD_HYPERPARAMETER`` keeps the status.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = ["TrialRecord", "LogDirectory", "TERMINAL_EVENTS", "status_after"]

TERMINAL_EVENTS = frozenset({"SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED"})

#: The keys a record has from its first event, in wire order.
_FIRST_KEYS: Tuple[str, ...] = ("trialJobId", "status", "hyperParameters")
#: Events add ``startTime``, ``logPath``, ``sequenceId``, ``envId`` and ``endTime``, each in the order of
#: its first event (``finalMetricData`` and ``stderrPath`` are added when a record is listed).
#: The key orders reached so far, each with the orders one more key leads to: a record's order is one of
#: a handful of shared tuples, found without building a new one.
_NEXT_KEYS: Dict[Tuple[str, ...], Dict[str, Tuple[str, ...]]] = {}


def _with_key(keys: Tuple[str, ...], key: str) -> Tuple[str, ...]:
    following = _NEXT_KEYS.get(keys)
    if following is None:
        following = _NEXT_KEYS[keys] = {}
    extended = following.get(key)
    if extended is None:
        extended = following[key] = keys + (key,)
    return extended


def status_after(status: str, event: str) -> str:
    """A trial's status once ``event`` is replayed on ``status``."""
    if event == "USER_TO_CANCEL":
        return "USER_CANCELED"
    if event == "ADD_CUSTOMIZED":
        return "WAITING"
    if event == "ADD_HYPERPARAMETER":
        return status
    return event


class LogDirectory(str):
    """A directory whose trials' ``logPath`` is the directory followed by the trial id: kept as a
    record's log path, it reads as that path."""

    __slots__ = ()


class TrialRecord:
    """What ``GET /trial-jobs`` shows of one trial (before ``finalMetricData`` and ``stderrPath``).

    Changed only by :meth:`fold` (one event) and :meth:`add_hyper_parameter`; read like a dict
    (``record["startTime"]``, ``"endTime" in record``) or as a new plain dict (:meth:`as_dict`)."""

    __slots__ = ("_keys", "trialJobId", "status", "_hyper", "startTime", "_log", "sequenceId", "envId", "endTime")
    # set by fold() when their key is first set: the record's keys say which are there
    startTime: Any
    _log: Any  # logPath: the path, or a LogDirectory standing for it
    sequenceId: Any
    envId: Any
    endTime: Any

    def __init__(self, trial_job_id: str, first_event: str) -> None:
        self._keys = _FIRST_KEYS
        self.trialJobId = trial_job_id
        self.status = status_after("UNKNOWN", first_event)
        #: No string (None), one string, or a list of two or more.
        self._hyper: Union[None, str, List[str]] = None

    def fold(self, event: str, timestamp: int, log: Optional[str], sequence_id: Optional[int],
             env_id: Optional[str]) -> None:
        """Apply one event's columns (its hyper-parameters go through :meth:`add_hyper_parameter`).
        ``log`` is the event's log path, or a :class:`LogDirectory` standing for it."""
        keys = self._keys
        terminal = event in TERMINAL_EVENTS
        if terminal or event == "RUNNING" or event == "WAITING":
            # keys are set in this order: RUNNING gives startTime then logPath, WAITING logPath then
            # startTime, an end logPath, endTime, then startTime if the trial never started
            if event == "RUNNING":
                keys = self._set(keys, "startTime", timestamp)
            if log is not None:
                keys = self._set(keys, "logPath", log)
            if terminal:
                keys = self._set(keys, "endTime", timestamp)
            if "startTime" not in keys:
                keys = self._set(keys, "startTime", timestamp)
        self.status = status_after(self.status, event)
        if sequence_id is not None and "sequenceId" not in keys:
            keys = self._set(keys, "sequenceId", sequence_id)
        if env_id:
            keys = self._set(keys, "envId", env_id)
        self._keys = keys

    def _set(self, keys: Tuple[str, ...], key: str, value: Any) -> Tuple[str, ...]:
        """Set ``key`` (``logPath`` is kept in ``_log``); the key order ``keys`` with ``key`` in it."""
        setattr(self, "_log" if key == "logPath" else key, value)
        return keys if key in keys else _with_key(keys, key)

    @property
    def hyper_parameters(self) -> List[str]:
        """The hyper-parameter strings (a new list)."""
        hyper = self._hyper
        if hyper is None:
            return []
        return [hyper] if type(hyper) is str else list(hyper)

    def add_hyper_parameter(self, text: str) -> None:
        hyper = self._hyper
        if hyper is None:
            self._hyper = text
        elif isinstance(hyper, str):
            self._hyper = [hyper, text]
        else:
            hyper.append(text)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        if key == "hyperParameters":
            return self.hyper_parameters
        if key == "logPath":
            log = self._log
            return str.__add__(log, self.trialJobId) if type(log) is LogDirectory else log
        return getattr(self, key)

    def as_dict(self) -> Dict[str, Any]:
        """The record as a new plain dict, keys in wire order."""
        return {key: self[key] for key in self._keys}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.as_dict()!r})"
