"""The ``nni-exp`` command.

``nni-exp run CONFIG.yml`` runs the experiment that an NNI YAML config describes (the file
``nnictl create --config`` takes) and prints its progress, its trials and the best result. It runs on
the in-memory fake manager unless ``--backend nni`` asks for the real one. On the fake, each trial
runs the config's ``trialCommand`` for real, as ``nnictl create`` would (the fake replaces the
manager, not the trials); ``--simulate`` invents the metrics instead and says so; ``--trial
MODULE:FUNCTION`` runs a scripted trial function. Exit code: 0 when the experiment is DONE with at
least one trial succeeded, 1 when it ends in ERROR or every trial failed, 2 for bad usage or a bad
config, 130 on Ctrl-C.

``nni-exp fake-manager ...`` starts the fake manager as an HTTP server, with the NNI manager's
command-line arguments (see :mod:`fakes.server`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

from .config import ExperimentConfig, load_config_file
from .data import TrialJob
from .durations import parse_duration
from .errors import InvalidArgumentError, NniExpError
from .experiment import Experiment
from .reprs import short_repr

__all__ = ["main", "load_trial_function"]



def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``nni-exp`` command; returns the exit code.

    ``argv`` (default ``sys.argv[1:]``) must be a sequence of strings, or
    :class:`~nni_exp.errors.InvalidArgumentError` names the first item that is not; bad usage exits
    through ``SystemExit(2)`` with argparse's message, as any command line tool.
    """
    arguments = _arguments(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "fake-manager":
        from fakes.server import main as fake_manager_main

        return fake_manager_main(arguments[1:], prog="nni-exp fake-manager")
    parser = _parser()
    options = parser.parse_args(arguments)
    if options.command != "run":
        parser.print_help()
        return 2
    return _run(options, sys.stdout, sys.stderr)


def _arguments(argv: Any) -> List[str]:
    if isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence):
        raise InvalidArgumentError(f"argv must be a list of strings, got {short_repr(argv)}", "argv", argv)
    for index, item in enumerate(argv):
        if not isinstance(item, str):
            raise InvalidArgumentError(f"argv[{index}] must be a string, got {short_repr(item)} "
                                       f"({type(item).__name__})", "argv", argv)
    return list(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nni-exp", description="Drive NNI experiments on a real or a fake manager.")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser(
        "run", help="run the experiment an NNI YAML config describes",
        description="Run the experiment an NNI config describes, as `nnictl create` would, and print its trials "
                    "and best result. On the fake manager (the default) each trial runs the config's trialCommand "
                    "for real; the fake replaces NNI's Node.js manager, not your trials.",
        epilog="exit codes: 0 DONE with at least one trial succeeded; 1 ERROR, or every trial failed; "
               "2 bad usage or config; 130 interrupted")
    run.add_argument("config", help="an NNI experiment config file (YAML or JSON)")
    run.add_argument("--backend", choices=("fake", "nni"), default="fake",
                     help="fake: the in-memory fake manager (default); nni: the real NNI manager")
    trials = run.add_mutually_exclusive_group()
    trials.add_argument("--simulate", action="store_true",
                        help="fake backend only: do not run trialCommand; each trial takes 10 virtual seconds and "
                             "reports an invented metric derived from its parameters")
    trials.add_argument("--trial", metavar="MODULE:FUNCTION",
                        help="fake backend only: the scripted trial fn(params, trial) instead of trialCommand "
                             "(module looked up next to the config and in the current directory)")
    run.add_argument("--max-trials", type=_positive_int, metavar="N",
                     help="stop after N trials (caps the config's maxTrialNumber)")
    run.add_argument("--max-duration", type=_duration, metavar="D",
                     help="stop after D, e.g. 90s, 10m, 1h (caps the config's maxExperimentDuration)")
    run.add_argument("--seed", type=int, help="fake backend only: seed of trial ids and tuners")
    run.add_argument("--port", type=int, default=8080, help="manager port (default 8080)")
    run.add_argument("--quiet", action="store_true", help="print only the result")
    commands.add_parser("fake-manager", help="start the fake manager as an HTTP server (NNI manager arguments)")
    return parser


#: Trials ``--simulate`` runs when the config and the command line set no limit.
SIMULATE_DEFAULT_TRIALS = 100


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def _duration(text: str) -> str:
    try:
        seconds = parse_duration(text)
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 10m or 1h, got {text!r} ({error})") \
            from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0, got {text!r}")
    return text


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
    for notice in _apply_limits(config, options):
        print(f"nni-exp: {notice}", file=err)
    experiment = Experiment(config, backend=backend)
    reporter = _ProgressReporter(experiment, out, quiet=options.quiet, virtual=_mode(options) != "real trials")
    try:
        with experiment:
            if not options.quiet:
                print(_describe_run(options, config), file=out, flush=True)
            experiment.start(options.port)
            if not options.quiet:
                _print_search(experiment, out)
                if options.backend == "nni":
                    print(f"Web UI: http://localhost:{options.port}", file=out, flush=True)
            ok = experiment.wait_completion(on_poll=reporter)
            trials = experiment.list_trial_jobs()
            status = experiment.get_status()
            errors = experiment._request("GET", "/check-status").get("errors", [])
            failure = _first_failure(trials)
    except KeyboardInterrupt:
        print("nni-exp: interrupted, experiment stopped", file=err)
        return 130
    except NniExpError as error:
        print(f"nni-exp: {error}", file=err)
        return 1
    _print_result(out, experiment.id, status, errors, trials, _optimize_mode(config),
                  simulated=_mode(options) == "simulated")
    if not ok:
        return 1
    if trials and not any(job.status == "SUCCEEDED" for job in trials):
        print(f"nni-exp: every trial failed. {failure}", file=err)
        return 1
    return 0


def _mode(options: argparse.Namespace) -> str:
    """What the trials are: ``real trials``, ``simulated`` or ``scripted``."""
    if options.backend == "nni":
        return "real trials"
    if options.simulate:
        return "simulated"
    return "scripted" if options.trial else "real trials"


def _describe_run(options: argparse.Namespace, config: ExperimentConfig) -> str:
    """The first line: what runs where."""
    try:
        config = config.canonical_copy()  # absolute trialCodeDirectory
    except (NniExpError, ValueError, TypeError):
        pass
    if options.backend == "nni":
        return f"Real NNI manager: each trial runs `{config.trial_command}` in {config.trial_code_directory}."
    if options.simulate:
        return ("SIMULATION on nni-exp's fake NNI manager: trialCommand is NOT run; each trial takes 10 virtual "
                "seconds and reports an invented metric derived from its parameters. Times are virtual seconds.")
    if options.trial:
        return (f"Scripted trials ({options.trial}) on nni-exp's fake NNI manager: trialCommand is not run. "
                "Times are virtual seconds.")
    return (f"nni-exp's fake NNI manager: each trial runs `{config.trial_command}` in "
            f"{config.trial_code_directory}, as `nnictl create` would.")


def _apply_limits(config: ExperimentConfig, options: argparse.Namespace) -> List[str]:
    """Apply ``--max-trials`` and ``--max-duration``; one-line notices for the user."""
    if options.max_trials is not None:
        current = config.max_trial_number
        config.max_trial_number = options.max_trials if current is None else min(current, options.max_trials)
    if options.max_duration is not None:
        current_duration = config.max_experiment_duration
        if current_duration is None or parse_duration(options.max_duration) < parse_duration(current_duration):
            config.max_experiment_duration = options.max_duration
    if config.max_trial_number is not None or config.max_experiment_duration is not None:
        return []
    if options.backend == "fake" and options.simulate:
        config.max_trial_number = SIMULATE_DEFAULT_TRIALS
        return [f"the config sets no maxTrialNumber or maxExperimentDuration: --simulate stops after "
                f"{SIMULATE_DEFAULT_TRIALS} trials (set --max-trials N or --max-duration D)"]
    return ["the config sets no maxTrialNumber or maxExperimentDuration: the experiment runs until you stop it "
            "(Ctrl-C), as with nnictl; cap it with --max-trials N or --max-duration D"]


def _first_failure(trials: List[TrialJob]) -> str:
    """Where to look when trials failed: the first failed trial's stderr tail and path."""
    failed = [job for job in trials if job.status == "FAILED"]
    if not failed:
        return ""
    job = failed[0]
    if not job.logPath:
        return f"First failed trial: {job.trialJobId}."
    path = Path(job.logPath) / "trial.stderr"  # the local training service's file, on this machine
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    tail = "\n".join(text.strip().splitlines()[-10:])
    hint = ""
    if "No module named 'nni'" in text:
        hint = ("\nThe trial's Python has no nni: activate the environment that has it, or name its python in "
                "trialCommand.")
    return f"First failed trial {job.trialJobId} (stderr: {path}):\n{tail}{hint}"


def _backend(options: argparse.Namespace, config_path: Path) -> Any:
    if options.backend == "nni":
        if options.trial or options.seed is not None or options.simulate:
            raise ValueError("--trial, --simulate and --seed only apply to the fake backend (the real manager runs "
                             "trialCommand)")
        return "nni"
    from fakes import FakeManager

    if options.simulate:
        return FakeManager(seed=options.seed)
    if options.trial:
        return FakeManager(load_trial_function(options.trial, [config_path.parent, Path.cwd()]), seed=options.seed)
    return FakeManager(seed=options.seed, real_trials=True)


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
    """Prints a line when the experiment's status or trial counts change, with elapsed seconds on the
    backend's clock (virtual seconds on the fake; at most one line per second of real time, status
    changes always)."""

    def __init__(self, experiment: Experiment, out: TextIO, quiet: bool, virtual: bool) -> None:
        self.experiment = experiment
        self.out = out
        self.quiet = quiet
        self.unit = "s virtual" if virtual else "s"
        self.start = experiment.backend.clock.monotonic()
        self.last = ""
        self.last_status = ""
        self.last_printed = -math.inf

    def __call__(self, status: str) -> None:
        if self.quiet:
            return
        counts = {item["trialJobStatus"]: item["trialJobNumber"] for item in self.experiment.get_job_statistics()}
        summary = ", ".join(f"{number} {name.lower()}" for name, number in counts.items()) or "no trials yet"
        line = f"{status:<20} {summary}"
        now = time.monotonic()
        if line == self.last or (status == self.last_status and now - self.last_printed < 1.0):
            return
        elapsed = self.experiment.backend.clock.monotonic() - self.start
        print(f"[{elapsed:8.1f} {self.unit}] {line}", file=self.out, flush=True)
        self.last, self.last_status, self.last_printed = line, status, now


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
                  optimize_mode: str, simulated: bool = False) -> None:
    print(f"\nExperiment {experiment_id}: {status}" + (f" ({'; '.join(errors)})" if errors else ""), file=out)
    metric_header = "invented" if simulated else "metric"
    print(f"{'trial':<7} {'seq':>4} {'status':<14} {metric_header:>12}  parameters", file=out)
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
    label = "simulated best" if simulated else "Best"
    print(f"{label} ({optimize_mode}): trial {best.trialJobId} metric {best_metric:g} "
          f"parameters {json.dumps(parameters, sort_keys=True)}", file=out)


if __name__ == "__main__":
    sys.exit(main())
