"""Real trials: the fake's local training service against the real NNI 3.0 manager's, in one run.

For each backend (the real manager, the fake manager server with ``--real-trials`` at time scale 1,
the in-memory fake with ``real_trials=True``) and each repetition, one experiment of N trials at
concurrency 1 whose trial command only records when it started (``date +%s.%N`` into the trial's
output directory) and exits. Measured:

1. **start-up to first trial**: from calling ``Experiment.start()`` to the first trial process
   running (its own timestamp);
2. **per-trial cycle**: the time between two consecutive trial starts, (last start - first start) /
   (N - 1): what the training service and the manager add around a trial that takes no time.

Figures are min / median / max over the repetitions; ratios are real manager / backend (medians).
Every manager runs under a throw-away ``HOME`` on a free port and is stopped before the script ends.

Usage::

    .venv/bin/python benchmarks/real_trials.py [--trials 10] [--repeat 3] [--no-real]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from fakes import FakeManager  # noqa: E402
from nni_exp import Experiment, ExperimentConfig  # noqa: E402
from nni_exp.testing.backends import free_port, nni_missing_reason  # noqa: E402

LABELS = {"real": "real NNI manager", "server": "fake server --real-trials", "memory": "in-memory fake"}
TRIAL_COMMAND = 'date +%s.%N > "$NNI_OUTPUT_DIR/started"'


def make_backend(kind: str, home: Path) -> Any:
    if kind == "memory":
        return FakeManager(real_trials=True, seed=1)
    from nni_exp.real import RealBackend

    if kind == "real":
        return RealBackend(home=home, kill_grace=1.0)
    command = [sys.executable, "-m", "fakes.server", "--time-scale", "1", "--seed", "1", "--real-trials"]
    return RealBackend(home=home, manager_command=command, kill_grace=1.0, env={"PYTHONPATH": str(REPO_DIR)})


def run_once(kind: str, directory: Path, trials: int) -> Dict[str, float]:
    """One experiment: (start-up to first trial, per-trial cycle) in seconds."""
    (directory / "code").mkdir(parents=True)
    config = ExperimentConfig(
        experiment_name="real-trials-benchmark", search_space={"x": {"_type": "uniform", "_value": [0, 1]}},
        trial_command=TRIAL_COMMAND, trial_code_directory=str(directory / "code"), trial_concurrency=1,
        max_trial_number=trials, tuner={"name": "Random", "class_args": {"seed": 1}},
        training_service={"platform": "local"}, experiment_working_directory=str(directory / "work"))
    backend = make_backend(kind, directory / "home")
    experiment = Experiment(config, backend=backend)
    try:
        called = time.time()
        experiment.start(free_port())
        if not experiment.wait_completion():
            raise RuntimeError(f"{kind}: the experiment ended {experiment.get_status()}")
        starts = sorted(float(path.read_text()) for path in (directory / "work" / experiment.id).glob(
            "environments/*/trials/*/started"))
    finally:
        experiment.stop()
        close = getattr(backend, "close", None)
        if kind != "memory":
            backend.kill_running_managers()
        if close is not None:
            close()
    if len(starts) != trials:
        raise RuntimeError(f"{kind}: {len(starts)} of {trials} trials recorded their start")
    return {"first": starts[0] - called, "cycle": (starts[-1] - starts[0]) / (trials - 1)}


def spread(values: List[float]) -> str:
    return f"{min(values) * 1000:8.1f} / {statistics.median(values) * 1000:8.1f} / {max(values) * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-real", action="store_true", help="skip the real NNI manager")
    options = parser.parse_args()
    if options.trials < 2:
        parser.error("--trials must be at least 2")
    kinds = ["memory", "server"]
    if not options.no_real:
        reason = nni_missing_reason()
        if reason:
            print(f"real NNI manager skipped: {reason}")
        else:
            kinds.insert(0, "real")
    results: Dict[str, Dict[str, List[float]]] = {kind: {"first": [], "cycle": []} for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="nni_exp_bench_") as root:
        for repetition in range(options.repeat):
            for kind in kinds:
                figures = run_once(kind, Path(root) / f"{kind}{repetition}", options.trials)
                for name, value in figures.items():
                    results[kind][name].append(value)
    print(f"{options.trials} trials of `{TRIAL_COMMAND}` at concurrency 1, {options.repeat} repetitions; "
          "milliseconds, min / median / max")
    print(f"{'backend':<28} {'start-up to first trial':>28} {'per-trial cycle':>28}")
    for kind in kinds:
        print(f"{LABELS[kind]:<28} {spread(results[kind]['first']):>28} {spread(results[kind]['cycle']):>28}")
    if "real" in results:
        real = {name: statistics.median(values) for name, values in results["real"].items()}
        for kind in kinds[1:]:
            ratios = ", ".join(f"{name} {real[name] / statistics.median(values):.1f}x"
                               for name, values in results[kind].items())
            print(f"real manager / {LABELS[kind]}: {ratios} (medians)")


if __name__ == "__main__":
    main()
