"""What a huge trial concurrency costs: ``update_trial_concurrency(N)`` with ``maxTrialNumber`` 4.

Usage::

    python benchmarks/huge_concurrency.py                 # the in-memory fake and the fake server
    python benchmarks/huge_concurrency.py --real 10000000 # also NNI 3.0's manager (watched 30 s)

For each backend: whether the experiment finished, how long that took, the slowest
``/check-status`` while it ran, and the largest resident memory of the processes involved. On the
real manager the dispatcher makes every parameter set before it sends the first, so it is only
watched for ``--watch`` seconds (memory grows by about 80 MB/s), then stopped (the stop's time is
printed too). The fakes ask the tuner only for what can be queued (``fakes.simulator.EAGER_REQUEST_LIMIT``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fakes import FakeManager  # noqa: E402
from nni_exp import Experiment, ExperimentConfig  # noqa: E402


def config(directory: Path) -> ExperimentConfig:
    result = ExperimentConfig("local")
    result.trial_command = "python3 -c 'import nni, time; nni.get_next_parameter(); time.sleep(3); " \
                           "nni.report_final_result(1.0)'"
    result.trial_code_directory = str(directory)
    result.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    result.tuner.name = "Random"
    result.trial_concurrency = 1
    result.max_trial_number = 4
    return result


def three_second_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(3)
    return float(params["x"])


def family_rss_mb() -> float:
    """The resident memory of this process and its children, the largest one, in MB."""
    me = psutil.Process()
    sizes = [me.memory_info().rss]
    for child in me.children(recursive=True):
        try:
            sizes.append(child.memory_info().rss)
        except psutil.Error:
            pass
    return max(sizes) / 2**20


def watch(exp: Experiment, seconds: float, sleep: Any) -> Dict[str, Any]:
    """Poll the status until DONE or ``seconds`` (on the backend's clock) have passed."""
    started = time.monotonic()
    slowest = 0.0
    largest = family_rss_mb()
    deadline = exp.backend.clock.monotonic() + seconds
    status = ""
    while exp.backend.clock.monotonic() < deadline:
        before = time.monotonic()
        status = exp.get_status()
        slowest = max(slowest, time.monotonic() - before)
        largest = max(largest, family_rss_mb())
        if status == "DONE":
            break
        sleep(0.5)
    return {"status": status, "seconds": time.monotonic() - started, "slowest_check_ms": slowest * 1e3,
            "trials": len(exp.list_trial_jobs()), "largest_rss_mb": largest}


def run(name: str, exp: Experiment, concurrency: int, seconds: float, sleep: Any, port: int) -> None:
    exp.start(port)
    try:
        while not exp.list_trial_jobs():
            sleep(0.5)
        exp.update_trial_concurrency(concurrency)
        figures = watch(exp, seconds, sleep)
    finally:
        stopping = time.monotonic()
        exp.stop()
        figures["stop_seconds"] = time.monotonic() - stopping
    print(f"{name:<18} concurrency {concurrency:>15,}: {figures['status']:<8} after {figures['seconds']:7.2f} s real, "
          f"{figures['trials']} trials, slowest /check-status {figures['slowest_check_ms']:7.1f} ms, "
          f"largest process {figures['largest_rss_mb']:7.0f} MB, stop() {figures['stop_seconds']:.2f} s")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=10**8)
    parser.add_argument("--real", type=int, default=None, metavar="N",
                        help="also the real manager, with concurrency N (10**7 grows it by GBs)")
    parser.add_argument("--watch", type=float, default=30.0, help="seconds the real manager is watched")
    parser.add_argument("--port", type=int, default=18231)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        fake = FakeManager(three_second_trial, seed=1)
        run("in-memory fake", Experiment(config(directory), backend=fake), args.concurrency, 3600, fake.clock.sleep,
            args.port)
        from nni_exp.real import RealBackend

        server = RealBackend(home=directory / "server-home",
                             manager_command=[sys.executable, "-m", "fakes.server", "--time-scale", "100"])
        run("fake server", Experiment(config(directory), backend=server), args.concurrency, 3600,
            server.clock.sleep, args.port + 2)
        if args.real is not None:
            real = RealBackend(home=directory / "real-home")
            run("NNI 3.0 manager", Experiment(config(directory), backend=real), args.real, args.watch,
                real.clock.sleep, args.port + 4)
    print(f"this process's largest resident size: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
