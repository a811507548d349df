"""Start-up time and per-call latency: the real NNI 3.0 manager, the fake manager server, the in-memory fake.

Measured in one run (medians):

1. **time to a ready manager**: from spawning the manager process to the first ``/check-status`` that
   answers JSON (the real manager first answers the plain text ``INITIALIZING``); for the in-memory
   fake, ``spawn_manager`` plus one ``/check-status``;
2. **Experiment.start()**: NNI 3.0's own ``nni.experiment.Experiment.start()`` (in a subprocess whose
   ``HOME`` is a throw-away directory, set before ``nni`` is imported; the import is not timed) against
   nni-exp's ``Experiment.start()`` on the real backend, the fake server and the in-memory fake;
3. **per-call latency** of ``get_status()`` and ``list_trial_jobs()`` on an experiment with N trials
   (default 1,000). On the real manager the trials are ``true`` (they exit at once), 50 at a time; if
   the manager cannot finish N of them within ``--real-budget`` seconds (default 180), the experiment
   is measured with the trials it has by then, and the table says how many.

Every manager runs under a throw-away ``HOME`` and working directory, on free ports, and is stopped
(or killed) before the script ends.

Usage::

    .venv/bin/python benchmarks/startup.py [--trials 1000] [--repeat 5] [--calls 30] [--no-real]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from figures import show  # noqa: E402  (benchmarks/figures.py, beside this script)

from fakes import FakeManager  # noqa: E402
from nni_exp import Experiment, ExperimentConfig  # noqa: E402
from nni_exp.backend import ManagerArgs, RunMode  # noqa: E402
from nni_exp.errors import NniExpError  # noqa: E402
from nni_exp.testing.backends import free_port  # noqa: E402

TARGETS = ("real", "server", "memory")
LABELS = {"real": "real NNI manager", "server": "fake server", "memory": "in-memory fake"}
#: Fake server time scale for the N-trial experiment: its 10-virtual-second default trials take 10 ms.
SERVER_TIME_SCALE = 1000.0



def nni_available() -> bool:
    """Whether the real NNI 3.0 manager can run here."""
    try:
        import nni
        import nni_node  # noqa: F401
    except ImportError:
        return False
    return str(getattr(nni, "__version__", "")).startswith("3.0")


def config(directory: Path, trials: int = 1, concurrency: int = 1) -> ExperimentConfig:
    """A local Random-tuner config whose trials run ``true`` (they exit at once)."""
    return ExperimentConfig(
        experiment_name="startup-benchmark", search_space={"x": {"_type": "uniform", "_value": [0, 1]}},
        trial_command="true", trial_code_directory=str(directory), trial_concurrency=concurrency,
        max_trial_number=trials, tuner={"name": "Random", "class_args": {"seed": 1}},
        training_service={"platform": "local"}, experiment_working_directory=str(directory / "work"),
    )


def instant_trial(params: Dict[str, Any], trial: Any) -> float:
    """An in-memory fake trial that ends at once, like ``true``."""
    return float(params["x"])


@dataclass
class Backends:
    """Makes a fresh backend of each kind, every one under its own throw-away home."""

    root: Path
    made: List[Any] = field(default_factory=list)
    count: int = 0

    def directory(self) -> Path:
        """A new empty run directory (with ``work/``)."""
        self.count += 1
        path = self.root / f"run{self.count}"
        (path / "work").mkdir(parents=True)
        return path

    def make(self, kind: str, directory: Path, time_scale: float = 1.0) -> Any:
        """A backend of ``kind`` (``real``, ``server``, ``memory``) whose home is under ``directory``."""
        if kind == "memory":
            return FakeManager(instant_trial, seed=1)
        from nni_exp.real import RealBackend

        if kind == "real":
            backend = RealBackend(home=directory / "home", kill_grace=1.0)
        else:
            command = [sys.executable, "-m", "fakes.server", "--time-scale", f"{time_scale:g}", "--seed", "1"]
            backend = RealBackend(home=directory / "home", manager_command=command, kill_grace=1.0,
                                  env={"PYTHONPATH": str(REPO_DIR)})
        self.made.append(backend)
        return backend

    def close(self) -> None:
        """Kill whatever the real backends' managers left running."""
        for backend in self.made:
            backend.kill_running_managers()
            backend.close()


# ---------------------------------------------------------------------- 1. ready manager


def time_to_ready(backends: Backends, kind: str) -> float:
    """Seconds from spawning a manager to its first JSON ``/check-status`` answer."""
    directory = backends.directory()
    backend = backends.make(kind, directory)
    port = free_port()
    args = ManagerArgs(port=port, experiment_id=f"bench{backends.count:03d}", action="create", mode="local",
                       experiments_directory=str(directory / "work"), log_level="info")
    started = time.perf_counter()
    process = backend.spawn_manager(args, RunMode.Background)
    try:
        while True:
            try:
                answer = backend.request("GET", port, "/check-status", timeout=2.0)
                if isinstance(answer, dict):
                    return time.perf_counter() - started
            except (NniExpError, OSError):
                pass  # not listening yet, or still INITIALIZING (plain text)
            if not process.is_alive():
                raise RuntimeError(f"{kind} manager exited during start-up: {process.log_tail()}")
            if kind != "memory":
                time.sleep(0.005)
    finally:
        process.kill()


# ---------------------------------------------------------------------- 2. Experiment.start()

_NNI_START = textwrap.dedent("""\
    import json, sys, time
    from nni.experiment import Experiment, ExperimentConfig
    directory, port = sys.argv[1], int(sys.argv[2])
    config = ExperimentConfig("local")
    config.experiment_name = "startup-benchmark"
    config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config.trial_command = "true"
    config.trial_code_directory = directory
    config.trial_concurrency = 1
    config.max_trial_number = 1
    config.tuner.name = "Random"
    config.experiment_working_directory = directory + "/work"
    experiment = Experiment(config)
    started = time.perf_counter()
    experiment.start(port)
    elapsed = time.perf_counter() - started
    experiment.stop()
    print("RESULT " + json.dumps({"start": elapsed}))
""")


def nni_start_once(backends: Backends) -> float:
    """NNI's own ``Experiment.start()``, in a subprocess with a throw-away HOME."""
    directory = backends.directory()
    home = directory / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", _NNI_START, str(directory), str(free_port())], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return float(json.loads(line[7:])["start"])
    raise RuntimeError(f"NNI's Experiment.start() failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                       f"{done.stderr[-2000:]}")


def our_start_once(backends: Backends, kind: str) -> float:
    """nni-exp's ``Experiment.start()`` on a backend of ``kind``."""
    directory = backends.directory()
    experiment = Experiment(config(directory), backend=backends.make(kind, directory))
    started = time.perf_counter()
    experiment.start(free_port())
    elapsed = time.perf_counter() - started
    experiment.stop()
    return elapsed


# ---------------------------------------------------------------------- 3. per-call latency


@dataclass
class Latency:
    """Per-call latencies (seconds) on an experiment with ``trials`` trials."""

    trials: int
    status: List[float]
    listing: List[float]
    fill_seconds: float
    note: str = ""


def call_latency(backends: Backends, kind: str, trials: int, calls: int, budget: float) -> Latency:
    """Fill an experiment with ``trials`` finished trials (or as many as ``budget`` seconds allow on the
    real manager), then time ``calls`` calls of ``get_status`` and of ``list_trial_jobs``."""
    directory = backends.directory()
    backend = backends.make(kind, directory, time_scale=SERVER_TIME_SCALE)
    experiment = Experiment(config(directory, trials=trials, concurrency=50), backend=backend)
    note = ""
    started = time.perf_counter()
    try:
        if kind == "memory":
            assert experiment.run(free_port()) is True
        else:
            experiment.start(free_port())
            deadline = time.monotonic() + budget
            while experiment.get_status() != "DONE":
                if time.monotonic() > deadline:
                    note = f"stopped filling after {budget:g} s"
                    break
                time.sleep(0.5)
        fill = time.perf_counter() - started
        count = len(experiment.list_trial_jobs())
        status = _timed(experiment.get_status, calls)
        listing = _timed(experiment.list_trial_jobs, calls)
    finally:
        experiment.stop()
    return Latency(count, status, listing, fill, note)


def _timed(function: Callable[[], Any], calls: int) -> List[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


# ---------------------------------------------------------------------- output


def speedup(reference: Optional[float], value: Optional[float]) -> str:
    """How many times faster than the reference."""
    if reference is None or value is None or value <= 0:
        return "-"
    return f"{reference / value:.1f}x"


def table(title: str, rows: List[List[str]], header: List[str]) -> None:
    """Print an aligned table."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def median(values: List[float]) -> Optional[float]:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def spread(values: List[float]) -> str:
    """``min - max`` of the values."""
    return f"{show(min(values))} - {show(max(values))}" if values else "-"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark and print the tables (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000, help="trials of the latency experiment (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="start-ups measured per target (default 5)")
    parser.add_argument("--calls", type=int, default=30, help="calls timed per method and target (default 30)")
    parser.add_argument("--real-budget", type=float, default=180.0,
                        help="seconds the real manager gets to run the trials (default 180)")
    parser.add_argument("--no-real", action="store_true", help="skip the real NNI manager")
    args = parser.parse_args(argv)
    real = not args.no_real and nni_available()
    kinds = [kind for kind in TARGETS if real or kind != "real"]
    print(f"nni-exp start-up benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"real NNI manager {'included' if real else 'not measured'}")

    with tempfile.TemporaryDirectory(prefix="nni-exp-bench-") as tmp:
        backends = Backends(Path(tmp))
        try:
            ready = {kind: [time_to_ready(backends, kind) for _ in range(args.repeat)] for kind in kinds}
            starts: Dict[str, List[float]] = {kind: [our_start_once(backends, kind) for _ in range(args.repeat)]
                                              for kind in kinds}
            nni_starts = [nni_start_once(backends) for _ in range(args.repeat)] if real else []
            latency = {kind: call_latency(backends, kind, args.trials, args.calls, args.real_budget)
                       for kind in kinds}
        finally:
            backends.close()

    reference = median(ready.get("real", []))
    table(f"1. Time to a ready manager (spawn -> /check-status answers JSON), median of {args.repeat}",
          [[LABELS[k], show(median(ready[k])), spread(ready[k]), speedup(reference, median(ready[k]))]
           for k in kinds],
          ["target", "median", "min - max", "faster than real"])

    nni_median = median(nni_starts)
    rows = [["NNI 3.0 nni.experiment.Experiment.start()", show(nni_median), spread(nni_starts),
             "1.0x" if real else "-"]]
    for kind in kinds:
        value = median(starts[kind])
        rows.append([f"nni-exp Experiment.start(), {LABELS[kind]}", show(value), spread(starts[kind]),
                     speedup(nni_median, value)])
    table(f"2. Experiment.start() (spawn, ready, manifest record, POST /experiment), median of {args.repeat}",
          rows, ["call", "median", "min - max", "faster than NNI's"])

    rows = []
    for method, attribute in (("get_status()", "status"), ("list_trial_jobs()", "listing")):
        base = median(getattr(latency["real"], attribute)) if real else None
        for kind in kinds:
            values = getattr(latency[kind], attribute)
            rows.append([method, LABELS[kind], str(latency[kind].trials), show(median(values)), spread(values),
                         speedup(base, median(values))])
    table(f"3. Per-call latency with {args.trials} trials requested, median of {args.calls} calls",
          rows, ["call", "target", "trials", "median", "min - max", "faster than real"])
    for kind in kinds:
        item = latency[kind]
        extra = f" ({item.note})" if item.note else ""
        print(f"  filling: {LABELS[kind]} ran {item.trials} trials in {show(item.fill_seconds)}{extra}")
        if item.trials < args.trials:
            print(f"  NOTE: {LABELS[kind]} was measured with {item.trials} trials, not {args.trials}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
