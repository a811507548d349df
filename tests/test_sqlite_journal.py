"""A database whose writer was killed mid-transaction (a hot journal) is still read, as NNI reads it.

The writer process spills a transaction to the database file (a tiny page cache) and exits without
committing, as a manager killed by ``kill -9`` in the middle of a write: the ``-journal`` file
stays. NNI's reader opens the database read-write and rolls the write back; nni-exp's read-only
readers (the stored config for ``resume``/``view``, the fake server's ``--action resume``) must see
the same committed content instead of failing with "attempt to write a readonly database".
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from fakes.sqlite_storage import SCHEMA, SqliteStorage, database_path
from nni_exp.real.checkpoint import read_stored_config
from nni_exp.sqlite_journal import has_hot_journal, roll_back_interrupted_write

COMMITTED = {"trialConcurrency": 1, "trainingService": {"platform": "local"}}
HALF_WRITTEN = {"trialConcurrency": 2, "trainingService": {"platform": "local"}}

_KILLED_WRITER = textwrap.dedent("""
    import json, os, sqlite3, sys
    path, schema, committed, half = sys.argv[1:5]
    db = sqlite3.connect(path)
    db.executescript(schema)
    db.execute("insert into ExperimentProfile values (?, 'xphot001', 0, 0, null, '', 0, 1)", (committed,))
    db.execute("insert into TrialJobEvent (trialJobId, event) values ('t1', 'WAITING')")
    db.commit()
    db.execute("pragma cache_size=1")  # the transaction goes to the file before the commit
    db.execute("begin")
    db.execute("insert into ExperimentProfile values (?, 'xphot001', 0, 0, null, '', 0, 2)", (half,))
    db.executemany("insert into TrialJobEvent (trialJobId, event) values (?, 'WAITING')",
                   [("f" * 500 + str(index),) for index in range(2000)])
    os._exit(0)  # killed before the commit
""")


def killed_writer_database(tmp_path: Path) -> Path:
    experiments = tmp_path / "experiments"
    path = database_path("xphot001", experiments)
    path.parent.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path), SCHEMA, json.dumps(COMMITTED),
                    json.dumps(HALF_WRITTEN)], check=True, timeout=60)
    assert has_hot_journal(path)
    return experiments


def test_nni_reads_the_committed_config_after_a_killed_write(tmp_path: Path) -> None:
    from nni.experiment.launcher import get_stopped_experiment_config_json

    experiments = killed_writer_database(tmp_path)
    assert get_stopped_experiment_config_json("xphot001", str(experiments)) == COMMITTED


def test_the_stored_config_is_read_after_a_killed_write(tmp_path: Path) -> None:
    experiments = killed_writer_database(tmp_path)
    assert read_stored_config("xphot001", experiments) == COMMITTED
    assert not has_hot_journal(database_path("xphot001", experiments))


def test_the_fake_server_resumes_after_a_killed_write(tmp_path: Path) -> None:
    experiments = killed_writer_database(tmp_path)
    store = SqliteStorage().load("xphot001", str(experiments))
    assert store is not None and store.stored_profile is not None
    assert store.stored_profile["params"] == COMMITTED and store.stored_profile["revision"] == 1
    assert [record["trialJobId"] for record in store.trials()] == ["t1"]


def test_rolling_back_never_creates_a_database(tmp_path: Path) -> None:
    roll_back_interrupted_write(tmp_path / "missing.sqlite")
    assert list(tmp_path.iterdir()) == []
