"""The stored config of a stopped experiment, read from the manager's SQLite database.

The NNI manager keeps every revision of an experiment's profile in
``<experiments directory>/<id>/db/nni.sqlite``, table ``ExperimentProfile``; the config (camelCase
JSON, as posted and then changed by updates) is the ``params`` column of the row with the highest
``revision``. NNI's rules for finding it (``get_stopped_experiment_config_json``):

* with an experiments directory, the database under it is read directly, whatever the
  experiment's status;
* without one, the manifest decides: an unknown id, or an experiment that is not STOPPED (after
  crash detection), gives None and logs why; otherwise the record's ``logDir`` is used.

Where NNI lets ``sqlite3`` / ``TypeError`` errors escape, this module decides:

* *nothing stored* (no such directory, no database file, no row for the id) → ``None``, which
  :meth:`nni_exp.Experiment.load_checkpoint` turns into NNI's
  ``Config of <id> (under <dir>) failed to be loaded.`` (a ``ValueError``);
* *something stored but unusable* (not an SQLite database, no ``ExperimentProfile`` table,
  ``params`` not a JSON object, a pre-2.0 ``clusterMetaData`` config) →
  :class:`~nni_exp.errors.CheckpointError` (also a ``ValueError``) naming the database file.

The database is opened read-only, so looking never creates a file, even where there is none; only
when a manager was killed in the middle of a write (a hot ``-journal`` file is there) is it opened
read-write first to roll that write back, as NNI's own reader (which opens it read-write) does.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Optional, Protocol, Union

from ..errors import CheckpointError
from ..sqlite_journal import roll_back_interrupted_write

__all__ = ["database_path", "read_stored_config", "load_stopped_config"]

_logger = logging.getLogger("nni_exp.real")

class _Records(Protocol):
    def records(self) -> dict[str, dict[str, Any]]: ...


_QUERY = "SELECT params FROM ExperimentProfile WHERE id = ? ORDER BY revision DESC LIMIT 1"


def database_path(experiment_id: str, experiments_directory: Union[str, Path]) -> Path:
    """``<experiments_directory>/<experiment_id>/db/nni.sqlite`` (``~`` expanded)."""
    return Path(experiments_directory).expanduser() / experiment_id / "db" / "nni.sqlite"


def read_stored_config(experiment_id: str,
                       experiments_directory: Union[str, Path]) -> Optional[dict[str, Any]]:
    """The latest stored config of ``experiment_id`` under ``experiments_directory``, whatever its status.

    None when nothing is stored there; :class:`~nni_exp.errors.CheckpointError` when the database
    cannot be read or holds no usable config (see the module docstring).
    """
    path = database_path(experiment_id, experiments_directory)
    if not path.is_file():
        return None
    try:
        roll_back_interrupted_write(path)  # a manager killed mid-write: as NNI's read-write reader does
        with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10.0)) as db:
            row = db.execute(_QUERY, (experiment_id,)).fetchone()
    except sqlite3.Error as error:
        raise CheckpointError(f"Cannot read the stored config of {experiment_id} from {path}: "
                              f"{error}") from error
    if row is None:
        return None
    try:
        params = json.loads(row[0])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"The stored config of {experiment_id} in {path} is not JSON: "
                              f"{error}") from None
    if not isinstance(params, dict):
        raise CheckpointError(f"The stored config of {experiment_id} in {path} is not a JSON object")
    if "clusterMetaData" in params:
        raise CheckpointError(f"The stored config of {experiment_id} in {path} uses the pre-2.0 (v0) format, "
                              "which is not supported")
    return params


def load_stopped_config(manifest: _Records, experiment_id: str,
                        experiments_directory: Optional[Union[str, Path]]) -> Optional[dict[str, Any]]:
    """The config of a stopped experiment as NNI loads it (see the module docstring); None if not found."""
    if experiments_directory:
        return read_stored_config(experiment_id, experiments_directory)
    record = manifest.records().get(experiment_id)
    if record is None:
        _logger.error("Id %s not exist!", experiment_id)
        return None
    if record.get("status") != "STOPPED":
        _logger.error("Only stopped experiments can be resumed or viewed! "
                      "But retrieved metadata for %s is:\n%s", experiment_id, record)
        return None
    log_dir = record.get("logDir")
    if not isinstance(log_dir, str) or not log_dir:
        _logger.error("The manifest record of %s has no logDir", experiment_id)
        return None
    return read_stored_config(experiment_id, log_dir)
