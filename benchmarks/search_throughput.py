"""The fake's search: trials per second with nni-exp's own sampler, NNI's Random and NNI's TPE in-process.

Prints, each over ``--repeat`` runs (min / median / max):

* simulated trials per second of one experiment (``--trials`` short trials, concurrency 50) whose
  search is nni-exp's own Random sampler (``FakeManager(search="own")``) and NNI's own RandomTuner
  run in-process (``search="nni"``, the default where ``nni`` is installed);
* the same for NNI's TPE (``--tpe-trials`` trials, one at a time, so that every suggestion sees every
  result), with the time spent inside TPE's own methods measured by timing wrappers around them: the
  fake's overhead (manager simulation, tuner command protocol, NNI's dispatcher) is the rest, given
  as a percentage of TPE's own time;
* the real NNI 3.0 manager running TPE on short real trials, measured in the same run, and the ratios.

Usage: ``python benchmarks/search_throughput.py [--trials 10000] [--tpe-trials 300] [--repeat 5]
[--real-trials 6] [--no-real]``
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from figures import stats  # benchmarks/figures.py, beside this script

from fakes import FakeManager
from fakes.search import nni_missing_reason
from nni_exp import Experiment, ExperimentConfig
from nni_exp.testing.backends import free_port

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "choice", "_value": [1, 2, 3]}}


def config(trials: int, concurrency: int, tuner: Dict[str, Any], command: str = "true",
           directory: str = ".") -> ExperimentConfig:
    return ExperimentConfig(search_space=SPACE, trial_command=command, trial_code_directory=directory,
                            trial_concurrency=concurrency, max_trial_number=trials, tuner=tuner,
                            training_service={"platform": "local"})


def short_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(0.1)
    return float(params["x"])


def fake_run(trials: int, concurrency: int, tuner: Dict[str, Any], search: str) -> float:
    """Seconds of ``run()`` for one experiment on a fresh fake (the tuner's import is done before)."""
    fake = FakeManager(short_trial, seed=1, search=search)
    exp = Experiment(config(trials, concurrency, tuner), backend=fake)
    start = time.perf_counter()
    assert exp.run() is True
    elapsed = time.perf_counter() - start
    finished = len(exp.list_trial_jobs())
    exp.stop()
    assert finished == trials, finished
    return elapsed


def rate_line(label: str, trials: int, seconds: List[float]) -> str:
    low, mid, high = stats([trials / s for s in seconds])
    return f"{label:44} {trials:>7,}  {low:>9,.0f}  {mid:>9,.0f}  {high:>9,.0f}"


class AlgorithmClock:
    """Accumulates the time spent inside a tuner class's methods (the outermost call only)."""

    METHODS = ("update_search_space", "generate_parameters", "receive_trial_result", "trial_end", "import_data")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.seconds = 0.0
        self._depth = 0
        self._saved: Dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> AlgorithmClock:
        for name in self.METHODS:
            original = self.cls.__dict__.get(name)
            if original is None:
                continue
            self._saved[name] = original
            setattr(self.cls, name, self._timed(original))
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, original in self._saved.items():
            setattr(self.cls, name, original)

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        clock = self

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            clock._depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - start

        return wrapper


def tpe_overhead(trials: int, repeat: int) -> Tuple[List[float], List[float]]:
    """Wall seconds of each TPE run and the overhead of each, in % of TPE's own time."""
    from nni.algorithms.hpo.tpe_tuner import TpeTuner

    tuner = {"name": "TPE", "class_args": {"optimize_mode": "maximize", "seed": 7}}
    walls: List[float] = []
    overheads: List[float] = []
    for _ in range(repeat):
        with AlgorithmClock(TpeTuner) as clock:
            wall = fake_run(trials, 1, tuner, "nni")
        walls.append(wall)
        overheads.append(100 * (wall - clock.seconds) / clock.seconds)
    return walls, overheads


def real_tpe(trials: int) -> Optional[float]:
    """Seconds of ``run()`` for ``trials`` TPE trials that exit at once, on the real manager."""
    from nni_exp.testing.backends import nni_missing_reason as real_missing

    if real_missing() is not None:
        return None
    from nni_exp.real import RealBackend

    with tempfile.TemporaryDirectory() as home:
        trial = Path(home) / "trial.py"
        trial.write_text("import nni\np = nni.get_next_parameter()\nnni.report_final_result(p['x'])\n")
        cfg = config(trials, 2, {"name": "TPE", "class_args": {"seed": 7}}, f"{sys.executable} trial.py", home)
        cfg.experiment_working_directory = str(Path(home) / "exps")
        exp = Experiment(cfg, backend=RealBackend(home=home))
        start = time.perf_counter()
        try:
            exp.run(free_port())
            elapsed = time.perf_counter() - start
            assert len(exp.list_trial_jobs()) == trials
        finally:
            exp.stop()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000, help="trials of the Random runs")
    parser.add_argument("--tpe-trials", type=int, default=300, help="trials of the TPE runs (one at a time)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--real-trials", type=int, default=6)
    parser.add_argument("--no-real", action="store_true", help="skip the real NNI manager")
    options = parser.parse_args()
    random_tuner = {"name": "Random", "class_args": {"seed": 1}}

    print(f"{'trials per second (simulated)':44} {'trials':>7}  {'min':>9}  {'median':>9}  {'max':>9}")
    fake_run(50, 50, random_tuner, "own")  # warm-up (imports)
    own = [fake_run(options.trials, 50, random_tuner, "own") for _ in range(options.repeat)]
    print(rate_line("own Random sampler (search='own')", options.trials, own))
    reason = nni_missing_reason()
    if reason:
        print(f"NNI's algorithms in-process: not available ({reason})")
        return 0
    fake_run(50, 50, random_tuner, "nni")
    fake_run(5, 1, {"name": "TPE"}, "nni")
    nni_random = [fake_run(options.trials, 50, random_tuner, "nni") for _ in range(options.repeat)]
    print(rate_line("NNI's RandomTuner in-process (search='nni')", options.trials, nni_random))
    walls, overheads = tpe_overhead(options.tpe_trials, options.repeat)
    print(rate_line("NNI's TPE in-process, one trial at a time", options.tpe_trials, walls))
    low, mid, high = stats(overheads)
    print(f"TPE: the fake's overhead over TPE's own time (timing wrappers on TpeTuner's methods): "
          f"min {low:.1f} %, median {mid:.1f} %, max {high:.1f} %")
    if options.no_real:
        return 0
    real = real_tpe(options.real_trials)
    if real is None:
        print("real NNI manager: not available, no ratio")
        return 0
    real_rate = options.real_trials / real
    print(f"real NNI 3.0 manager, TPE, {options.real_trials} trials that exit at once (concurrency 2): "
          f"{real:.2f} s = {real_rate:.2f} trials/s")
    print(f"ratios fake/real (median): NNI Random {options.trials / statistics.median(nni_random) / real_rate:,.0f}x, "
          f"TPE {options.tpe_trials / statistics.median(walls) / real_rate:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
