"""``kill -9`` of the fake manager server at random moments, then resume (issue 8, items 3 and 5).

The server is started through the real backend (``RealBackend(manager_command=[python, -m,
fakes.server, ...])``). A client thread keeps reading the trials and metrics; at a seeded random
moment the server is killed with SIGKILL, then the experiment is resumed in a new server process.
Everything the client had *completely* read before the kill must be there after the resume: every
trial (a trial seen in a final status keeps that status and end time: it never runs again) and every
metric. The manifest must be valid JSON holding the experiment after every kill. Figures are printed
(``-s``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any, Optional

from nni_exp import Experiment
from nni_exp.errors import NniExpError
from nni_exp.testing.backends import free_port

from .conftest import make_config
from .test_fake_server import real_backend_on_fake_server

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
KILLS = 24
FINAL_STATUSES = {"SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED"}
_Metric = tuple[Any, ...]


def metric_key(metric: Any) -> _Metric:
    return (metric.trialJobId, metric.parameterId, metric.type, metric.sequence, metric.data)


class ClientReads:
    """What a client thread read completely from the running manager, until :meth:`stop`."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.trials: dict[str, tuple[str, Any]] = {}  # id -> (status, endTime) as last read
        self.metrics: set[_Metric] = set()
        self.reads = 0
        self.worst_read = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                trials = self.experiment.list_trial_jobs()
                metrics = self.experiment.get_job_metrics()
            except (NniExpError, OSError):
                continue  # the server is gone: what was not answered was not read
            if self._stop.is_set():
                return  # answered after the kill was decided: do not count it
            self.worst_read = max(self.worst_read, time.monotonic() - started)
            self.reads += 1
            for trial in trials:
                self.trials[trial.trialJobId] = (trial.status, getattr(trial, "endTime", None))
            for by_trial in metrics.values():
                self.metrics.update(metric_key(metric) for metric in by_trial)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()


def lost_after_resume(experiment: Experiment, trials: dict[str, tuple[str, Any]],
                      metrics: set[_Metric]) -> list[str]:
    """What the resumed manager no longer shows of what the client had read."""
    now_trials = {trial.trialJobId: (trial.status, getattr(trial, "endTime", None))
                  for trial in experiment.list_trial_jobs()}
    now_metrics = {metric_key(metric) for by_trial in experiment.get_job_metrics().values() for metric in by_trial}
    lost = [f"trial {trial_id} ({status})" for trial_id, (status, _) in trials.items() if trial_id not in now_trials]
    lost += [f"trial {trial_id} was {seen}, now {now_trials[trial_id]}" for trial_id, seen in trials.items()
             if seen[0] in FINAL_STATUSES and trial_id in now_trials and now_trials[trial_id] != seen]
    lost += [f"metric {metric}" for metric in metrics - now_metrics]
    return lost


def manifest_problem(path: Path, experiment_id: str) -> Optional[str]:
    raw = path.read_bytes()
    try:
        records = json.loads(raw)
    except ValueError:
        return f"invalid JSON ({len(raw)} bytes)"
    if not isinstance(records, dict) or experiment_id not in records:
        return f"no record of {experiment_id}: {raw[:200]!r}"
    return None


def test_kill_9_at_random_moments_then_resume_loses_nothing_the_client_read(tmp_path: Path) -> None:
    rng = random.Random(8005)
    config = make_config(trial_concurrency=4, max_trial_number=100_000,
                         experiment_working_directory=str(tmp_path / "experiments"))
    backend = real_backend_on_fake_server(tmp_path, time_scale=20)
    experiment = Experiment(config, backend=backend)
    experiment.start(free_port())
    known_trials: dict[str, tuple[str, Any]] = {}
    known_metrics: set[_Metric] = set()
    lost: list[str] = []
    manifest_problems: list[str] = []
    worst_resume = worst_read = 0.0
    reads = 0
    try:
        for kill in range(KILLS):
            client = ClientReads(experiment)
            time.sleep(rng.uniform(0.05, 0.5))
            assert experiment._proc is not None
            os.kill(experiment._proc.pid, signal.SIGKILL)
            client.stop()
            experiment._proc.wait(10)
            reads += client.reads
            worst_read = max(worst_read, client.worst_read)
            known_metrics |= client.metrics
            for trial_id, seen in client.trials.items():
                if known_trials.get(trial_id, ("",))[0] not in FINAL_STATUSES:
                    known_trials[trial_id] = seen
            problem = manifest_problem(backend.manifest_file.path, experiment.id)
            if problem:
                manifest_problems.append(f"kill {kill}: {problem}")
            experiment.port = None
            experiment._proc = None
            started = time.monotonic()
            experiment = Experiment(config, id=experiment.id, backend=backend)
            experiment.resume(free_port(), wait_completion=False)
            worst_resume = max(worst_resume, time.monotonic() - started)
            lost += [f"kill {kill}: {item}" for item in lost_after_resume(experiment, known_trials, known_metrics)]
    finally:
        experiment.stop()
    finished = sum(1 for status, _ in known_trials.values() if status in FINAL_STATUSES)
    print(f"\nfake server kill test: {KILLS} kills, {reads} complete reads, {len(known_trials)} trials read "
          f"({finished} final), {len(known_metrics)} metrics read, {len(lost)} lost, "
          f"{len(manifest_problems)} bad manifests, worst resume {worst_resume:.2f} s, worst read {worst_read:.3f} s")
    assert finished > KILLS and len(known_metrics) > KILLS  # the kills did land among finished trials
    assert manifest_problems == []
    assert lost == [], lost[:20]
