"""The fake's per-experiment database: what the real manager keeps in ``db/nni.sqlite``.

Trial records are the fold of trial events, with the real data store's replay rules (a
``USER_TO_CANCEL`` event reads as USER_CANCELED even after SUCCEEDED, ``ADD_RESUMED`` shows as a
status, one hyper-parameter string per distinct ``parameter_index``, ...). The fold is kept up to
date as events arrive instead of being replayed on every query. A store outlives the manager
process that wrote it, which is what resume and view read.

Each trial's wire JSON (as ``GET /trial-jobs`` and ``/export-data`` show it) and each metric row's is
encoded once and kept until the trial changes: a query joins ready-made texts. For the in-memory
backend, ``/trial-jobs`` and ``/metric-data`` are also answered as the values those texts decode to
(:meth:`ExperimentStore.trials_value`, :meth:`ExperimentStore.metrics_value`; see :mod:`fakes.wire_rows`):
a trial's item is kept the same way, a metric row is made into a dict on each query. A trial that ended
changes only on a rare event (``USER_TO_CANCEL`` after the end, a first final metric), which drops
its texts. Metric rows are kept as tuples (a third of a dict's memory; there is one per reported
result) and shown as dicts; trial records are :class:`~fakes.trial_record.TrialRecord` objects.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from .trial_files import TrialFiles
from .trial_record import TERMINAL_EVENTS, LogDirectory, TrialRecord
from .wire import js_dumps
from .wire_rows import (
    KeptTrial,
    MetricRow,
    kept_listed_trial,
    listed_trial_value,
    metric_dict,
    metric_json,
    metric_value,
    plain_listed_trial,
    usual_metric_row,
    usual_metric_values,
)

__all__ = ["ExperimentStore", "StoreListener", "TERMINAL_EVENTS", "HyperParameterEntry", "hyper_parameter_entry",
           "metric_json"]

#: ``listener(kind, row)``; see :meth:`ExperimentStore.add_listener`.
StoreListener = Callable[[str, Dict[str, Any]], None]

#: What the store keeps of an event's hyper-parameter data: its ``parameter_index`` and its wire JSON.
HyperParameterEntry = Tuple[Any, str]

class ExperimentStore:
    """Profile revisions, trial events folded into records, metrics and imported data."""

    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = experiment_id
        self.stored_profile: Optional[Dict[str, Any]] = None
        self._records: Dict[str, TrialRecord] = {}
        #: The directories trials' log paths are made of (one per experiment, as a rule).
        self._log_directories: Dict[str, LogDirectory] = {}
        #: The ``parameter_index`` values seen per trial, for trials with more than one hyper-parameter
        #: string (a trial's first index is read back from its only string instead).
        self._parameter_indexes: Dict[str, set] = {}
        self._metrics: List[MetricRow] = []
        self._final_metrics: Dict[str, MetricRow] = {}
        #: Wire JSON of each trial record as ``GET /trial-jobs`` lists it, dropped when the trial changes.
        self._trial_texts: Dict[str, str] = {}
        #: Wire JSON of each trial's ``/export-data`` entries (joined by commas; '' for none), same life.
        self._export_texts: Dict[str, str] = {}
        #: Wire JSON of ``_metrics[i]``, for the first ``len(_metric_texts)`` rows (rows never change).
        self._metric_texts: List[str] = []
        #: ``GET /trial-jobs``'s item of each trial as a value (:func:`~fakes.wire_rows.kept_listed_trial`;
        #: or, when not plain, its wire JSON), for :meth:`trials_value`; dropped with the trial's texts.
        self._trial_items: Dict[str, Union[KeptTrial, str]] = {}
        #: How many metric rows :meth:`metrics_value` has looked at, and whether all were usual.
        self._rows_checked = 0
        self._all_rows_usual = True
        self.imported_data: List[str] = []
        #: Trial output files (trial.log, trial.stdout, trial.stderr) by trial id.
        self.trial_files = TrialFiles(self._start_time)
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
                  env_id: Optional[str] = None, hyper: Optional[HyperParameterEntry] = None) -> None:
        """Record one trial event (``RUNNING``, ``SUCCEEDED``, ``USER_TO_CANCEL``, ``IMPORT_DATA`` ...).

        ``hyper`` is :func:`hyper_parameter_entry` of ``data`` parsed, when the caller has it at hand
        (the store then neither parses nor encodes ``data`` again)."""
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
            record = self._records[trial_job_id] = TrialRecord(trial_job_id, event)
        else:
            self._forget_answers(trial_job_id)
        record.fold(event, timestamp, None if log_path is None else self._log_value(trial_job_id, log_path),
                    sequence_id, env_id)
        if hyper is not None:
            self._add_hyper_parameter(record, hyper)
        elif data is not None and data.strip():
            try:
                parsed = json.loads(data)
            except ValueError:
                pass
            else:
                self._add_hyper_parameter(record, hyper_parameter_entry(parsed))

    def _log_value(self, trial_job_id: str, log_path: str) -> str:
        """What a record keeps of ``log_path``: the experiment's :class:`LogDirectory` when the path is it
        followed by the trial id."""
        if type(log_path) is str and trial_job_id and log_path.endswith(trial_job_id):
            prefix = log_path[:-len(trial_job_id)]
            directory = self._log_directories.get(prefix)
            if directory is None:
                directory = self._log_directories[prefix] = LogDirectory(prefix)
            return directory
        return log_path

    def _add_hyper_parameter(self, record: TrialRecord, entry: HyperParameterEntry) -> None:
        """One hyper-parameter string per distinct ``parameter_index``, as the real data store replays them."""
        index, text = entry
        hyper = record.hyper_parameters
        trial_job_id = record.trialJobId
        if not hyper:
            record.add_hyper_parameter(text)
            if index is not None and type(index) is not int:  # may not read back as itself (NaN, 1.5 ...)
                self._parameter_indexes[trial_job_id] = {index}
            return
        seen = self._parameter_indexes.get(trial_job_id)
        if seen is None:
            seen = self._parameter_indexes[trial_job_id] = {_parameter_index(hyper[0])}
        if index not in seen:
            seen.add(index)
            record.add_hyper_parameter(text)

    def _start_time(self, trial_job_id: str) -> int:
        return int(self._records[trial_job_id].startTime)

    def has_trial(self, trial_job_id: str) -> bool:
        return trial_job_id in self._records

    def same_trial_id(self, trial_job_id: str) -> str:
        """The store's own string for ``trial_job_id`` (``trial_job_id`` itself for an unknown trial): a
        reader that keeps trial ids can keep this one instead of a copy."""
        record = self._records.get(trial_job_id)
        return trial_job_id if record is None else record.trialJobId

    def trial_status(self, trial_job_id: str) -> Optional[str]:
        record = self._records.get(trial_job_id)
        return None if record is None else str(record.status)

    def trials(self) -> List[Dict[str, Any]]:
        """Every trial record as ``GET /trial-jobs`` lists it (SUCCEEDED ones carry ``finalMetricData``;
        :meth:`trials_json` adds ``stderrPath`` to FAILED ones), in submission order."""
        return [self._listed(record) for record in self._records.values()]

    def _listed(self, record: TrialRecord) -> Dict[str, Any]:
        item = record.as_dict()
        if record.status == "SUCCEEDED":
            final = self._final_metrics.get(record.trialJobId)
            if final is not None:
                item["finalMetricData"] = [metric_dict(final)]
        return item

    def _wire_item(self, record: TrialRecord) -> Dict[str, Any]:
        """A trial as ``GET /trial-jobs`` shows it: :meth:`_listed` with ``stderrPath`` on a FAILED trial."""
        return _with_error_path(self._listed(record))

    def _records_with(self, status: Optional[str]) -> Iterator[Tuple[str, TrialRecord]]:
        """``(trial id, record)`` of every trial, or of those with ``status``, in submission order."""
        if status is None:
            return iter(self._records.items())
        return ((trial_job_id, record) for trial_job_id, record in self._records.items() if record.status == status)

    def trials_json(self, status: Optional[str] = None) -> str:
        """``GET /trial-jobs`` as wire JSON: :meth:`trials` with ``stderrPath`` on FAILED trials."""
        texts = self._trial_texts
        parts = []
        for trial_job_id, record in self._records_with(status):
            text = texts.get(trial_job_id)
            if text is None:
                text = texts[trial_job_id] = js_dumps(self._wire_item(record))
            parts.append(text)
        return "[" + ",".join(parts) + "]"

    def trials_value(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """``json.loads(trials_json(status))``, made without the text for plain trials (new values)."""
        items = self._trial_items
        value: List[Dict[str, Any]] = []
        for trial_job_id, record in self._records_with(status):
            item = items.get(trial_job_id)
            if item is None:
                listed = self._wire_item(record)
                item = items[trial_job_id] = kept_listed_trial(listed) if plain_listed_trial(listed) \
                    else js_dumps(listed)
            value.append(json.loads(item) if isinstance(item, str) else listed_trial_value(item))
        return value

    def _forget_answers(self, trial_job_id: str) -> None:
        """Drop what is kept of a trial's answers: it changed."""
        self._trial_texts.pop(trial_job_id, None)
        self._export_texts.pop(trial_job_id, None)
        self._trial_items.pop(trial_job_id, None)

    def trial_json(self, trial_job_id: str) -> Optional[str]:
        """``GET /trial-jobs/:id`` as wire JSON, None for an unknown trial."""
        record = self._records.get(trial_job_id)
        if record is None:
            return None
        text = self._trial_texts.get(trial_job_id)
        if text is None:
            text = self._trial_texts[trial_job_id] = js_dumps(self._wire_item(record))
        return text

    def statistics(self) -> List[Dict[str, Any]]:
        """``[{trialJobStatus, trialJobNumber}]`` for the statuses present, in first-seen order."""
        counts: Dict[str, int] = {}
        for record in self._records.values():
            counts[record.status] = counts.get(record.status, 0) + 1
        return [{"trialJobStatus": status, "trialJobNumber": number} for status, number in counts.items()]

    # -- metrics
    def add_metric(self, row: Dict[str, Any]) -> None:
        """Store a metric row ``{timestamp, trialJobId, parameterId, type, sequence, data}``."""
        kept = (row["timestamp"], row["trialJobId"], row["parameterId"], row["type"], row["sequence"], row["data"])
        self._metrics.append(kept)
        if self._listeners:
            self._notify("metric", row)
        if kept[3] == "FINAL":
            trial_job_id = kept[1]
            if trial_job_id not in self._final_metrics:
                self._final_metrics[trial_job_id] = kept
                self._forget_answers(trial_job_id)

    @property
    def metrics(self) -> List[Dict[str, Any]]:
        """Every metric row, in arrival order (new dicts)."""
        return [metric_dict(row) for row in self._metrics]

    def metric_rows(self, trial_job_id: Optional[str] = None,
                    metric_type: Optional[str] = None) -> List[Dict[str, Any]]:
        return [
            metric_dict(row) for row in self._metrics if _row_matches(row, trial_job_id, metric_type)
        ]

    def metrics_json(self, trial_job_id: Optional[str] = None, metric_type: Optional[str] = None) -> str:
        """:meth:`metric_rows` as wire JSON."""
        texts = self._metric_texts
        rows = self._metrics
        if len(texts) < len(rows):
            texts.extend(map(metric_json, rows[len(texts):]))
        if trial_job_id is None and metric_type is None:
            return "[" + ",".join(texts) + "]"
        return "[" + ",".join(
            text for row, text in zip(rows, texts) if _row_matches(row, trial_job_id, metric_type)
        ) + "]"

    def metrics_value(self, trial_job_id: Optional[str] = None,
                      metric_type: Optional[str] = None) -> List[Dict[str, Any]]:
        """``json.loads(metrics_json(...))``, made without the text when every row is usual (new values)."""
        rows = self._metrics
        if self._rows_checked < len(rows):
            self._all_rows_usual = self._all_rows_usual and all(map(usual_metric_row, rows[self._rows_checked:]))
            self._rows_checked = len(rows)
        if trial_job_id is not None or metric_type is not None:
            rows = [row for row in rows if _row_matches(row, trial_job_id, metric_type)]
        return usual_metric_values(rows) if self._all_rows_usual else list(map(metric_value, rows))

    def export_data(self) -> List[Dict[str, Any]]:
        """``/export-data``: each trial that has parameters and a final metric (i.e. SUCCEEDED)."""
        exported: List[Dict[str, Any]] = []
        for record in self._records.values():
            exported.extend(self._exported(record))
        return exported

    def export_json(self) -> str:
        """:meth:`export_data` as wire JSON."""
        texts = self._export_texts
        parts = []
        for trial_job_id, record in self._records.items():
            text = texts.get(trial_job_id)
            if text is None:
                text = texts[trial_job_id] = ",".join(js_dumps(entry) for entry in self._exported(record))
            if text:
                parts.append(text)
        return "[" + ",".join(parts) + "]"

    def _exported(self, record: TrialRecord) -> List[Dict[str, Any]]:
        """A trial's ``/export-data`` entries."""
        if record.status != "SUCCEEDED":
            return []
        hyper = record.hyper_parameters
        trial_job_id = record.trialJobId
        final = self._final_metrics.get(trial_job_id)
        if not hyper or final is None:
            return []
        if len(hyper) == 1:
            return [{"parameter": json.loads(hyper[0]).get("parameters"), "value": json.loads(final[5]),
                     "trialJobId": trial_job_id}]
        by_parameter_id = {}
        for text in hyper:
            parsed = json.loads(text)
            by_parameter_id[parsed.get("parameter_id")] = parsed.get("parameters")
        values = {_number(final[2]): json.loads(final[5])}
        return [{"parameter": parameters, "value": values[parameter_id], "trialJobId": trial_job_id}
                for parameter_id, parameters in by_parameter_id.items() if values.get(parameter_id)]


def hyper_parameter_entry(parsed: Any) -> HyperParameterEntry:
    """The ``parameter_index`` and wire JSON of an event's parsed hyper-parameter data."""
    return (parsed.get("parameter_index") if isinstance(parsed, dict) else None), js_dumps(parsed)


def _row_matches(row: MetricRow, trial_job_id: Optional[str], metric_type: Optional[str]) -> bool:
    """Whether a metric row is one ``GET /metric-data[/<trial>][?type=<type>]`` lists (None: any)."""
    return (trial_job_id is None or row[1] == trial_job_id) and (metric_type is None or row[3] == metric_type)


def _with_error_path(job: Dict[str, Any]) -> Dict[str, Any]:
    """FAILED trials carry ``stderrPath`` = ``<logPath>/stderr`` (a file that does not exist)."""
    if job.get("status") == "FAILED" and "logPath" in job:
        job["stderrPath"] = job["logPath"] + "/stderr"
    return job


def _parameter_index(text: str) -> Any:
    """The ``parameter_index`` of a stored hyper-parameter string (None when it has none)."""
    parsed = json.loads(text)
    return parsed.get("parameter_index") if isinstance(parsed, dict) else None


def _number(value: Any) -> Any:
    """JavaScript's ``Number(value)`` for the ids stored as text."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
