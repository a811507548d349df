"""No process outlives an experiment: the manager, its tuner (``/bin/sh -c ...``) and its trials
(``python trial.py``, started through ``/bin/bash``) are all gone after every way an experiment can end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from nni_exp import Experiment
from nni_exp.interrupts import reraise_keyboard_interrupts
from nni_exp.real import RealBackend

from .conftest import alive, describe, free_port, make_config, running_trial_tree, wait_for

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")


def long_trials_experiment(tmp_path: Path, backend: RealBackend) -> Experiment:
    """Two trials of 60 s running in parallel: they are still running when the experiment ends."""
    return Experiment(make_config(tmp_path, trials=2, concurrency=2, sleep=60), backend=backend)


def assert_all_gone(tree: list[psutil.Process]) -> None:
    assert not alive(tree), f"left running: {describe(alive(tree))}"


def test_stop(tmp_path: Path, backend: RealBackend) -> None:
    exp = long_trials_experiment(tmp_path, backend)
    exp.start(free_port())
    try:
        tree = running_trial_tree(exp, count=2)
    finally:
        exp.stop()
    assert_all_gone(tree)
    assert backend.manifest_file.read()[exp.id]["status"] == "STOPPED"


def test_context_manager(tmp_path: Path, backend: RealBackend) -> None:
    with long_trials_experiment(tmp_path, backend) as exp:
        exp.start(free_port())
        tree = running_trial_tree(exp, count=2)
    assert_all_gone(tree)


def test_exception_inside_context_manager(tmp_path: Path, backend: RealBackend) -> None:
    trees: list[list[psutil.Process]] = []
    with pytest.raises(RuntimeError, match="user code failed"):
        with long_trials_experiment(tmp_path, backend) as exp:
            exp.start(free_port())
            trees.append(running_trial_tree(exp, count=2))
            raise RuntimeError("user code failed")
    assert_all_gone(trees[0])


@pytest.mark.parametrize("reraise", [False, True], ids=["as-nni", "under-pytest"])
def test_keyboard_interrupt_during_run(tmp_path: Path, backend: RealBackend,
                                       monkeypatch: pytest.MonkeyPatch, reraise: bool) -> None:
    exp = long_trials_experiment(tmp_path, backend)
    trees: list[list[psutil.Process]] = []
    real_sleep = backend.clock.sleep

    def sleep(seconds: float) -> None:
        """Ctrl-C arrives while run() waits, once both trials run."""
        if exp.port is not None and len([j for j in exp.list_trial_jobs() if j.status == "RUNNING"]) == 2:
            trees.append(running_trial_tree(exp, count=2))
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(backend.clock, "sleep", sleep)
    with reraise_keyboard_interrupts(reraise):
        if reraise:  # what the pytest plugin sets: stopped first, then the interrupt goes on
            with pytest.raises(KeyboardInterrupt):
                exp.run(free_port())
        else:  # NNI's behaviour
            assert exp.run(free_port()) is None
    assert trees, "the interrupt was never raised"
    assert exp.port is None
    assert_all_gone(trees[0])
    assert backend.manifest_file.read()[exp.id]["status"] == "STOPPED"


_ATEXIT_SCRIPT = """\
import json, sys
sys.path.insert(0, {tests_dir!r})
from pathlib import Path
from nni_exp import Experiment
from nni_exp.real import RealBackend
from real.conftest import make_config, running_trial_tree

tmp = Path({tmp!r})
exp = Experiment(make_config(tmp, trials=2, concurrency=2, sleep=60), backend=RealBackend(home=tmp / "home"))
exp.start({port})
tree = running_trial_tree(exp, count=2)
(tmp / "tree.json").write_text(json.dumps([[p.pid, p.create_time()] for p in tree]))
print(exp.id)
# no stop(): the interpreter exits and Experiment's atexit hook must stop everything
"""


def test_interpreter_exit(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(_ATEXIT_SCRIPT.format(
        tests_dir=str(Path(__file__).parent.parent), tmp=str(tmp_path), port=free_port())))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    tree = []
    for pid, created in json.loads((tmp_path / "tree.json").read_text()):
        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        if process.create_time() == created:
            tree.append(process)
    assert not alive(tree), f"left running: {describe(alive(tree))}"
    backend = RealBackend(home=tmp_path / "home")
    assert backend.manifest_file.read()[done.stdout.strip()]["status"] == "STOPPED"


def test_kill_without_graceful_stop(tmp_path: Path, backend: RealBackend) -> None:
    """What the launcher does when a start fails: kill() alone, no DELETE, takes the whole tree."""
    exp = long_trials_experiment(tmp_path, backend)
    exp.start(free_port())
    try:
        tree = running_trial_tree(exp, count=2)
        assert exp._proc is not None
        exp._proc.kill()
        assert_all_gone(tree)
        exp._proc.kill()  # idempotent
        assert not exp._proc.is_alive()
    finally:
        exp.stop()


def test_a_killed_trial_leaves_its_children_running(tmp_path: Path, backend: RealBackend) -> None:
    """What the README's deliberate-fix row stands on: NNI 3.0's local service signals only the
    trial's shell (SIGINT, SIGKILL 5 s later), so what the shell started outlives the killed trial
    until the whole manager goes (the real backend then kills its process group). The fake kills
    the trial's process group (``tests/test_local_trials.py``)."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.sh").write_text("sleep 617\necho done\n")
    config = make_config(tmp_path, trials=1, concurrency=1, trial_command="bash trial.sh",
                         trial_code_directory=str(code))

    def sleeps() -> list[psutil.Process]:
        """The trial's ``sleep``: started in its code directory (not a leftover of another run)."""
        found = []
        for process in psutil.process_iter(["cmdline", "cwd"]):
            if process.info["cmdline"] == ["sleep", "617"] and process.info["cwd"] == str(code):
                found.append(process)
        return found

    exp = Experiment(config, backend=backend)
    exp.start(free_port())
    try:
        (child,) = wait_for(sleeps, message="the trial's sleep")
        # Under load the process can start before the manager has stored the trial.
        trial_id = wait_for(exp.list_trial_jobs, message="the trial in the manager's list")[0].trialJobId
        exp.kill_trial_job(trial_id)
        wait_for(lambda: exp.get_trial_job(trial_id).endTime > 0,  # NNI's TrialJob says -1 until it ended
                 timeout=20, message="the killed trial's end")
        assert exp.get_trial_job(trial_id).status == "USER_CANCELED"
        assert child.is_running() and child.ppid() != 0, "the real manager now kills the trial's children"
    finally:
        exp.stop()
    gone, left = psutil.wait_procs([child], timeout=10)
    assert not left, f"left running: {describe(left)}"
