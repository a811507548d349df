"""The real NNI 3.0 manager and nni-exp's atomic manifest writes, at the same time (issue 8, item 3).

While a real manager runs an experiment (it rewrites its record's ``status``/``endTime`` in place
under NNI's lock, and answers ``/experiments-info`` from the file), an nni-exp writer process adds
records one at a time (each write replaces the file by a rename), pausing 10 ms between writes: the
manager's lock waits only 100 x 50 ms and then answers 500 "Lock file out of retries", which a writer
that never lets go of the lock for 5 s causes whatever its write method (seen with back-to-back
writes). The manager's lock also has a race of its own: it lists the lock files, then stats each one,
and answers 500 "ENOENT ... stat '.experiment.lock.<pid>'" when a writer (any writer: nnictl's as
well) removed its lock in between. Those two 500s are NNI's and are counted; any other failure (a JSON
parse error of a half-written file, the experiment missing from the list) fails the test. Nothing is
lost on either side.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nni_exp import Experiment
from nni_exp.errors import ManagerError
from nni_exp.real import RealBackend
from nni_exp.testing.backends import free_port

from ..manifest_writers import record
from .conftest import make_config, wait_for

pytestmark = pytest.mark.real_nni
WRITER = Path(__file__).resolve().parent.parent / "manifest_writers.py"


def test_the_real_manager_and_our_writer_share_the_manifest(tmp_path: Path, backend: RealBackend) -> None:
    pytest.importorskip("nni")
    directory = backend.manifest_file.home_directory
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".experiment").write_text(json.dumps({f"old{i}": record(f"old{i}") for i in range(200)}, indent=4))
    experiment = Experiment(make_config(tmp_path, trials=3, concurrency=1, sleep=0.5), backend=backend)
    experiment.start(free_port())
    writer = subprocess.Popen([sys.executable, str(WRITER), "ours", str(directory), "rw", "0", "400", "0.01"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    infos = lock_races = 0
    try:
        while writer.poll() is None:
            try:
                listed = {item["id"] for item in experiment.get_all_experiments_metadata()}  # Node reads the file
            except ManagerError as error:
                assert "Lock file out of retries" in str(error) or ".experiment.lock." in str(error), error
                lock_races += 1
                continue
            assert experiment.id in listed
            infos += 1
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        wait_for(lambda: experiment.get_status() == "DONE", timeout=120)
    finally:
        experiment.stop()
    written = set(out.split())
    records = json.loads((directory / ".experiment").read_text())
    print(f"\nreal manager beside our writer: {len(written)} records written, {infos} /experiments-info answers, "
          f"{lock_races} answered 500 by NNI's lock, {len(written - set(records))} lost")
    assert len(written) == 400 and written <= set(records)
    assert {f"old{i}" for i in range(200)} <= set(records)
    assert records[experiment.id]["status"] == "STOPPED"  # the manager's own last write landed
    assert isinstance(records[experiment.id]["endTime"], int)
    assert not list(directory.glob(".experiment.lock.*")) and not list(directory.glob("*.tmp"))
