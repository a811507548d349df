"""Experiment stores on disk, where and how the real NNI manager keeps them.

:class:`SqliteStorage` is a :class:`fakes.manager.StoreStorage`: each experiment lives in
``<experiments_directory>/<id>/db/nni.sqlite`` with NNI 3.0's tables (``nni_node/core/sqlDatabase.js``):

* ``TrialJobEvent(timestamp, trialJobId, event, data, logPath, sequenceId, message, environmentId)``:
  one row per trial event, in the order they happened; trial records are their replay;
* ``MetricData(timestamp, trialJobId, parameterId, type, sequence, data)``: one row per metric,
  ``data`` double-encoded as the manager stores it;
* ``ExperimentProfile(params, id, execDuration, startTime, endTime, logDir, nextSequenceId, revision)``:
  one row per stored profile revision, ``params`` the config as JSON text.

So NNI's own tools read what the fake wrote (``nnictl``, ``nni.experiment.launcher.
get_stopped_experiment_config_json`` reads ``params`` of the highest ``revision``), and a later
fake manager process started with ``--action resume``/``view`` rebuilds the same
:class:`~fakes.store.ExperimentStore` with :meth:`SqliteStorage.load`. Trial output files
(``trial.log``, ``trial.stdout``, ``trial.stderr``) go where the local training service puts them:
``<experiments_directory>/<id>/environments/local-env/trials/<trialId>/``.

Persistence is incremental: :meth:`SqliteStorage.attach` (done by :meth:`load`, and by the fake
server right after a ``create``) subscribes to the store's changes and queues one row per change;
:meth:`SqliteStorage.flush` writes the queued rows in one transaction (the server flushes a few
times per second, and calls :meth:`SqliteStorage.flush_pending` before sending each answer, so
that a client never reads a change that a ``kill -9`` could still take away) and
:meth:`SqliteStorage.save` (called when the simulated manager exits) flushes what is left. A
store that was never attached is written at :meth:`save` as a reconstruction: its latest profile,
a few events per trial that replay to the same trial record, its imported data and all its metrics.

As the real manager does with an existing database on ``--action create``, the tables are
created only when missing, and new rows are appended to existing ones.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from nni_exp.sqlite_journal import roll_back_interrupted_write

from .store import TERMINAL_EVENTS, ExperimentStore
from .trial_files import TRIAL_FILE_NAMES
from .wire import UNDEFINED, js_dumps

__all__ = ["SqliteStorage", "database_path", "trials_directory", "SCHEMA", "TRIAL_FILE_NAMES"]

#: NNI 3.0's tables and indexes (``IF NOT EXISTS`` so that an existing database is appended to).
SCHEMA = """
create table if not exists TrialJobEvent (
    timestamp integer,
    trialJobId text,
    event text,
    data text,
    logPath text,
    sequenceId integer,
    message text,
    environmentId text);
create index if not exists TrialJobEvent_trialJobId on TrialJobEvent(trialJobId);
create index if not exists TrialJobEvent_event on TrialJobEvent(event);

create table if not exists MetricData (
    timestamp integer, trialJobId text, parameterId text, type text, sequence integer, data text);
create index if not exists MetricData_trialJobId on MetricData(trialJobId);
create index if not exists MetricData_type on MetricData(type);

create table if not exists ExperimentProfile (
    params text,
    id text,
    execDuration integer,
    startTime integer,
    endTime integer,
    logDir text,
    nextSequenceId integer,
    revision integer);
create index if not exists ExperimentProfile_id on ExperimentProfile(id);
"""

_INSERT = {
    "ExperimentProfile": "insert into ExperimentProfile values (?,?,?,?,?,?,?,?)",
    "TrialJobEvent": "insert into TrialJobEvent values (?,?,?,?,?,?,?,?)",
    "MetricData": "insert into MetricData values (?,?,?,?,?,?)",
}
_SQLITE_TIMEOUT = 30.0

_Row = tuple[str, tuple[Any, ...]]


def database_path(experiment_id: str, experiments_directory: Union[str, Path]) -> Path:
    """``<experiments_directory>/<id>/db/nni.sqlite``."""
    return Path(experiments_directory) / experiment_id / "db" / "nni.sqlite"


def trials_directory(experiment_id: str, experiments_directory: Union[str, Path]) -> Path:
    """``<experiments_directory>/<id>/environments/local-env/trials``: one folder per trial."""
    return Path(experiments_directory) / experiment_id / "environments" / "local-env" / "trials"


def create_database(path: Union[str, Path]) -> None:
    """Create the database file with NNI's tables (existing tables and rows are kept)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(str(path), timeout=_SQLITE_TIMEOUT)) as connection:
        connection.executescript(SCHEMA)
        connection.commit()


class _Attachment:
    """One store subscribed to a database: rows queued by the store's listener, written by ``flush``."""

    def __init__(self, store: ExperimentStore, experiments_directory: str) -> None:
        self.store = store
        self.path = database_path(store.experiment_id, experiments_directory)
        self.trials = trials_directory(store.experiment_id, experiments_directory)
        self._pending: list[_Row] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()
        #: What the store held of each trial's files when they were written, by trial id (identity: a
        #: re-run trial gets new files, a scripted one a new manager's ScriptedLog).
        self._written_files: dict[str, object] = {}

    def on_change(self, kind: str, row: dict[str, Any]) -> None:
        """The store's listener: turn the change into an SQL row now (the store keeps changing)."""
        queued = _sql_row(kind, row)
        if queued is not None:
            with self._queue_lock:
                self._pending.append(queued)

    def queue(self, rows: list[_Row]) -> None:
        with self._queue_lock:
            self._pending.extend(rows)

    def mark_files_written(self, trial_job_id: str, files: Mapping[str, str]) -> None:
        self._written_files[trial_job_id] = files

    def flush(self) -> None:
        """Write the queued rows (one transaction) and the trial files not yet on disk."""
        with self._write_lock:
            self._flush_locked()

    def flush_pending(self) -> None:
        """:meth:`flush` when rows are queued; in any case return only once a write already under
        way (in another thread) is committed."""
        with self._write_lock:
            if self._pending:
                self._flush_locked()

    def _flush_locked(self) -> None:
        with self._queue_lock:
            rows, self._pending = self._pending, []
        if rows:
            try:
                if not self.path.exists():
                    create_database(self.path)
                with closing(sqlite3.connect(str(self.path), timeout=_SQLITE_TIMEOUT)) as connection:
                    with connection:
                        for table, values in rows:
                            connection.execute(_INSERT[table], values)
            except BaseException:
                with self._queue_lock:  # nothing was committed: keep the rows for the next flush
                    self._pending[:0] = rows
                raise
        self._write_trial_files()

    def _write_trial_files(self) -> None:
        trial_files = self.store.trial_files
        for trial_job_id, stored in trial_files.stored_items():
            if self._written_files.get(trial_job_id) is stored:
                continue
            files = trial_files[trial_job_id]
            folder = self.trials / trial_job_id
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in list(files.items()):
                (folder / name).write_text(content, encoding="utf-8")
            self._written_files[trial_job_id] = stored


class SqliteStorage:
    """Keeps each experiment in ``<experiments_directory>/<id>/db/nni.sqlite``, in NNI's schema.

    See the module docstring. Thread-safe: the store's listener only queues rows, and writes are
    serialized per database.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attached: dict[tuple[str, str], _Attachment] = {}

    def __repr__(self) -> str:
        return f"<SqliteStorage attached={len(self._attached)}>"

    # ------------------------------------------------------------------ StoreStorage protocol

    def load(self, experiment_id: str, experiments_directory: str) -> Optional[ExperimentStore]:
        """Rebuild the store of ``experiment_id`` from its database (None when there is none).

        The latest profile is the row with the highest ``revision`` (the later row on a tie),
        trial records are the replay of ``TrialJobEvent`` in insertion order, metrics come in
        insertion order, and the trial files are read back from the trial folders. A write the
        previous process left half done (killed) is rolled back first, as SQLite does. The store is
        attached (see :meth:`attach`), so whatever it records next is persisted.
        Raises :class:`sqlite3.DatabaseError` when the file is not an NNI database.
        """
        path = database_path(experiment_id, experiments_directory)
        if not path.is_file():
            return None
        store = ExperimentStore(experiment_id)
        roll_back_interrupted_write(path)  # the previous process was killed in the middle of a write
        uri = path.resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=_SQLITE_TIMEOUT)) as connection:
            connection.row_factory = sqlite3.Row
            profile_row = connection.execute(
                "select * from ExperimentProfile where id=? order by revision desc, rowid desc limit 1",
                (experiment_id,)).fetchone()
            if profile_row is not None:
                store.store_profile(_profile_from_row(profile_row))
            for row in connection.execute("select * from TrialJobEvent order by rowid"):
                store.add_event(row["event"], row["trialJobId"] or "", row["timestamp"], row["data"],
                                row["logPath"], row["sequenceId"], row["environmentId"])
            for row in connection.execute("select * from MetricData order by rowid"):
                store.add_metric({
                    "timestamp": row["timestamp"],
                    "trialJobId": row["trialJobId"],
                    "parameterId": row["parameterId"],
                    "type": row["type"],
                    "sequence": row["sequence"],
                    "data": row["data"],
                })
        attachment = self._attach(store, experiments_directory, create=False)
        trials = trials_directory(experiment_id, experiments_directory)
        for record in store.trials():
            folder = trials / record["trialJobId"]
            files = {name: (folder / name).read_text(encoding="utf-8")
                     for name in TRIAL_FILE_NAMES if (folder / name).is_file()}
            if files:
                store.trial_files[record["trialJobId"]] = files
                attachment.mark_files_written(record["trialJobId"], files)
        return store

    def save(self, store: ExperimentStore, experiments_directory: str) -> None:
        """Write everything of ``store`` not yet on disk (a reconstruction if it was never attached)."""
        with self._lock:
            attachment = self._attached.get((store.experiment_id, experiments_directory))
            known = attachment is not None and attachment.store is store
        if not known:
            attachment = self._attach(store, experiments_directory, create=True)
            attachment.queue(_snapshot_rows(store))
        assert attachment is not None
        attachment.flush()

    # ------------------------------------------------------------------ incremental persistence

    def attach(self, store: ExperimentStore, experiments_directory: str) -> None:
        """Persist every later change of ``store``, and create its database now if it has none
        (the real manager creates it at start-up, before ``POST /experiment``)."""
        self._attach(store, experiments_directory, create=True)

    def flush(self, store: Optional[ExperimentStore] = None) -> None:
        """Write the queued changes of ``store`` (default: of every attached store)."""
        with self._lock:
            attachments = [a for a in self._attached.values() if store is None or a.store is store]
        for attachment in attachments:
            attachment.flush()

    def flush_pending(self) -> None:
        """Commit the rows queued so far, of every attached store, and wait for a commit under way.

        Cheap when nothing is queued (a lock taken and released per store): the fake server calls
        it before each answer, so that whatever an answer shows is on disk before it is sent.
        """
        with self._lock:
            attachments = list(self._attached.values())
        for attachment in attachments:
            attachment.flush_pending()

    def _attach(self, store: ExperimentStore, experiments_directory: str, create: bool) -> _Attachment:
        key = (store.experiment_id, experiments_directory)
        with self._lock:
            attachment = self._attached.get(key)
            if attachment is not None and attachment.store is store:
                return attachment
            attachment = _Attachment(store, experiments_directory)
            self._attached[key] = attachment
            store.add_listener(attachment.on_change)
        if create:
            create_database(attachment.path)
        return attachment


# ---------------------------------------------------------------------------- rows


def _sql_row(kind: str, row: dict[str, Any]) -> Optional[_Row]:
    """The table and column values of one change (JavaScript ``undefined`` is stored as NULL)."""
    if kind == "profile":
        values: tuple[Any, ...] = (js_dumps(row.get("params")),) + _columns(
            row, "id", "execDuration", "startTime", "endTime", "logDir", "nextSequenceId", "revision")
        return "ExperimentProfile", values
    if kind == "event":
        return "TrialJobEvent", _columns(row, "timestamp", "trialJobId", "event", "data", "logPath", "sequenceId",
                                         "message", "environmentId")
    if kind == "metric":
        return "MetricData", _columns(row, "timestamp", "trialJobId", "parameterId", "type", "sequence", "data")
    return None


def _columns(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(None if row.get(name) is UNDEFINED else row.get(name) for name in names)


def _profile_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """A stored profile as ``GET /experiment`` shows it (``endTime`` absent when unset)."""
    profile: dict[str, Any] = {
        "params": json.loads(row["params"]) if row["params"] else {},
        "id": row["id"],
        "execDuration": row["execDuration"],
        "logDir": row["logDir"],
        "startTime": row["startTime"],
    }
    if row["endTime"] is not None:
        profile["endTime"] = row["endTime"]
    profile["nextSequenceId"] = row["nextSequenceId"]
    profile["revision"] = row["revision"]
    return profile


def _snapshot_rows(store: ExperimentStore) -> list[_Row]:
    """Rows that replay to ``store``: for a store whose individual changes were not recorded."""
    rows: list[_Row] = []

    def add(kind: str, row: dict[str, Any]) -> None:
        converted = _sql_row(kind, row)
        if converted is not None:
            rows.append(converted)

    if store.stored_profile is not None:
        add("profile", store.stored_profile)
    for record in store.trials():
        trial_job_id = record["trialJobId"]
        status = record["status"]
        hyper = list(record.get("hyperParameters") or [])
        start = record.get("startTime", record.get("endTime", 0))
        first = {
            "timestamp": start, "trialJobId": trial_job_id,
            "event": "WAITING" if status == "WAITING" else "RUNNING",
            "data": hyper[0] if hyper else None, "logPath": record.get("logPath"),
            "sequenceId": record.get("sequenceId"), "message": record.get("message"),
            "environmentId": record.get("envId"),
        }
        add("event", first)
        for text in hyper[1:]:
            add("event", {"timestamp": start, "trialJobId": trial_job_id, "event": "ADD_HYPERPARAMETER",
                          "data": text})
        if status in TERMINAL_EVENTS:
            add("event", {"timestamp": record.get("endTime", start), "trialJobId": trial_job_id,
                          "event": status, "logPath": record.get("logPath")})
        elif status not in ("WAITING", "RUNNING"):
            add("event", {"timestamp": start, "trialJobId": trial_job_id, "event": status})
    for batch in store.imported_data:
        add("event", {"timestamp": None, "trialJobId": "", "event": "IMPORT_DATA", "data": batch})
    for metric in store.metrics:
        add("metric", metric)
    return rows
