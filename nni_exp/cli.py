"""The ``nni-exp`` command.

``nni-exp run CONFIG.yml`` runs the experiment that an NNI YAML config describes (the file
``nnictl create --config`` takes) and prints its progress, its trials and the best result. It runs on
the in-memory fake manager unless ``--backend nni`` asks for the real one. Exit code: 0 when the
experiment ends well, 1 when it ends in ERROR, 2 for bad usage or a bad config, 130 on Ctrl-C.

``nni-exp fake-manager ...`` starts the fake manager as an HTTP server, with the NNI manager's
command-line arguments (see :mod:`fakes.server`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

from .config import ExperimentConfig, load_config_file
from .data import TrialJob
from .errors import NniExpError
from .experiment import Experiment

__all__ = ["main", "load_trial_function"]



def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``nni-exp`` command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "fake-manager":
        from fakes.server import main as fake_manager_main

        return fake_manager_main(arguments[1:])
    parser = _parser()
    options = parser.parse_args(arguments)
    if options.command != "run":
        parser.print_help()
        return 2
    return _run(options, sys.stdout, sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nni-exp", description="Drive NNI experiments on a real or a fake manager.")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run the experiment an NNI YAML config describes")
    run.add_argument("config", help="an NNI experiment config file (YAML or JSON)")
    run.add_argument("--backend", choices=("fake", "nni"), default="fake",
                     help="fake: the in-memory fake manager (default); nni: the real NNI manager")
    run.add_argument("--trial", metavar="MODULE:FUNCTION",
                     help="fake backend only: the scripted trial fn(params, trial) (module looked up next to the "
                          "config and in the current directory)")
    run.add_argument("--seed", type=int, help="fake backend only: seed of trial ids and tuners")
    run.add_argument("--port", type=int, default=8080, help="manager port (default 8080)")
    run.add_argument("--quiet", action="store_true", help="print only the result")
    commands.add_parser("fake-manager", help="start the fake manager as an HTTP server (NNI manager arguments)")
    return parser


def _run(options: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config_path = Path(options.config)
    try:
        loaded = load_config_file(config_path)  # checked in full; ConfigError: one line naming file and field
        for notice in loaded.notices:
            print(f"nni-exp: {notice}", file=err)
        config = loaded.config
        backend = _backend(options, config_path)
    except (NniExpError, ValueError, TypeError, AttributeError, OSError, ImportError) as error:
        print(f"nni-exp: {error}", file=err)
        return 2
    experiment = Experiment(config, backend=backend)
    reporter = _ProgressReporter(experiment, out, quiet=options.quiet)
    try:
        with experiment:
            experiment.start(options.port)
            if not options.quiet:
                _print_search(experiment, out)
            ok = experiment.wait_completion(on_poll=reporter)
            trials = experiment.list_trial_jobs()
            status = experiment.get_status()
            errors = experiment._request("GET", "/check-status").get("errors", [])
    except KeyboardInterrupt:
        print("nni-exp: interrupted, experiment stopped", file=err)
        return 130
    except NniExpError as error:
        print(f"nni-exp: {error}", file=err)
        return 1
    _print_result(out, experiment.id, status, errors, trials, _optimize_mode(config))
    return 0 if ok else 1


def _backend(options: argparse.Namespace, config_path: Path) -> Any:
    if options.backend == "nni":
        if options.trial or options.seed is not None:
            raise ValueError("--trial and --seed only apply to the fake backend (the real manager runs trialCommand)")
        return "nni"
    from fakes import FakeManager

    trial = load_trial_function(options.trial, [config_path.parent, Path.cwd()]) if options.trial else None
    return FakeManager(trial, seed=options.seed)


def load_trial_function(spec: str, search_path: Sequence[Path] = ()) -> Callable[..., Any]:
    """Import ``module:function``, looking for the module in ``search_path`` first."""
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise ValueError(f"--trial expects MODULE:FUNCTION, got {spec!r}")
    for directory in reversed([str(p.resolve()) for p in search_path]):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"{module_name} has no function {function_name!r}")
    return function  # type: ignore[no-any-return,unused-ignore]


class _ProgressReporter:
    """Prints one line whenever the experiment's status or trial counts change."""

    def __init__(self, experiment: Experiment, out: TextIO, quiet: bool) -> None:
        self.experiment = experiment
        self.out = out
        self.quiet = quiet
        self.start = experiment.backend.clock.monotonic()
        self.last = ""

    def __call__(self, status: str) -> None:
        if self.quiet:
            return
        counts = {item["trialJobStatus"]: item["trialJobNumber"] for item in self.experiment.get_job_statistics()}
        summary = ", ".join(f"{number} {name.lower()}" for name, number in counts.items()) or "no trials yet"
        line = f"{status:<20} {summary}"
        if line != self.last:
            elapsed = self.experiment.backend.clock.monotonic() - self.start
            print(f"[{elapsed:8.1f}s] {line}", file=self.out, flush=True)
            self.last = line


def _print_search(experiment: Experiment, out: TextIO) -> None:
    """On the fake, which implementation runs the search (and what it approximates)."""
    manager_at = getattr(experiment.backend, "manager_at", None)
    if manager_at is None or experiment.port is None:
        return
    info = manager_at(experiment.port).search_info
    if info is not None:
        print(info.describe(), file=out, flush=True)


def _optimize_mode(config: ExperimentConfig) -> str:
    tuner = config.tuner
    class_args = getattr(tuner, "class_args", None) or {}
    mode = class_args.get("optimize_mode", "maximize")
    return "minimize" if str(mode).lower() == "minimize" else "maximize"


def _metric(job: TrialJob) -> Optional[float]:
    if not job.finalMetricData:
        return None
    value = job.finalMetricData[0].data
    if isinstance(value, dict):
        value = value.get("default")
    return float(value) if isinstance(value, (int, float)) else None


def _print_result(out: TextIO, experiment_id: str, status: str, errors: List[str], trials: List[TrialJob],
                  optimize_mode: str) -> None:
    print(f"\nExperiment {experiment_id}: {status}" + (f" ({'; '.join(errors)})" if errors else ""), file=out)
    print(f"{'trial':<7} {'seq':>4} {'status':<14} {'metric':>12}  parameters", file=out)
    for job in trials:
        metric = _metric(job)
        parameters: Dict[str, Any] = job.hyperParameters[0].parameters if job.hyperParameters else {}
        shown = f"{metric:12.6g}" if metric is not None else f"{'-':>12}"
        print(f"{job.trialJobId:<7} {job.sequenceId:>4} {job.status:<14} {shown}  "
              f"{json.dumps(parameters, sort_keys=True)}", file=out)
    scored = [(metric, job) for job in trials if (metric := _metric(job)) is not None]
    if not scored:
        print("No trial reported a final result.", file=out)
        return
    pick = max if optimize_mode == "maximize" else min
    best_metric, best = pick(scored, key=lambda pair: pair[0])
    parameters = best.hyperParameters[0].parameters if best.hyperParameters else {}
    print(f"Best ({optimize_mode}): trial {best.trialJobId} metric {best_metric:g} "
          f"parameters {json.dumps(parameters, sort_keys=True)}", file=out)


if __name__ == "__main__":
    sys.exit(main())
