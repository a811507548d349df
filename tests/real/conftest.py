"""Fixtures of the real-backend tests: free ports, throw-away homes, trial scripts, process trees.

Every test gets its own HOME (so its own manifest) and working directory under ``tmp_path``; the
``backend`` fixture kills, at teardown, any manager its manifest still shows alive, so a failing
test cannot leave processes behind (passing tests stop what they start themselves).
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import psutil
import pytest

from nni_exp import Experiment, ExperimentConfig, TrialJob, TrialMetricData, TrialResult
from nni_exp.real import RealBackend
from nni_exp.testing.backends import free_port

SEARCH_SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}



def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
             message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(interval)


def write_trial(directory: Path, sleep: float = 1.0) -> Path:
    """``trial.py``: gets its parameters, sleeps, reports one intermediate and the final result ``x``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "trial.py"
    script.write_text(textwrap.dedent(f"""\
        import time
        import nni
        params = nni.get_next_parameter()
        time.sleep({sleep})
        nni.report_intermediate_result(params["x"] / 2)
        nni.report_final_result(params["x"])
    """))
    return script


def make_config(tmp_path: Path, *, trials: int = 2, concurrency: int = 2, sleep: float = 1.0,
                **overrides: Any) -> ExperimentConfig:
    """A local Random-tuner config running ``trials`` trials of ``sleep`` seconds under ``tmp_path``."""
    code = tmp_path / "code"
    write_trial(code, sleep)
    kwargs: dict[str, Any] = {
        "experiment_name": "real-test",
        "search_space": SEARCH_SPACE,
        "trial_command": f"{sys.executable} trial.py",
        "trial_code_directory": str(code),
        "trial_concurrency": concurrency,
        "max_trial_number": trials,
        "tuner": {"name": "Random", "class_args": {"seed": 7}},
        "training_service": {"platform": "local"},
        "experiment_working_directory": str(tmp_path / "experiments"),
    }
    kwargs.update(overrides)
    return ExperimentConfig(**kwargs)


def process_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and all its current descendants."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``processes`` still running (zombies count as dead; a reused pid is not them)."""
    result = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                result.append(process)
        except psutil.NoSuchProcess:
            continue
    return result


def describe(processes: list[psutil.Process]) -> str:
    parts = []
    for process in processes:
        try:
            parts.append(f"{process.pid}:{' '.join(process.cmdline())[:80]}")
        except psutil.Error:
            parts.append(str(process.pid))
    return ", ".join(parts)


def running_trial_tree(exp: Experiment, count: int = 1, timeout: float = 40.0) -> list[psutil.Process]:
    """Wait until ``count`` trials of ``exp`` run *and* their processes exist; the manager's whole tree.

    The tree then holds the manager (``node``), the tuner (``sh -c python -m nni ...`` and its
    ``python``) and the trials (``python trial.py``: bash execs a simple command in place).
    """
    assert exp._proc is not None  # noqa: SLF001 - the test needs the manager pid
    pid = exp._proc.pid

    def ready() -> Optional[list[psutil.Process]]:
        running = [job for job in exp.list_trial_jobs() if job.status == "RUNNING"]
        if len(running) < count:
            return None
        tree = alive(process_tree(pid))
        trials = [p for p in tree if any("trial.py" in part for part in _cmdline(p))]
        names = {_name(p) for p in tree}
        return tree if len(trials) >= count and {"node", "sh"} <= names else None

    return list(wait_for(ready, timeout, 0.2, f"{count} running trial(s)"))


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return ""


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@dataclass
class StoppedExperiment:
    """The basic run: a real experiment run to DONE with 2 trials, observed, then stopped.

    What was seen while it ran is kept for ``test_basic_run...``; the stopped experiment itself is
    shared read-only by the checkpoint, view and load_checkpoint tests.
    """

    home: Path
    workdir: Path
    id: str
    config: ExperimentConfig
    config_json: dict[str, Any]
    run_result: Optional[bool]
    run_seconds: float
    status: str
    jobs: list[TrialJob]
    exported: list[TrialResult]
    metrics: dict[str, list[TrialMetricData]]
    manager_pid: int
    record_while_done: dict[str, Any]
    record_after_stop: dict[str, Any]

    @property
    def trial_ids(self) -> list[str]:
        return [job.trialJobId for job in self.jobs]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A throw-away home directory (its ``nni-experiments/.experiment`` is the manifest)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def backend(home: Path) -> Iterator[RealBackend]:
    """A RealBackend on the test's own home; leftover managers are killed at teardown."""
    real = RealBackend(home=home)
    yield real
    real.kill_running_managers()
    real.close()


@pytest.fixture(scope="session")
def stopped_experiment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppedExperiment]:
    """The basic run (see :class:`StoppedExperiment`), once per session."""
    pytest.importorskip("nni_node")
    root = tmp_path_factory.mktemp("stopped")
    home = root / "home"
    backend = RealBackend(home=home)
    config = make_config(root, trials=2, concurrency=2)
    exp = Experiment(config, backend=backend)
    try:
        started = time.monotonic()
        run_result = exp.run(free_port())
        run_seconds = time.monotonic() - started
        assert exp._proc is not None
        manager_pid, status = exp._proc.pid, exp.get_status()
        jobs, exported, metrics = exp.list_trial_jobs(), exp.export_data(), exp.get_job_metrics()
        record_while_done = backend.manifest.records()[exp.id]
        exp.stop()
        yield StoppedExperiment(
            home=home, workdir=root / "experiments", id=exp.id, config=config,
            config_json=json.loads(json.dumps(config.canonical_copy().json())), run_result=run_result,
            run_seconds=run_seconds, status=status, jobs=jobs, exported=exported, metrics=metrics,
            manager_pid=manager_pid, record_while_done=record_while_done,
            record_after_stop=backend.manifest_file.read()[exp.id],
        )
    finally:
        exp.stop()
        backend.kill_running_managers()
        backend.close()
