"""The fake's per-experiment database: what the real manager keeps in ``db/nni.sqlite``.

Trial records are the fold of trial events, with the real data store's replay rules (a
``USER_TO_CANCEL`` event reads as USER_CANCELED even after SUCCEEDED, ``ADD_RESUMED`` shows as a
status, one hyper-parameter string per distinct ``parameter_index``, ...). The fold is kept up to
date as events arrive instead of being replayed on every query. A store outlives the manager
process that wrote it, which is what resume and view read.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Optional

from .wire import js_dumps

__all__ = ["ExperimentStore", "StoreListener", "TERMINAL_EVENTS"]

#: ``listener(kind, row)``; see :meth:`ExperimentStore.add_listener`.
StoreListener = Callable[[str, Dict[str, Any]], None]

TERMINAL_EVENTS = frozenset({"SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED"})


class ExperimentStore:
    """Profile revisions, trial events folded into records, metrics and imported data."""

    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = experiment_id
        self.stored_profile: Optional[Dict[str, Any]] = None
        self._records: Dict[str, Dict[str, Any]] = {}
        self._parameter_indexes: Dict[str, set] = {}
        self.metrics: List[Dict[str, Any]] = []
        self._final_metrics: Dict[str, Dict[str, Any]] = {}
        self.imported_data: List[str] = []
        #: Trial output files (trial.log, trial.stdout, trial.stderr) by trial id.
        self.trial_files: Dict[str, Dict[str, str]] = {}
        self._listeners: List[StoreListener] = []

    # -- change notification (incremental persistence)
    def add_listener(self, listener: StoreListener) -> None:
        """Call ``listener(kind, row)`` after each write the real manager makes to its database:
        ``("profile", profile)`` for every stored revision, ``("event", row)`` with the columns of a
        ``TrialJobEvent`` row, ``("metric", row)`` with those of a ``MetricData`` row. Rows are shared
        with the store: a listener must not modify them."""
        self._listeners.append(listener)

    def _notify(self, kind: str, row: Dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(kind, row)

    # -- profile
    def store_profile(self, profile: Dict[str, Any]) -> None:
        """Keep a copy of ``profile`` as the latest stored revision.

        The copy shares ``params``: the simulated manager never changes a params dict in place
        (an update installs a new one), so a stored revision stays as it was.
        """
        self.stored_profile = dict(profile)
        if self._listeners:
            self._notify("profile", self.stored_profile)

    # -- trial events
    def add_event(self, event: str, trial_job_id: str, timestamp: int, data: Optional[str] = None,
                  log_path: Optional[str] = None, sequence_id: Optional[int] = None,
                  env_id: Optional[str] = None) -> None:
        """Record one trial event (``RUNNING``, ``SUCCEEDED``, ``USER_TO_CANCEL``, ``IMPORT_DATA`` ...)."""
        if self._listeners:
            self._notify("event", {
                "timestamp": timestamp, "trialJobId": trial_job_id, "event": event, "data": data,
                "logPath": log_path, "sequenceId": sequence_id, "message": None, "environmentId": env_id,
            })
        if event == "IMPORT_DATA" and data:
            self.imported_data.append(data)
        if not trial_job_id:
            return
        record = self._records.get(trial_job_id)
        if record is None:
            record = {"trialJobId": trial_job_id, "status": _status_after("UNKNOWN", event), "hyperParameters": []}
            self._records[trial_job_id] = record
        if event in ("RUNNING", "WAITING"):
            if event == "RUNNING":
                record["startTime"] = timestamp
            if log_path is not None:
                record["logPath"] = log_path
            record.setdefault("startTime", timestamp)
        elif event in TERMINAL_EVENTS:
            if log_path is not None:
                record["logPath"] = log_path
            record["endTime"] = timestamp
            record.setdefault("startTime", timestamp)
        record["status"] = _status_after(record["status"], event)
        if data is not None and data.strip():
            self._add_hyper_parameter(record, data)
        if sequence_id is not None and "sequenceId" not in record:
            record["sequenceId"] = sequence_id
        if env_id:
            record["envId"] = env_id

    def _add_hyper_parameter(self, record: Dict[str, Any], data: str) -> None:
        try:
            parsed = json.loads(data)
        except ValueError:
            return
        index = parsed.get("parameter_index") if isinstance(parsed, dict) else None
        seen = self._parameter_indexes.setdefault(record["trialJobId"], set())
        if index not in seen:
            seen.add(index)
            record["hyperParameters"].append(js_dumps(parsed))

    def has_trial(self, trial_job_id: str) -> bool:
        return trial_job_id in self._records

    def trial_status(self, trial_job_id: str) -> Optional[str]:
        record = self._records.get(trial_job_id)
        return None if record is None else str(record["status"])

    def trials(self, status: Optional[str] = None, trial_job_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Trial records as ``GET /trial-jobs`` lists them (SUCCEEDED ones carry ``finalMetricData``)."""
        if trial_job_id is not None:
            records: Iterable[Dict[str, Any]] = [self._records[trial_job_id]] if trial_job_id in self._records else []
        else:
            records = self._records.values()
        result = []
        for record in records:
            if status is not None and record["status"] != status:
                continue
            item = dict(record)
            item["hyperParameters"] = list(record["hyperParameters"])
            if record["status"] == "SUCCEEDED":
                final = self._final_metrics.get(record["trialJobId"])
                if final is not None:
                    item["finalMetricData"] = [dict(final)]
            result.append(item)
        return result

    def statistics(self) -> List[Dict[str, Any]]:
        """``[{trialJobStatus, trialJobNumber}]`` for the statuses present, in first-seen order."""
        counts: Dict[str, int] = {}
        for record in self._records.values():
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return [{"trialJobStatus": status, "trialJobNumber": number} for status, number in counts.items()]

    # -- metrics
    def add_metric(self, row: Dict[str, Any]) -> None:
        """Store a metric row ``{timestamp, trialJobId, parameterId, type, sequence, data}``."""
        self.metrics.append(row)
        if self._listeners:
            self._notify("metric", row)
        if row["type"] == "FINAL":
            self._final_metrics.setdefault(row["trialJobId"], row)

    def metric_rows(self, trial_job_id: Optional[str] = None,
                    metric_type: Optional[str] = None) -> List[Dict[str, Any]]:
        return [
            dict(row) for row in self.metrics
            if (trial_job_id is None or row["trialJobId"] == trial_job_id)
            and (metric_type is None or row["type"] == metric_type)
        ]

    def export_data(self) -> List[Dict[str, Any]]:
        """``/export-data``: each trial that has parameters and a final metric (i.e. SUCCEEDED)."""
        exported: List[Dict[str, Any]] = []
        for job in self.trials():
            finals = job.get("finalMetricData")
            hyper = job["hyperParameters"]
            if not hyper or not finals:
                continue
            if len(hyper) == 1 and len(finals) == 1:
                exported.append({
                    "parameter": json.loads(hyper[0]).get("parameters"),
                    "value": json.loads(finals[0]["data"]),
                    "trialJobId": job["trialJobId"],
                })
                continue
            by_parameter_id = {}
            for text in hyper:
                parsed = json.loads(text)
                by_parameter_id[parsed.get("parameter_id")] = parsed.get("parameters")
            values = {_number(m["parameterId"]): json.loads(m["data"]) for m in finals}
            for parameter_id, parameters in by_parameter_id.items():
                value = values.get(parameter_id)
                if value:
                    exported.append({"parameter": parameters, "value": value, "trialJobId": job["trialJobId"]})
        return exported


def _status_after(status: str, event: str) -> str:
    if event == "USER_TO_CANCEL":
        return "USER_CANCELED"
    if event == "ADD_CUSTOMIZED":
        return "WAITING"
    if event == "ADD_HYPERPARAMETER":
        return status
    return event


def _number(value: Any) -> Any:
    """JavaScript's ``Number(value)`` for the ids stored as text."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
