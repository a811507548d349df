"""The real backend's manifest: concurrent writers, interoperation with NNI's own ``Experiments``,
crash detection, and where it lives (``home=`` / ``NNI_EXP_HOME`` / the user's home)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from nni_exp.backend import Manifest
from nni_exp.manifest_file import HOME_ENV_VAR, ManifestFile
from nni_exp.real import RealBackend

from .conftest import wait_for


def record(experiment_id: str, **overrides: Any) -> dict[str, Any]:
    """A manifest record with NNI's keys."""
    value: dict[str, Any] = {
        "id": experiment_id, "port": 8080, "startTime": 1_700_000_000_000, "endTime": "N/A",
        "status": "INITIALIZED", "platform": "local", "experimentName": None, "tag": [], "pid": os.getpid(),
        "webuiUrl": [], "logDir": "/tmp/experiments", "prefixUrl": None,
    }
    value.update(overrides)
    return value


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _add_many(home: str, worker: int, count: int) -> None:
    manifest = RealBackend(home=home).manifest
    for index in range(count):
        manifest.add(record(f"w{worker}-{index}"))


def test_concurrent_writers_lose_no_record(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(str(tmp_path), worker, 25)) for worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    records = RealBackend(home=tmp_path).manifest.records()
    assert sorted(records) == sorted(f"w{w}-{i}" for w in range(4) for i in range(25))
    assert not list((tmp_path / "nni-experiments").glob(".experiment.lock.*"))


def test_nni_reads_what_we_write_and_we_read_what_nni_writes(tmp_path: Path) -> None:
    config_utils = pytest.importorskip("nni.tools.nnictl.config_utils")
    backend = RealBackend(home=tmp_path)
    directory = str(tmp_path / "nni-experiments")
    ours = record("ours0001", status="RUNNING", tag=["a"], prefixUrl="pre")
    backend.manifest.add(ours)

    nni_side = config_utils.Experiments(directory)
    assert nni_side.get_all_experiments() == {"ours0001": ours}
    nni_side.add_experiment("nni00001", 8081, 1_700_000_000_001, "local", "named", pid=os.getpid(),
                            logDir="/tmp/w", tag=[], prefixUrl=None)
    nni_side.update_experiment("ours0001", "status", "DONE")

    records = backend.manifest.records()
    assert records["ours0001"] == dict(ours, status="DONE")
    assert records["nni00001"] == record("nni00001", port=8081, startTime=1_700_000_000_001,
                                         experimentName="named", logDir="/tmp/w")
    assert list(records["nni00001"]) == list(ours)  # same keys, same order

    backend.manifest.update("nni00001", "endTime", 123)
    backend.manifest_file.update("nni00001", "port", None)  # None deletes a key, as in NNI
    again = config_utils.Experiments(directory).get_all_experiments()
    assert again["nni00001"]["endTime"] == 123 and "port" not in again["nni00001"]
    # the file is NNI's format: 4-space indented JSON
    text = (tmp_path / "nni-experiments" / ".experiment").read_text()
    assert text == json.dumps(json.loads(text), indent=4)


def test_crash_detection_marks_dead_managers_stopped(tmp_path: Path) -> None:
    backend = RealBackend(home=tmp_path)
    backend.manifest.add(record("dead0001", status="RUNNING", pid=dead_pid()))
    backend.manifest.add(record("live0001", status="RUNNING"))
    backend.manifest.add(record("stop0001", status="STOPPED", pid=dead_pid(), endTime=5))
    records = backend.manifest.records()
    assert records["dead0001"]["status"] == "STOPPED"
    assert records["dead0001"]["port"] == 8080  # nnictl keeps the port (Node's detector drops it)
    assert records["live0001"]["status"] == "RUNNING"
    assert records["stop0001"] == record("stop0001", status="STOPPED", pid=records["stop0001"]["pid"], endTime=5)
    assert backend.manifest_file.read()["dead0001"]["status"] == "STOPPED"  # written back


def test_zombie_manager_counts_as_dead(tmp_path: Path) -> None:
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        backend = RealBackend(home=tmp_path)
        backend.manifest.add(record("zomb0001", status="RUNNING", pid=zombie.pid))
        # once it has exited, and while it is not reaped (a zombie), it reads STOPPED
        wait_for(lambda: backend.manifest.records()["zomb0001"]["status"] == "STOPPED", 10, 0.02)
        assert psutil.Process(zombie.pid).status() == psutil.STATUS_ZOMBIE
    finally:
        zombie.wait()


def test_home_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV_VAR, raising=False)
    backend = RealBackend(home=tmp_path / "h")
    assert isinstance(backend.manifest, Manifest)
    assert backend.manifest_file.path == tmp_path / "h" / "nni-experiments" / ".experiment"
    assert backend.manager_home == tmp_path / "h"
    env = backend._manager_env()
    assert env is not None and env["HOME"] == str(tmp_path / "h")


def test_default_home_is_the_users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(HOME_ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    backend = RealBackend()
    assert backend.manifest_file.path == tmp_path / "nni-experiments" / ".experiment"
    assert backend.manager_home is None
    assert backend._manager_env() is None  # the manager inherits the environment, as in NNI


def test_nni_exp_home_named_nni_experiments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV_VAR, str(tmp_path / "w" / "nni-experiments"))
    backend = RealBackend()
    assert backend.manifest_file.path == tmp_path / "w" / "nni-experiments" / ".experiment"
    assert backend.manager_home == tmp_path / "w"


def test_nni_exp_home_with_another_name_gets_a_shim_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV_VAR, str(tmp_path / "worker0"))
    backend = RealBackend()
    assert backend.manifest_file.path == tmp_path / "worker0" / ".experiment"
    env = backend._manager_env()
    assert env is not None
    # what Node will use: os.homedir()/nni-experiments/.experiment
    seen_by_node = ManifestFile(Path(env["HOME"]) / "nni-experiments")
    seen_by_node.add(record("node0001"))
    assert backend.manifest.records()["node0001"]["id"] == "node0001"
    backend._manager_env()  # idempotent
