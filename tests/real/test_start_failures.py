"""Start-up failures: a busy port is refused before anything is spawned; a manager that dies while
starting is reported with the end of its stderr."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from nni_exp import Experiment, RunMode
from nni_exp.backend import ManagerArgs
from nni_exp.errors import ManagerStartError, PortInUseError
from nni_exp.real import RealBackend

from .conftest import free_port, make_config

BOOM = [sys.executable, "-c", 'import sys; sys.stderr.write("boom\\n"); sys.exit(3)']


def children() -> set[int]:
    return {process.pid for process in psutil.Process().children(recursive=True)}


def test_busy_port_is_refused_before_any_spawn(tmp_path: Path, home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    backend = RealBackend(home=home)
    spawned: list[Any] = []
    monkeypatch.setattr(backend, "spawn_manager", lambda *args: spawned.append(args))
    before = children()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not backend.is_port_idle(port)
        with pytest.raises(PortInUseError) as info:
            Experiment(make_config(tmp_path), backend=backend).start(port)
    assert info.value.port == port and isinstance(info.value, RuntimeError)
    assert spawned == []
    assert children() <= before
    assert backend.manifest.records() == {}
    assert not (tmp_path / "experiments").exists()


def test_ipv6_listener_counts_as_busy() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with socket.socket(socket.AF_INET6) as listener:
        try:
            listener.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback")
        listener.listen()
        assert not RealBackend().is_port_idle(listener.getsockname()[1])
    assert RealBackend().is_port_idle(free_port())


@pytest.mark.parametrize("run_mode", [RunMode.Background, RunMode.Detach])
def test_manager_dying_at_start_up_reports_its_stderr(tmp_path: Path, home: Path, run_mode: RunMode) -> None:
    backend = RealBackend(home=home, manager_command=BOOM)
    exp = Experiment(make_config(tmp_path), backend=backend)
    with pytest.raises(ManagerStartError) as info:
        exp.start(free_port(), run_mode=run_mode)
    assert "boom" in str(info.value) and "code 3" in str(info.value)
    assert info.value.log_tail == "boom"
    assert exp.port is None
    assert backend.manifest.records() == {}
    log_dir = tmp_path / "experiments" / exp.id / "log"
    log = log_dir / ("nnictl_stderr.log" if run_mode is RunMode.Detach else "manager_stderr.log")
    assert log.read_text().splitlines()[1].startswith(f"Experiment {exp.id} start: ")
    assert log.read_text().endswith("boom\n")


def test_unrunnable_command(tmp_path: Path, home: Path) -> None:
    backend = RealBackend(home=home, manager_command=[str(tmp_path / "no-such-program")])
    with pytest.raises(ManagerStartError, match="Cannot run the NNI manager"):
        Experiment(make_config(tmp_path), backend=backend).start(free_port())


def test_manager_gets_home_and_extra_env(tmp_path: Path, home: Path) -> None:
    script = "import os, sys; sys.stderr.write(os.environ['HOME'] + ' ' + os.environ['EXTRA'] + ' ' + os.getcwd())"
    backend = RealBackend(home=home, manager_command=[sys.executable, "-c", script], env={"EXTRA": "yes"},
                          cwd=tmp_path)
    args = ManagerArgs(port=free_port(), experiment_id="envcheck", action="create", mode="local",
                       experiments_directory=str(tmp_path / "experiments"), log_level="info")
    process = backend.spawn_manager(args, RunMode.Background)
    assert process.wait(10) == 0
    assert process.log_tail() == f"{home} yes {tmp_path}"


@pytest.mark.real_nni
def test_real_manager_rejecting_log_level_fatal(tmp_path: Path, home: Path) -> None:
    pytest.importorskip("nni_node")
    backend = RealBackend(home=home)
    exp = Experiment(make_config(tmp_path, log_level="fatal"), backend=backend)
    before = children()
    with pytest.raises(ManagerStartError) as info:
        exp.start(free_port())
    message = str(info.value)
    assert "exited with code 1" in message
    assert 'Argument: logLevel, Given: "fatal"' in message
    assert len(message) < 20_000  # Node quotes a 60 kB minified line: it is cut
    assert children() <= before


def spawn_args(tmp_path: Path, experiment_id: str) -> ManagerArgs:
    return ManagerArgs(port=free_port(), experiment_id=experiment_id, action="create", mode="local",
                       experiments_directory=str(tmp_path / "experiments"), log_level="info")


def test_latest_link_replaces_a_dangling_one(tmp_path: Path, home: Path) -> None:
    backend = RealBackend(home=home, manager_command=[sys.executable, "-c", "pass"])
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "_latest").symlink_to("gone0001")
    backend.spawn_manager(spawn_args(tmp_path, "new00001"), RunMode.Background).wait(10)
    assert (tmp_path / "experiments" / "_latest").readlink() == Path("new00001")
    assert (tmp_path / "experiments" / "new00001" / "log").is_dir()


def test_latest_link_failure_only_warns(tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = RealBackend(home=home, manager_command=[sys.executable, "-c", "pass"])
    (tmp_path / "experiments" / "_latest" / "busy").mkdir(parents=True)  # a directory: cannot be replaced
    process = backend.spawn_manager(spawn_args(tmp_path, "new00001"), RunMode.Background)
    assert process.wait(10) == 0
    assert "Failed to create link" in caplog.text
