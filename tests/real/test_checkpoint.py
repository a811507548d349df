"""Reading a stopped experiment's config from ``<dir>/<id>/db/nni.sqlite``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from nni_exp.errors import CheckpointError
from nni_exp.manifest_file import ManifestFile
from nni_exp.real import RealBackend, load_stopped_config, pid_alive, read_stored_config
from nni_exp.real.checkpoint import database_path

from .conftest import StoppedExperiment


def make_db(directory: Path, experiment_id: str, rows: list[tuple[Any, int]],
            table: Optional[str] = "ExperimentProfile", row_id: Optional[str] = None) -> Path:
    """A database with the manager's ExperimentProfile schema holding ``(params, revision)`` rows
    (for ``row_id``, by default the experiment's own id)."""
    path = database_path(experiment_id, directory)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        if table:
            db.execute(f"CREATE TABLE {table} (params text, id text, execDuration integer, startTime integer, "
                       "endTime integer, logDir text, nextSequenceId integer, revision integer)")
            for params, revision in rows:
                text = params if isinstance(params, str) else json.dumps(params)
                db.execute(f"INSERT INTO {table} VALUES (?, ?, 0, 0, NULL, ?, 0, ?)",
                           (text, row_id or experiment_id, str(directory), revision))
    db.close()
    return path


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---------------------------------------------------------------------- against a real run


@pytest.mark.real_nni
def test_reads_the_database_of_a_real_run(stopped_experiment: StoppedExperiment) -> None:
    stored = read_stored_config(stopped_experiment.id, stopped_experiment.workdir)
    assert stored == stopped_experiment.config_json
    assert stored["experimentWorkingDirectory"] == str(stopped_experiment.workdir)


@pytest.mark.real_nni
def test_without_directory_the_manifest_decides(stopped_experiment: StoppedExperiment, tmp_path: Path) -> None:
    backend = RealBackend(home=stopped_experiment.home)
    assert backend.load_stopped_config(stopped_experiment.id, None) == stopped_experiment.config_json
    assert backend.load_stopped_config("unknown1", None) is None

    # the same record in another manifest, with its manager (this process) still running
    manifest = ManifestFile(tmp_path / "nni-experiments", is_alive=pid_alive)
    record = dict(backend.manifest.records()[stopped_experiment.id], status="RUNNING", pid=os.getpid())
    manifest.add(record)
    assert load_stopped_config(manifest, stopped_experiment.id, None) is None
    # ... with a directory the status is not checked
    assert load_stopped_config(manifest, stopped_experiment.id, str(stopped_experiment.workdir)) \
        == stopped_experiment.config_json
    # its manager died: crash detection marks it STOPPED, and it loads
    manifest.add(dict(record, pid=dead_pid()))
    assert load_stopped_config(manifest, stopped_experiment.id, None) == stopped_experiment.config_json
    assert manifest.read()[stopped_experiment.id]["status"] == "STOPPED"


# ---------------------------------------------------------------------- synthetic databases


def test_highest_revision_wins(tmp_path: Path) -> None:
    make_db(tmp_path, "exp1", [({"trialConcurrency": 1}, 1), ({"trialConcurrency": 3}, 3),
                               ({"trialConcurrency": 2}, 2)])
    assert read_stored_config("exp1", tmp_path) == {"trialConcurrency": 3}
    assert read_stored_config("exp1", str(tmp_path)) == {"trialConcurrency": 3}


def test_nothing_stored_is_none_and_creates_nothing(tmp_path: Path) -> None:
    assert read_stored_config("exp1", tmp_path / "missing") is None
    assert not (tmp_path / "missing").exists()
    (tmp_path / "exp1" / "db").mkdir(parents=True)
    assert read_stored_config("exp1", tmp_path) is None
    assert not database_path("exp1", tmp_path).exists()
    make_db(tmp_path, "exp2", [({"a": 1}, 1)])
    assert read_stored_config("exp2", tmp_path) == {"a": 1}
    make_db(tmp_path, "exp3", [({"a": 1}, 1)], row_id="other")  # e.g. a renamed directory
    assert read_stored_config("exp3", tmp_path) is None


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ("[1, 2]", "is not a JSON object"),
    ({"clusterMetaData": []}, "pre-2.0"),
])
def test_unusable_params(tmp_path: Path, content: Any, message: str) -> None:
    make_db(tmp_path, "exp1", [(content, 1)])
    with pytest.raises(CheckpointError, match=message) as info:
        read_stored_config("exp1", tmp_path)
    assert isinstance(info.value, ValueError)
    assert "nni.sqlite" in str(info.value)


def test_unreadable_database(tmp_path: Path) -> None:
    make_db(tmp_path, "notable", [], table=None)
    with pytest.raises(CheckpointError, match="no such table"):
        read_stored_config("notable", tmp_path)
    path = database_path("garbage", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an sqlite database, not at all" * 10)
    with pytest.raises(CheckpointError, match="Cannot read the stored config"):
        read_stored_config("garbage", tmp_path)


def test_record_without_log_dir(tmp_path: Path) -> None:
    manifest = ManifestFile(tmp_path / "nni-experiments")
    manifest.add({"id": "exp1", "status": "STOPPED", "pid": 0})
    assert load_stopped_config(manifest, "exp1", None) is None
