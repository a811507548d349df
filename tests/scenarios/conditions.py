"""Logical points of a scenario ("trial 0 is RUNNING", "the experiment is DONE"), as data.

A scenario waits for a :class:`Condition` rather than for a time span, so that the same step means
the same thing on every target, and a transcript recorded on the real manager can be replayed on the
in-memory fake by driving its virtual clock to the same point. A condition is checked against a
:class:`Snapshot` (one ``/check-status`` and one ``/trial-jobs`` answer) and serializes to JSON.

Trials are named by their index ``k`` in submission order (the order of ``/trial-jobs``), which is
the same on every target; see :class:`tests.scenarios.session.Session`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

__all__ = ["Condition", "Snapshot", "status", "count", "total", "trial", "trial_has", "metrics", "all_of",
           "any_of", "none_in"]


@dataclass(frozen=True)
class Snapshot:
    """What one poll saw: the experiment status, the trial records (submission order) and, when a
    condition needs them (:attr:`Condition.needs_metrics`), the metrics (``/metric-data``)."""

    status: str
    trials: Tuple[Dict[str, Any], ...]
    metrics: Tuple[Dict[str, Any], ...] = ()

    def counts(self) -> Dict[str, int]:
        """Trials per status, in first-seen order (as ``/job-statistics``)."""
        result: Dict[str, int] = {}
        for job in self.trials:
            result[job["status"]] = result.get(job["status"], 0) + 1
        return result


@dataclass(frozen=True)
class Condition:
    """A predicate on a :class:`Snapshot`; build one with the functions of this module."""

    kind: str
    args: Tuple[Any, ...]

    def check(self, snapshot: Snapshot) -> bool:
        """Whether ``snapshot`` satisfies the condition."""
        if self.kind == "status":
            return snapshot.status in self.args
        if self.kind == "count":
            wanted, number = self.args
            return sum(1 for job in snapshot.trials if wanted in ("*", job["status"])) >= number
        if self.kind == "total":
            return len(snapshot.trials) >= self.args[0]
        if self.kind == "none":
            return not any(job["status"] in self.args for job in snapshot.trials)
        if self.kind == "trial":
            index, wanted = self.args
            return index < len(snapshot.trials) and snapshot.trials[index]["status"] == wanted
        if self.kind == "trial_has":
            index, key = self.args
            return index < len(snapshot.trials) and key in snapshot.trials[index]
        if self.kind == "metrics":
            index, number = self.args
            if index >= len(snapshot.trials):
                return False
            trial_id = snapshot.trials[index]["trialJobId"]
            return sum(1 for metric in snapshot.metrics if metric.get("trialJobId") == trial_id) >= number
        if self.kind == "all":
            return all(part.check(snapshot) for part in self.args)
        if self.kind == "any":
            return any(part.check(snapshot) for part in self.args)
        raise ValueError(f"unknown condition kind {self.kind!r}")

    @property
    def needs_metrics(self) -> bool:
        """Whether checking needs the metrics (one more request per poll)."""
        if self.kind in ("all", "any"):
            return any(part.needs_metrics for part in self.args)
        return self.kind == "metrics"

    def to_json(self) -> Dict[str, Any]:
        """``{"kind": ..., "args": [...]}`` (nested conditions as objects)."""
        args: List[Any] = [a.to_json() if isinstance(a, Condition) else a for a in self.args]
        return {"kind": self.kind, "args": args}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Condition:
        """The inverse of :meth:`to_json`."""
        kind = data["kind"]
        args = data["args"]
        if kind in ("all", "any"):
            return cls(kind, tuple(cls.from_json(a) for a in args))
        return cls(kind, tuple(args))

    def __str__(self) -> str:
        if self.kind in ("all", "any"):
            joiner = " and " if self.kind == "all" else " or "
            return "(" + joiner.join(str(a) for a in self.args) + ")"
        if self.kind == "status":
            return "status in " + "/".join(self.args)
        if self.kind == "count":
            return f"{self.args[1]}+ trials {self.args[0]}"
        if self.kind == "total":
            return f"{self.args[0]}+ trials"
        if self.kind == "none":
            return "no trial " + "/".join(self.args)
        if self.kind == "trial":
            return f"trial {self.args[0]} {self.args[1]}"
        if self.kind == "metrics":
            return f"trial {self.args[0]} reported {self.args[1]}+ metrics"
        return f"trial {self.args[0]} has {self.args[1]}"


def status(*statuses: str) -> Condition:
    """The experiment status is one of ``statuses``."""
    return Condition("status", tuple(statuses))


def count(trial_status: str, number: int) -> Condition:
    """At least ``number`` trials have ``trial_status`` (``"*"``: any status)."""
    return Condition("count", (trial_status, number))


def total(number: int) -> Condition:
    """At least ``number`` trials were submitted."""
    return Condition("total", (number,))


def trial(index: int, trial_status: str) -> Condition:
    """Trial ``index`` (submission order) has ``trial_status``."""
    return Condition("trial", (index, trial_status))


def trial_has(index: int, key: str) -> Condition:
    """Trial ``index``'s record has the key ``key`` (e.g. ``endTime``)."""
    return Condition("trial_has", (index, key))


def metrics(index: int, number: int) -> Condition:
    """Trial ``index`` has reported at least ``number`` metrics (intermediate or final)."""
    return Condition("metrics", (index, number))


def none_in(*statuses: str) -> Condition:
    """No trial has one of ``statuses`` (e.g. none is RUNNING or WAITING any more)."""
    return Condition("none", tuple(statuses))


def all_of(*conditions: Condition) -> Condition:
    """Every one of ``conditions`` holds."""
    return Condition("all", tuple(conditions))


def any_of(*conditions: Condition) -> Condition:
    """At least one of ``conditions`` holds."""
    return Condition("any", tuple(conditions))
