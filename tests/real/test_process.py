"""Manager process handles, on plain processes (no NNI needed): kill takes everything, zombies are
dead, attach, log tails, the exit safety net; and the REST error mapping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from nni_exp.errors import ManagerTimeoutError, ManagerUnreachableError
from nni_exp.real import ManagerHandle, RealBackend
from nni_exp.real.process import LOG_LINE_MAX, spawn

from .conftest import alive, free_port, wait_for

# A "manager" that ignores SIGTERM (only SIGKILL ends it), starts a child in its process group and
# another that leaves it (setsid), writes their pids to a file, then sleeps.
FAMILY = textwrap.dedent("""\
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "60"])
    runaway = subprocess.Popen(["sleep", "61"], start_new_session=True)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(f"{child.pid} {runaway.pid}")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(60)
""")


def start(tmp_path: Path, script: str, *args: str, grace: float = 0.5, **kwargs: object) -> ManagerHandle:
    return spawn([sys.executable, "-c", script, *args], cwd=None, env=None, stderr_log=tmp_path / "stderr.log",
                 grace=grace, **kwargs)  # type: ignore[arg-type]


def pids_in(path: Path) -> list[psutil.Process]:
    wait_for(path.exists, 10, 0.02, "the pid file")
    return [psutil.Process(int(pid)) for pid in path.read_text().split()]


@pytest.fixture
def handles() -> Iterator[list[ManagerHandle]]:
    """Handles to kill at teardown whatever the test did."""
    created: list[ManagerHandle] = []
    yield created
    for handle in created:
        handle.kill()


def test_kill_takes_the_group_and_runaway_descendants(tmp_path: Path, handles: list[ManagerHandle]) -> None:
    handle = start(tmp_path, FAMILY, str(tmp_path / "pids"))
    handles.append(handle)
    family = [psutil.Process(handle.pid), *pids_in(tmp_path / "pids")]
    assert os.getpgid(handle.pid) == handle.pid != os.getpgrp()  # a session of its own
    assert handle.is_alive()
    handle.kill()  # the manager ignores SIGTERM: needs SIGKILL after the grace period
    assert not alive(family)
    assert not handle.is_alive()
    assert handle.wait(0) == -signal.SIGKILL
    handle.kill()  # idempotent


def test_orphans_of_an_exited_manager_are_killed(tmp_path: Path, handles: list[ManagerHandle]) -> None:
    """The manager exits first: its children are re-parented to init, but are still found."""
    script = FAMILY.replace("time.sleep(60)", "time.sleep(1.0)")
    handle = start(tmp_path, script, str(tmp_path / "pids"))
    handles.append(handle)
    family = pids_in(tmp_path / "pids")
    assert handle.is_alive()  # remembers the runaway (another session) while it is a descendant
    assert handle.wait(10) == 0
    assert len(alive(family)) == 2
    handle.kill()
    assert not alive(family)


def test_group_members_found_without_remembering(tmp_path: Path, handles: list[ManagerHandle]) -> None:
    """A child left in the manager's group is found by its group even if never seen as a descendant."""
    script = "import subprocess, sys; p = subprocess.Popen(['sleep', '60']); open(sys.argv[1], 'w').write(str(p.pid))"
    handle = start(tmp_path, script, str(tmp_path / "pid"))
    handles.append(handle)
    orphan = pids_in(tmp_path / "pid")
    assert handle.wait(10) == 0
    handle.kill()
    assert not alive(orphan)


def test_attach_zombie_and_wait(tmp_path: Path) -> None:
    assert RealBackend().attach(dead_pid()) is None
    for impossible in (0, -1, os.getpid()):  # kill() must never signal our own group, or us
        assert RealBackend().attach(impossible) is None
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    try:
        handle = RealBackend().attach(process.pid)
        assert handle is not None and handle.pid == process.pid and handle.is_alive()
        assert handle.wait(0) is None
        wait_for(lambda: not handle.is_alive(), 10, 0.02, "the exit")  # a zombie: dead
        assert psutil.Process(process.pid).status() == psutil.STATUS_ZOMBIE
        assert handle.wait(5) == 0  # our own child: reaped, its code known
        assert handle.log_tail() == ""
        handle.kill()
    finally:
        process.wait()


def test_attached_handle_kills_a_tree(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", FAMILY, str(tmp_path / "pids")], start_new_session=True)
    try:
        family = [psutil.Process(process.pid), *pids_in(tmp_path / "pids")]
        handle = ManagerHandle.attach(process.pid, grace=0.3)
        assert handle is not None
        handle.kill()
        assert not alive(family)
        assert handle.wait(1) is not None
    finally:
        process.kill()
        process.wait()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_log_tail_and_stderr_copy(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = ("import sys\nfor i in range(100): sys.stderr.write(f'line {i}\\n')\n"
              f"sys.stderr.write('x' * {LOG_LINE_MAX + 50} + '\\n')\nprint('to stdout')")
    handle = start(tmp_path, script, header="HEADER\n")
    assert handle.wait(10) == 0
    tail = handle.log_tail().splitlines()
    assert len(tail) == 40 and tail[0] == "line 61" and tail[-2] == "line 99"
    assert tail[-1] == "x" * LOG_LINE_MAX + "... [50 more characters]"
    log = (tmp_path / "stderr.log").read_text()
    assert log.startswith("HEADER\nline 0\n")
    out, err = capfd.readouterr()
    assert "to stdout" in out  # inherited
    assert "line 99" in err  # copied to our stderr as well


def test_detached_output_goes_to_files(tmp_path: Path) -> None:
    handle = start(tmp_path, "import sys; print('out'); sys.stderr.write('err')", header="H\n",
                   stdout_log=tmp_path / "stdout.log", copy_stderr=False, kill_at_exit=False)
    assert handle.wait(10) == 0
    assert (tmp_path / "stdout.log").read_text() == "H\nout\n"
    assert (tmp_path / "stderr.log").read_text() == "H\nerr"
    assert handle.log_tail() == "err"


def test_interpreter_exit_kills_background_managers(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""\
        import sys, time
        from pathlib import Path
        from nni_exp.real.process import spawn
        handle = spawn([sys.executable, "-c", {FAMILY!r}, {str(tmp_path / 'pids')!r}], cwd=None, env=None,
                       stderr_log=Path({str(tmp_path / 'log')!r}), grace=0.3)
        while not Path({str(tmp_path / 'pids')!r}).exists():
            time.sleep(0.01)
        print(handle.pid)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    family = pids_in(tmp_path / "pids")
    try:
        family.append(psutil.Process(int(done.stdout)))
    except psutil.NoSuchProcess:
        pass
    assert not alive(family)


# ---------------------------------------------------------------------- REST errors


def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(ManagerUnreachableError) as info:
        RealBackend().request("GET", free_port(), "/check-status")
    assert isinstance(info.value, requests.ConnectionError)


def test_silent_server_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
        thread.start()
        with pytest.raises(ManagerTimeoutError) as info:
            RealBackend().request("GET", server.getsockname()[1], "/check-status", timeout=0.3)
        assert isinstance(info.value, requests.ReadTimeout)
        thread.join(5)
        for connection in accepted:
            connection.close()


def test_kill_running_managers(tmp_path: Path) -> None:
    backend = RealBackend(home=tmp_path)
    process = subprocess.Popen([sys.executable, "-c", FAMILY, str(tmp_path / "pids"), "--experiment-id", "running1"],
                               start_new_session=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "--experiment-id", "other001"])
    try:
        family = [psutil.Process(process.pid), *pids_in(tmp_path / "pids")]
        backend.manifest.add({"id": "running1", "status": "RUNNING", "pid": process.pid})
        backend.manifest.add({"id": "gone0001", "status": "RUNNING", "pid": dead_pid()})
        # Records naming live processes that are not their managers: left alone.
        backend.manifest.add({"id": "notours1", "status": "RUNNING", "pid": bystander.pid})
        backend.manifest.add({"id": "badpid01", "status": "RUNNING", "pid": "x"})
        backend.kill_grace = 0.2
        assert backend.kill_running_managers() == [process.pid]
        assert not alive(family)
        assert bystander.poll() is None
        assert backend.kill_running_managers() == []
    finally:
        for started in (process, bystander):
            started.kill()
            started.wait()
