"""Every row of issue 10's performance table, measured side by side in one run, plus a scaling table.

Rows (median, min and max of ``--repeat`` measurements, each compared with what it is measured against
in the same run, never with a computed time):

1. ``run()`` on the in-memory fake, per trial (concurrency 10, one final metric per trial), against a
   strict floor timed in this process: a dict record, the metric's double JSON encoding and a heap
   push/pop per trial;
2. memory per finished trial (``tracemalloc``, the experiment kept alive), with NNI's dispatcher and with
   ``search="own"``;
3. ``list_trial_jobs()``, 4. ``export_data()`` and 5. ``get_job_metrics()`` per trial on experiments
   whose trials report 5 intermediate results and a final one (1k, 10k, 100k trials), the real NNI
   manager at 1k over HTTP, whose trials report the same (through nni-exp's stand-in ``nni``, which speaks
   NNI 3.0's HTTP trial command channel, see ``reporting_trial_command``), and NNI 3.0's own client at
   every size, building its records from the same answers already decoded in memory (what any client
   returning NNI's records spends after the answer has arrived);
6. ``ExperimentStateMachine`` examples per second (30 steps per example), after a warm-up of 2 examples
   (the first experiment of a session imports NNI's algorithms: seconds, once);
7. a small ``run()``: the pytest fixture's experiment (4 trials, concurrency 2) on the in-memory fake, in
   fresh interpreters (as a test session meets it; three, 20 runs or ``--repeat`` each);
8. the real backend's ``stop()`` and 9. ``start()`` against NNI 3.0's own, same config (NNI's runs in a
   subprocess whose ``HOME`` is a throw-away directory);
10. ``import fakes`` and 11. ``import hypothesis`` then this checkout's ``hypothesis`` entry point (named
    in its pyproject.toml; what hypothesis runs at import where nni-exp is installed), in fresh
    interpreters, against bare Python and ``import hypothesis`` alone (``HYPOTHESIS_NO_PLUGINS=1``).

Then the scaling table: ``run()``, ``list_trial_jobs()``, ``export_data()``, ``get_job_metrics()`` per
trial at 1k, 10k and 100k trials (``--million`` adds 1M: minutes, and gigabytes before issue 10).

Usage::

    python benchmarks/perf_table.py [--repeat 5] [--no-real] [--million] [--only ROW,ROW] [--query-sizes N,N]
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import heapq
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from figures import show, stats  # noqa: E402  (benchmarks/figures.py, beside this script)

from fakes import FakeManager  # noqa: E402
from nni_exp import Experiment, ExperimentConfig  # noqa: E402
from nni_exp.testing.backends import free_port  # noqa: E402

ROWS = ("run", "memory", "queries", "state_machine", "small_run", "real_lifecycle", "imports", "scaling")
SEARCH_SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "choice", "_value": [1, 2, 3]}}


# ---------------------------------------------------------------------- helpers


def config(trials: int, concurrency: int, directory: str = ".", command: str = "true") -> ExperimentConfig:
    """A local Random-tuner experiment of ``trials`` trials."""
    return ExperimentConfig(
        experiment_name="perf", search_space=SEARCH_SPACE, trial_command=command, trial_code_directory=directory,
        trial_concurrency=concurrency, max_trial_number=trials, tuner={"name": "Random", "class_args": {"seed": 1}},
        training_service={"platform": "local"}, experiment_working_directory=str(Path(directory) / "work"),
    )


def final_only(params: Dict[str, Any], trial: Any) -> float:
    """A trial of one virtual second that reports only its final result."""
    trial.sleep(1.0)
    return float(params["x"])


def five_intermediates(params: Dict[str, Any], trial: Any) -> float:
    """A trial that reports 5 intermediate results, one per virtual second, then its final result."""
    for step in range(5):
        trial.sleep(1.0)
        trial.report_intermediate_result(params["x"] * step)
    return float(params["x"])


def triple(values: List[float], unit: Callable[[float], str] = show) -> str:
    """``median (min - max)``."""
    low, mid, high = stats(values)
    return f"{unit(mid)} ({unit(low)} - {unit(high)})"


def ratio(reference: List[float], values: List[float]) -> str:
    """Median of ``values`` over median of ``reference``."""
    return f"{statistics.median(values) / statistics.median(reference):.2f}x"


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of ``function`` takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def nni_available() -> bool:
    """Whether NNI 3.0 and its Node manager are installed."""
    try:
        import nni
        import nni_node  # noqa: F401
    except ImportError:
        return False
    return str(getattr(nni, "__version__", "")).startswith("3.0")


class Table:
    """The rows printed at the end: what, measured, compared with, target."""

    def __init__(self) -> None:
        self.rows: List[List[str]] = []

    def add(self, what: str, measured: str, against: str, target: str) -> None:
        self.rows.append([what, measured, against, target])
        print(f"  {what}: {measured} | {against}", flush=True)

    def print(self, title: str) -> None:
        header = ["what", "measured: median (min - max)", "side by side", "target"]
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(4)]
        print(f"\n{title}")
        print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in self.rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")


# ---------------------------------------------------------------------- 1. run() per trial, and its floor


def floor_per_trial(trials: int) -> float:
    """Seconds per trial of the least a simulator must do: a record dict, the metric encoded twice, a heap
    push and pop. The garbage collector is off meanwhile: a full collection owed by the experiments
    measured before would otherwise land in these 30 ms (3 us per trial became 12 us), and
    ``gc.collect()`` first would empty the interpreter's free lists (3 us became 5 us)."""
    heap: List[Tuple[float, int, Any]] = []
    records: Dict[str, Dict[str, Any]] = {}
    gc.disable()
    try:
        started = time.perf_counter()
        for index in range(trials):
            trial_id = f"t{index:05d}"
            value = index / trials
            data = json.dumps(json.dumps(value))
            records[trial_id] = {"trialJobId": trial_id, "status": "SUCCEEDED", "startTime": index,
                                 "endTime": index + 1, "hyperParameters": [data], "metric": data}
            heapq.heappush(heap, (float(index), index, trial_id))
            heapq.heappop(heap)
        return (time.perf_counter() - started) / trials
    finally:
        gc.enable()


def fake_run(trials: int, concurrency: int, trial: Callable[..., float],
             search: str = "auto") -> Tuple[float, Experiment]:
    """Seconds of ``run()`` per trial on the in-memory fake; the experiment (still attached) too.
    ``search``: the fake's ``search=`` (``"auto"``: NNI's dispatcher and Random tuner when NNI is installed)."""
    experiment = Experiment(config(trials, concurrency), backend=FakeManager(trial, seed=1, search=search))
    port = free_port()
    seconds = timed(lambda: experiment.run(port))
    return seconds / trials, experiment


_NNI_DISPATCHER_ALONE = textwrap.dedent("""\
    import json, logging, sys, time
    logging.disable(logging.CRITICAL)
    import nni
    import nni.runtime.msg_dispatcher as dispatcher_module
    import nni.runtime.msg_dispatcher_base as base_module
    from nni.algorithms.hpo.random_tuner import RandomTuner
    from nni.runtime.tuner_command_channel import CommandType
    trials, fast = int(sys.argv[1]), sys.argv[2] == "fast"
    if fast:  # what the fake installs in NNI's modules while its dispatcher works
        from fakes.search.nni_serializer import make_serializer
        serializer = make_serializer()
        nni.dump = dispatcher_module.dump = serializer.dump
        nni.load = dispatcher_module.load = base_module.load = serializer.load
    sent = []
    class Channel:
        def send(self, command, data):
            sent.append(data)
        _send = send
    dispatcher = dispatcher_module.MsgDispatcher("ws://_unittest_perf", RandomTuner(seed=1), None)
    dispatcher._channel = Channel()
    dispatcher.process_command(CommandType.Initialize, json.loads(sys.argv[3]))
    started = time.perf_counter()
    for index in range(trials):
        dispatcher.process_command(CommandType.RequestTrialJobs, 1)
        parameters = sent[-1]
        trial_id = f"t{index:05d}"
        dispatcher.process_command(CommandType.ReportMetricData, {
            "parameter_id": json.loads(parameters)["parameter_id"], "trial_job_id": trial_id, "type": "FINAL",
            "sequence": 0, "value": nni.dump(index / trials)})
        dispatcher.process_command(CommandType.TrialEnd, {"trial_job_id": trial_id, "event": "SUCCEEDED",
                                                          "hyper_params": parameters})
    print((time.perf_counter() - started) / trials)
""")


def nni_dispatcher_per_trial(trials: int, fast: bool) -> float:
    """Seconds per trial of NNI 3.0's own dispatcher and Random tuner alone (a fresh interpreter): a
    request for one trial, its final metric and its end, as ``process_command`` calls; ``fast``: with
    the serializer the fake installs in NNI's modules, else with NNI's own (json-tricks)."""
    done = subprocess.run([sys.executable, "-c", _NNI_DISPATCHER_ALONE, str(trials), "fast" if fast else "nni",
                           json.dumps(SEARCH_SPACE)], env={**os.environ, "PYTHONPATH": str(REPO_DIR)},
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def row_run(table: Table, repeat: int, trials: int) -> None:
    runs, floors, own_runs = [], [], []
    for search in ("auto", "own"):  # the first experiment of a process imports NNI's algorithms
        fake_run(200, 10, final_only, search)[1].stop()
    for _ in range(repeat):
        floors.append(floor_per_trial(trials))
        for search, values in (("auto", runs), ("own", own_runs)):
            per_trial, experiment = fake_run(trials, 10, final_only, search)
            assert experiment.get_status() == "DONE"
            experiment.stop()
            values.append(per_trial)
    searched_by = "NNI's dispatcher and Random tuner" if nni_available() else "the fake's own samplers (no NNI)"
    table.add(f"run() on the in-memory fake, per trial, concurrency 10 ({trials:,} trials; {searched_by})",
              triple(runs), f"floor {triple(floors)}: {ratio(floors, runs)} the floor", "<= 5x the floor")
    table.add(f"run() on the in-memory fake with search='own' (the fake's samplers), per trial ({trials:,} trials)",
              triple(own_runs), f"floor {triple(floors)}: {ratio(floors, own_runs)} the floor", "<= 5x the floor")
    if nni_available():
        alone = [nni_dispatcher_per_trial(trials, fast=True) for _ in range(repeat)]
        table.add("NNI 3.0's dispatcher and Random tuner alone, per trial (a request, a final metric, an end), "
                  "with the fake's serializer", triple(alone),
                  f"{ratio(floors, alone)} the floor; run() with NNI's search takes {ratio(alone, runs)} this", "-")
        own_serializer = [nni_dispatcher_per_trial(min(trials, 1000), fast=False) for _ in range(repeat)]
        table.add("the same with NNI's own serializer (json-tricks), as in the real dispatcher process",
                  triple(own_serializer), f"{ratio(runs, own_serializer)} run() on the fake with NNI's search", "-")


# ---------------------------------------------------------------------- 2. memory per finished trial


def row_memory(table: Table, repeat: int, trials: int) -> None:
    for search, label in (("auto", "NNI's dispatcher and Random tuner"), ("own", 'search="own"')):
        values = []
        for _ in range(max(1, min(repeat, 3))):
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            _, experiment = fake_run(trials, 10, final_only, search=search)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            values.append((after - before) / trials)
            experiment.stop()
            del experiment
        table.add(f"memory per finished trial ({trials:,} trials, tracemalloc), {label}",
                  triple(values, lambda b: f"{b / 1024:.2f} KB"), "-", "<= 1 KB")


# ---------------------------------------------------------------------- 3-5. queries per trial


def time_queries(experiment: Any, trials: int, repeat: int) -> Dict[str, List[float]]:
    """Per-trial seconds of ``list_trial_jobs``, ``export_data`` and ``get_job_metrics``, ``repeat`` calls each,
    of ``experiment``: ours, or NNI's own (its query methods have the same names)."""
    calls = {"list": experiment.list_trial_jobs, "export": experiment.export_data,
             "metrics": experiment.get_job_metrics}
    return {name: [timed(call) / trials for _ in range(repeat)] for name, call in calls.items()}


#: The routes the timed queries read.
QUERY_ROUTES = ("/trial-jobs", "/export-data", "/metric-data")


def fake_queries(trials: int, repeat: int, nni_client: bool = False) -> Tuple[float, Dict[str, List[float]]]:
    """``run()`` per trial and the queries' per-trial seconds on the fake; with ``nni_client`` and NNI
    installed, also NNI's own client's (keys ``nni_list``, ``nni_export``, ``nni_metrics``: see
    :func:`nni_client_queries`)."""
    per_trial, experiment = fake_run(trials, 10, five_intermediates)
    try:
        assert len(experiment.list_trial_jobs()) == trials
        timings = time_queries(experiment, trials, repeat)
        if nni_client and nni_available():
            timings.update(nni_client_queries(experiment, trials, repeat))
        return per_trial, timings
    finally:
        experiment.stop()


def nni_client_queries(experiment: Experiment, trials: int, repeat: int) -> Dict[str, List[float]]:
    """Per-trial seconds of NNI 3.0's own ``Experiment.list_trial_jobs``, ``export_data`` and
    ``get_job_metrics`` on the same answers as ``experiment``'s, with NNI's ``rest.get`` answering from
    memory: each answer's text is fetched from the fake and decoded once, before the clock starts. What
    is timed is only what NNI's client does with an answer it already holds: building its records."""
    import nni.experiment.experiment as nni_experiment

    from fakes.router import API_ROOT

    backend = experiment.backend
    assert isinstance(backend, FakeManager) and experiment.port is not None
    answers = {route: json.loads(backend.handle(experiment.port, "GET", API_ROOT + route).body)
               for route in QUERY_ROUTES}
    client = object.__new__(nni_experiment.Experiment)  # no manager: only its query methods are called
    client.port, client.url_prefix = experiment.port, None
    rest_get = nni_experiment.rest.get
    nni_experiment.rest.get = lambda port, route, prefix=None: answers[route]
    try:
        assert len(client.list_trial_jobs()) == trials  # the same answers as the fake's rows
        return {f"nni_{name}": values for name, values in time_queries(client, trials, repeat).items()}
    finally:
        nni_experiment.rest.get = rest_get


#: A real trial that reports what :func:`five_intermediates` reports: nni-exp's stand-in ``nni`` (standard
#: library only; it speaks NNI 3.0's HTTP trial command channel) in an interpreter started without
#: ``site``, since importing NNI itself would take a second of CPU per trial.
_REPORTING_TRIAL = ("import sys; sys.path.insert(0, {standin!r}); import nni; x = nni.get_next_parameter()['x']; "
                    "[nni.report_intermediate_result(x * step) for step in range(5)]; "
                    "nni.report_final_result(float(x))")


def reporting_trial_command(root: Path) -> str:
    """The command of a real trial reporting as :func:`five_intermediates` does (the stand-in copied under ``root``)."""
    package = root / "standin" / "nni"
    package.mkdir(parents=True)
    shutil.copyfile(REPO_DIR / "fakes" / "local_trials" / "standin_nni.py", package / "__init__.py")
    return f"{shlex.quote(sys.executable)} -S -c {shlex.quote(_REPORTING_TRIAL.format(standin=str(package.parent)))}"


def real_queries(trials: int, repeat: int, budget: float) -> Tuple[int, Dict[str, List[float]], float]:
    """The real manager with ``trials`` trials reporting 5 intermediate results and a final one, as the fake's
    do, 50 at a time (at most ``budget`` seconds of filling): (trials it has, per-trial seconds of each
    query, filling seconds)."""
    from nni_exp.real import RealBackend

    with tempfile.TemporaryDirectory(prefix="nni-exp-perf-") as tmp:
        command = reporting_trial_command(Path(tmp))
        experiment = Experiment(config(trials, 50, directory=tmp, command=command),
                                backend=RealBackend(home=Path(tmp) / "home"))
        started = time.perf_counter()
        experiment.start(free_port())
        try:
            deadline = time.monotonic() + budget
            while experiment.get_status() != "DONE" and time.monotonic() < deadline:
                time.sleep(0.5)
            fill = time.perf_counter() - started
            count = len(experiment.list_trial_jobs())
            return count, time_queries(experiment, count, repeat), fill
        finally:
            experiment.stop()


def row_queries(table: Table, repeat: int, sizes: List[int], real: bool, budget: float) -> Dict[int, Any]:
    results = {size: fake_queries(size, repeat, nni_client=True) for size in sizes}
    real_result = real_queries(1000, repeat, budget) if real and 1000 in sizes else None
    names = {"list": ("list_trial_jobs()", "<= 5 us at every size; >= 10x faster than real at 1k"),
             "export": ("export_data()", "<= 5 us at 100k"),
             "metrics": ("get_job_metrics()", "<= 10 us at 100k")}
    for name, (label, target) in names.items():
        for size in sizes:
            values = results[size][1][name]
            against = []
            if size == 1000 and real_result is not None:
                count, timings, _ = real_result
                real_total = [v * count for v in timings[name]]
                fake_total = [v * size for v in values]
                faster = statistics.median(real_total) / statistics.median(fake_total)
                against.append(f"real manager, {count} trials: {triple(real_total)} per call vs fake "
                               f"{triple(fake_total)} per call: fake {faster:.1f}x faster")
            nni_client = results[size][1].get(f"nni_{name}")
            if nni_client is not None:
                against.append(f"NNI 3.0's own client building its records from the same answer, already decoded "
                               f"in memory: {triple(nni_client)} per trial ({ratio(values, nni_client)} this row)")
            table.add(f"{label} per trial, {size:,} trials (5 intermediate results each)", triple(values),
                      "; ".join(against) or "-", target)
    if real_result is not None:
        print(f"  (real manager filled {real_result[0]} trials in {real_result[2]:.1f} s)")
    return results


# ---------------------------------------------------------------------- 6. state machine


def row_state_machine(table: Table, repeat: int, examples: int) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from nni_exp.testing.state_machine import ExperimentStateMachine

    counted = [0]

    class Counted(ExperimentStateMachine):  # type: ignore[misc]
        def teardown(self) -> None:
            counted[0] += 1
            super().teardown()

    warm_up = settings(max_examples=2, stateful_step_count=30, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck), derandomize=True)
    run_state_machine_as_test(Counted, settings=warm_up)  # imports NNI's algorithms, once per session
    rates = []
    for _ in range(max(1, min(repeat, 3))):
        counted[0] = 0
        options = settings(max_examples=examples, stateful_step_count=30, deadline=None, database=None,
                           suppress_health_check=list(HealthCheck), derandomize=True)
        started = time.perf_counter()
        run_state_machine_as_test(Counted, settings=options)
        seconds = time.perf_counter() - started
        rates.append(counted[0] / seconds)
    table.add(f"ExperimentStateMachine, 30 steps per example ({examples} examples)",
              triple(rates, lambda r: f"{r:.1f} examples/s"), "-", ">= 20 examples/s")


# ---------------------------------------------------------------------- 7. small run()


#: The fixture case timed in a fresh interpreter, as a test session meets it (not after the rows above
#: have run experiments of 100k trials in this process).
_SMALL_RUN = textwrap.dedent("""\
    import json, sys, tempfile, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from fakes import FakeManager
    from nni_exp import Experiment, ExperimentConfig
    from nni_exp.testing.backends import free_port
    from nni_exp.testing.fixtures import SEARCH_SPACE

    def once():
        config = ExperimentConfig(
            experiment_name="small", search_space=SEARCH_SPACE, trial_command="python trial.py",
            trial_code_directory=".", trial_concurrency=2, max_trial_number=4,
            tuner={"name": "Random", "class_args": {"seed": 1}}, training_service={"platform": "local"},
            experiment_working_directory=str(Path(tempfile.gettempdir()) / "nni-exp-perf-small"))
        experiment = Experiment(config, backend=FakeManager(seed=1))
        port = free_port()
        started = time.perf_counter()
        experiment.run(port)
        seconds = time.perf_counter() - started
        experiment.stop()
        return seconds

    once()  # the first one imports what the later ones find imported
    print("RESULT " + json.dumps([once() for _ in range(int(sys.argv[2]))]))
""")


#: Fresh interpreters the small run is timed in: its median moves by about 0.1 ms from one interpreter to
#: the next (1.43 - 1.62 ms for the same code, 40 runs each), more than within one.
_SMALL_RUN_INTERPRETERS = 3


def row_small_run(table: Table, repeat: int) -> None:
    values: List[float] = []
    for _ in range(_SMALL_RUN_INTERPRETERS):
        done = subprocess.run([sys.executable, "-c", _SMALL_RUN, str(REPO_DIR), str(max(repeat, 20))],
                              capture_output=True, text=True, timeout=300, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            raise RuntimeError(f"the small run failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                               f"{done.stderr[-2000:]}")
        values.extend(json.loads(lines[-1][7:]))
    table.add(f"a small run() (the fixture case: 4 trials, concurrency 2), in {_SMALL_RUN_INTERPRETERS} fresh "
              f"interpreters", triple(values), "-", "<= 1.5 ms")


# ---------------------------------------------------------------------- 8-9. real backend lifecycle

_NNI_LIFECYCLE = textwrap.dedent("""\
    import json, sys, time
    from nni.experiment import Experiment, ExperimentConfig
    directory, port = sys.argv[1], int(sys.argv[2])
    config = ExperimentConfig("local")
    config.experiment_name = "perf"
    config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config.trial_command = sys.argv[3]
    if sys.argv[3] == "true":
        ready = lambda e: e.get_status() == "DONE"
    else:
        ready = lambda e: any(job.status == "RUNNING" for job in e.list_trial_jobs())
    config.trial_code_directory = directory
    config.trial_concurrency = 1
    config.max_trial_number = 1
    config.tuner.name = "Random"
    config.experiment_working_directory = directory + "/work"
    experiment = Experiment(config)
    started = time.perf_counter()
    experiment.start(port)
    start = time.perf_counter() - started
    deadline = time.monotonic() + 20
    while not ready(experiment) and time.monotonic() < deadline:
        time.sleep(0.1)
    started = time.perf_counter()
    experiment.stop()
    stop = time.perf_counter() - started
    print("RESULT " + json.dumps({"start": start, "stop": stop}))
""")


def nni_lifecycle(root: Path, command: str) -> Tuple[float, float]:
    """NNI's own ``start()`` and ``stop()`` seconds, in a subprocess with a throw-away HOME."""
    directory = Path(tempfile.mkdtemp(dir=root))
    (directory / "home").mkdir()
    env = {**os.environ, "HOME": str(directory / "home")}
    done = subprocess.run([sys.executable, "-c", _NNI_LIFECYCLE, str(directory), str(free_port()), command], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
            return float(result["start"]), float(result["stop"])
    raise RuntimeError(f"NNI's lifecycle failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def our_lifecycle(root: Path, command: str) -> Tuple[float, float]:
    """nni-exp's real backend ``start()`` and ``stop()`` seconds, same config."""
    from nni_exp.real import RealBackend

    directory = Path(tempfile.mkdtemp(dir=root))
    cfg = ExperimentConfig(
        experiment_name="perf", search_space={"x": {"_type": "uniform", "_value": [0, 1]}}, trial_command=command,
        trial_code_directory=str(directory), trial_concurrency=1, max_trial_number=1, tuner={"name": "Random"},
        training_service={"platform": "local"}, experiment_working_directory=str(directory / "work"))
    backend = RealBackend(home=directory / "home")
    experiment = Experiment(cfg, backend=backend)
    try:
        start = timed(lambda: experiment.start(free_port()))
        deadline = time.monotonic() + 20
        while not _lifecycle_ready(experiment, command) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop = timed(experiment.stop)
    finally:
        backend.kill_running_managers()
        backend.close()
    return start, stop


def _lifecycle_ready(experiment: Experiment, command: str) -> bool:
    """The moment to stop: the experiment is DONE (``true``), or its trial runs (``sleep 60``)."""
    if command == "true":
        return experiment.get_status() == "DONE"
    return any(job.status == "RUNNING" for job in experiment.list_trial_jobs())


def row_real_lifecycle(table: Table, repeat: int) -> None:
    """Start, then stop: once the only trial (``true``) is over and the experiment DONE, and once
    while the trial (``sleep 60``) runs.

    A stop lasts a whole number of seconds plus about 50 ms, for NNI's ``stop()`` as for ours: the
    manager checks once a second whether its tuner has exited, and the tuner's worker threads wait up to
    3 s for a command before they see the stop, so which second depends on when the tuner last got one.
    Each row takes at least 7 stops of each and gives the mean too: with 3, the median lands on either step.
    """
    starts: Dict[str, List[float]] = {"ours": [], "nni": []}
    for label, command in (("trial over", "true"), ("trial running", "sleep 60")):
        with tempfile.TemporaryDirectory(prefix="nni-exp-perf-") as tmp:
            ours, theirs = [], []
            for _ in range(max(repeat, 7)):
                ours.append(our_lifecycle(Path(tmp), command))
                theirs.append(nni_lifecycle(Path(tmp), command))
        starts["ours"] += [s for s, _ in ours]
        starts["nni"] += [s for s, _ in theirs]
        our_stop, nni_stop = [s for _, s in ours], [s for _, s in theirs]
        table.add(f"real backend stop(), {label}",
                  f"{triple(our_stop)}, mean {show(statistics.mean(our_stop))}",
                  f"NNI's stop() {triple(nni_stop)}, mean {show(statistics.mean(nni_stop))}: "
                  f"{ratio(nni_stop, our_stop)} (means "
                  f"{statistics.mean(our_stop) / statistics.mean(nni_stop):.2f}x)",
                  "<= NNI's, ideally <= 0.5 s, no orphan")
    table.add("real backend start()", triple(starts["ours"]),
              f"NNI's start() {triple(starts['nni'])}: {ratio(starts['nni'], starts['ours'])}", "<= 0.5x NNI's")


# ---------------------------------------------------------------------- 10-11. imports


@functools.cache
def bytecode_cache() -> str:
    """A throw-away bytecode cache for the fresh interpreters (made on first use, removed at exit)."""
    directory = tempfile.mkdtemp(prefix="nni-exp-perf-pycache-")
    atexit.register(shutil.rmtree, directory, True)
    return directory


def interpreter_seconds(code: str, env: Optional[Dict[str, str]] = None) -> float:
    """Wall seconds of a fresh interpreter running ``code`` (this repository first on the path), its
    modules' bytecode cached as in any installed package (in a throw-away cache: ``PYTHONDONTWRITEBYTECODE``
    would otherwise make every run compile every module again)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_DIR), "PYTHONPYCACHEPREFIX": bytecode_cache(), **(env or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=environment, check=True)
    return time.perf_counter() - started


def hypothesis_entry_point() -> str:
    """``module:function`` of this checkout's ``hypothesis`` entry point (from its pyproject.toml: the
    installed metadata may be another checkout's)."""
    import tomllib

    with open(REPO_DIR / "pyproject.toml", "rb") as file:
        return str(tomllib.load(file)["project"]["entry-points"]["hypothesis"]["nni_exp"])


def row_imports(table: Table, repeat: int) -> None:
    runs = max(repeat, 7)
    module, _, function = hypothesis_entry_point().partition(":")
    with_entry = f"import hypothesis, importlib; importlib.import_module({module!r}).{function}()"
    no_plugins = {"HYPOTHESIS_NO_PLUGINS": "1"}
    bare, fakes, hyp_plain, hyp_plugins = [], [], [], []
    for code, env in (("pass", None), ("import fakes", None), (with_entry, no_plugins)):
        interpreter_seconds(code, env)  # compiles and caches the bytecode
    for _ in range(runs):  # interleaved, so that load changes hit every variant alike
        bare.append(interpreter_seconds("pass"))
        fakes.append(interpreter_seconds("import fakes"))
        hyp_plain.append(interpreter_seconds("import hypothesis", no_plugins))
        hyp_plugins.append(interpreter_seconds(with_entry, no_plugins))
    extra = [f - b for f, b in zip(fakes, bare)]
    table.add("import fakes over bare Python", triple(extra),
              f"bare Python {triple(bare)}, with fakes {triple(fakes)}", "<= +60 ms")
    extra = [p - n for p, n in zip(hyp_plugins, hyp_plain)]
    table.add(f"hypothesis's entry point ({module}:{function}, run after import hypothesis)", triple(extra),
              f"import hypothesis alone {triple(hyp_plain)}, then the entry point {triple(hyp_plugins)}", "<= +5 ms")


# ---------------------------------------------------------------------- scaling


def scaling(sizes: List[int], known: Dict[int, Any], repeat: int) -> None:
    print("\nScaling (trials with 5 intermediate results each, concurrency 10; per-trial medians, min - max)")
    header = ["trials", "run() per trial", "list_trial_jobs()", "export_data()", "get_job_metrics()"]
    rows = []
    if not known:  # the first experiment of a process imports NNI's algorithms: not the 1k row's cost
        fake_run(200, 10, five_intermediates)[1].stop()
    for size in sizes:
        per_trial, timings = known[size] if size in known else fake_queries(size, 1 if size >= 10**6 else repeat)
        rows.append([f"{size:,}", show(per_trial), triple(timings["list"]), triple(timings["export"]),
                     triple(timings["metrics"])])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")


def query_sizes(parser: argparse.ArgumentParser, text: str) -> List[int]:
    """``--query-sizes``' trial counts (the parser exits with its usage error on anything but positive integers)."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        parser.error(f"--query-sizes: expected comma-separated positive trial counts, got {text!r}")
    return sizes


def main(argv: Optional[List[str]] = None) -> int:
    """Measure and print (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="measurements per row (default 5)")
    parser.add_argument("--run-trials", type=int, default=10_000, help="trials of row 1 (default 10,000)")
    parser.add_argument("--examples", type=int, default=20, help="state machine examples per measure (default 20)")
    parser.add_argument("--real-budget", type=float, default=300.0,
                        help="seconds the real manager gets to run its 1,000 trials (default 300)")
    parser.add_argument("--no-real", action="store_true", help="skip the real NNI manager")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 trials to the scaling table")
    parser.add_argument("--only", default="", help=f"comma-separated rows among {', '.join(ROWS)}")
    parser.add_argument("--query-sizes", default="1000,10000,100000",
                        help="comma-separated trial counts of the query rows and the scaling table "
                             "(default 1000,10000,100000; the real manager is compared at 1000)")
    args = parser.parse_args(argv)
    sizes = query_sizes(parser, args.query_sizes)
    only = set(filter(None, args.only.split(","))) or set(ROWS)
    unknown = only - set(ROWS)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; choose among {ROWS}")
    real = not args.no_real and nni_available()
    load = os.getloadavg()
    print(f"issue 10 table: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}, real NNI manager {'included' if real else 'not measured'}, "
          f"repeat {args.repeat}", flush=True)
    table = Table()
    known: Dict[int, Any] = {}
    if "run" in only:
        row_run(table, args.repeat, args.run_trials)
    if "memory" in only:
        row_memory(table, args.repeat, args.run_trials)
    if "queries" in only:
        known = row_queries(table, args.repeat, sizes, real, args.real_budget)
    if "state_machine" in only:
        row_state_machine(table, args.repeat, args.examples)
    if "small_run" in only:
        row_small_run(table, args.repeat)
    if "real_lifecycle" in only and real:
        row_real_lifecycle(table, args.repeat)
    if "imports" in only:
        row_imports(table, args.repeat)
    table.print("Issue 10 rows")
    if "scaling" in only:
        scaling(sizes + ([10**6] if args.million else []), known, args.repeat)
    load = os.getloadavg()
    print(f"\nload at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
