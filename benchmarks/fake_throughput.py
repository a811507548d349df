"""How fast the in-memory fake manager simulates experiments, against the real NNI 3.0 manager.

Prints:
* simulated trials per second for one experiment of 10,000 short trials (fake, in memory);
* wall time of ``run()`` for 100 trials x 60 virtual seconds (fake, in memory);
* the throughput of the real NNI manager when ``nni`` is installed (a few trials that exit at once,
  measured in the same run), and the ratio of the two measured throughputs (never a ratio against a
  computed time). Every row of issue 10's table: ``benchmarks/perf_table.py``.

Usage: ``python benchmarks/fake_throughput.py [--trials 10000] [--real-trials 6] [--no-real]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from fakes import FakeManager, ManagerTiming
from nni_exp import Experiment, ExperimentConfig
from nni_exp.testing.backends import free_port


def config(trials: int, concurrency: int, command: str = "true", directory: str = ".") -> ExperimentConfig:
    cfg = ExperimentConfig("local")
    cfg.trial_command = command
    cfg.trial_code_directory = directory
    cfg.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "choice", "_value": [1, 2, 3]}}
    cfg.tuner.name = "Random"
    cfg.trial_concurrency = concurrency
    cfg.max_trial_number = trials
    return cfg


def short_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(0.1)
    return float(params["x"])


def minute_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(60)
    return float(params["x"])


def warm_up() -> None:
    """One small experiment first: the first of a process imports NNI's algorithms (about a second), which
    the timed runs would otherwise count."""
    exp = Experiment(config(20, concurrency=5), backend=FakeManager(short_trial, seed=1))
    assert exp.run() is True
    exp.stop()


def fake_throughput(trials: int) -> Dict[str, float]:
    fake = FakeManager(short_trial, seed=1, timing=ManagerTiming())
    exp = Experiment(config(trials, concurrency=50), backend=fake)
    start = time.perf_counter()
    assert exp.run() is True
    elapsed = time.perf_counter() - start
    finished = len(exp.list_trial_jobs())
    exp.stop()
    assert finished == trials, finished
    return {"trials": finished, "seconds": elapsed, "trials_per_second": finished / elapsed}


def fake_run_100_minute_trials(repeat: int = 5) -> Dict[str, float]:
    times: List[float] = []
    for seed in range(repeat):
        fake = FakeManager(minute_trial, seed=seed)
        exp = Experiment(config(100, concurrency=4), backend=fake)
        start = time.perf_counter()
        assert exp.run() is True
        times.append(time.perf_counter() - start)
        assert len(exp.list_trial_jobs()) == 100
        exp.stop()
    return {"median_seconds": statistics.median(times), "virtual_seconds": fake.clock.monotonic()}


def real_throughput(trials: int) -> Optional[Dict[str, float]]:
    try:
        from nni_exp.real import RealBackend
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as home:
        trial = Path(home) / "trial.py"
        trial.write_text("import nni\np = nni.get_next_parameter()\nnni.report_final_result(p['x'])\n")
        cfg = config(trials, concurrency=2, command=f"{sys.executable} trial.py", directory=home)
        cfg.experiment_working_directory = str(Path(home) / "exps")
        exp = Experiment(cfg, backend=RealBackend(home=home))
        port = free_port()
        start = time.perf_counter()
        try:
            exp.run(port)
            elapsed = time.perf_counter() - start
            finished = len(exp.list_trial_jobs())
        finally:
            exp.stop()
    return {"trials": finished, "seconds": elapsed, "trials_per_second": finished / elapsed}



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--real-trials", type=int, default=6)
    parser.add_argument("--no-real", action="store_true", help="skip the real NNI manager")
    options = parser.parse_args()

    warm_up()
    fake = fake_throughput(options.trials)
    print(f"fake, in memory: {fake['trials']:.0f} trials in {fake['seconds']:.2f} s "
          f"= {fake['trials_per_second']:,.0f} simulated trials/s")
    run = fake_run_100_minute_trials()
    print(f"fake, in memory: run() of 100 trials x 60 virtual s (concurrency 4, {run['virtual_seconds']:.0f} "
          f"virtual s) = {run['median_seconds'] * 1000:.1f} ms wall (median of 5)")
    if options.no_real:
        return 0
    real = real_throughput(options.real_trials)
    if real is None:
        print("real NNI manager: not installed (pip install 'nni-exp[nni]'), no ratio")
        return 0
    print(f"real NNI 3.0 manager: {real['trials']:.0f} trials that exit at once in {real['seconds']:.2f} s "
          f"= {real['trials_per_second']:.2f} trials/s")
    print(f"ratio fake/real, both measured above: {fake['trials_per_second'] / real['trials_per_second']:,.0f}x "
          "trials per second")
    print("run() of 100 trials x 60 s: not run on the real manager (it would take 25 minutes of wall time); "
          "no ratio is printed against a time that was not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
