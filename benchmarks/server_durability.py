"""What committing the database before each answer costs the fake manager server (issue 8, item 5).

Runs the fake server in this process twice, with the commit before each answer (``before_answer``)
and without it (only the 0.1 s flush loop), on the same experiment: time scale 50, scripted trials
of 2 virtual seconds, ``--trials`` trials at concurrency 4. One client polls ``/trial-jobs`` and
``/metric-data`` without pause, another ``/check-status``. Prints, for both: requests answered per
second, mean and 99th percentile latency per route, commits made by ``before_answer`` and their mean
duration, and the commits per trial.

Usage: ``python benchmarks/server_durability.py [--trials 200]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests

from fakes.cli_args import parse_args
from fakes.server import FakeManagerServer
from nni_exp.backend import ManagerArgs
from nni_exp.testing.backends import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

API = "/api/v1/nni"


def run(trials: int, commit_before_answer: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        manager = ManagerArgs(port=port, experiment_id="benchdur", action="create", mode="local",
                              experiments_directory=str(Path(tmp) / "experiments"), log_level="info",
                              foreground=False, python_interpreter=sys.executable)
        args = parse_args(manager.to_argv() + ["--time-scale", "50", "--seed", "1",
                                               "--trial", "test_fake_server_helpers:quick_trial"])
        server = FakeManagerServer(args, stdout=open("/dev/null", "w"), manifest_home=Path(tmp) / "home")
        commits: list[float] = []
        flush_pending = server.storage.flush_pending

        def timed_flush() -> None:
            pending = any(attachment._pending for attachment in list(server.storage._attached.values()))
            started = time.perf_counter()
            flush_pending()
            if pending:
                commits.append(time.perf_counter() - started)

        if commit_before_answer:
            server.storage.flush_pending = timed_flush  # type: ignore[method-assign]
        else:
            server.before_answer = lambda: None  # type: ignore[method-assign]
        server.start()
        serving = threading.Thread(target=server.serve, daemon=True)
        serving.start()
        base = f"http://127.0.0.1:{port}{API}"
        config = {"searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trialCommand": "true",
                  "trialCodeDirectory": ".", "trialConcurrency": 4, "maxTrialNumber": trials,
                  "tuner": {"name": "Random", "classArgs": {"seed": 1}}, "trainingService": {"platform": "local"}}
        requests.post(f"{base}/experiment", json=config, timeout=10).raise_for_status()
        latencies: dict[str, list[float]] = {"/trial-jobs": [], "/metric-data": [], "/check-status": []}
        done = threading.Event()

        def poll(paths: list[str]) -> None:
            session = requests.Session()
            while not done.is_set():
                for path in paths:
                    started = time.perf_counter()
                    session.get(base + path, timeout=10).raise_for_status()
                    latencies[path].append(time.perf_counter() - started)

        def finished() -> bool:
            return bool(requests.get(f"{base}/check-status", timeout=10).json()["status"] == "DONE")

        clients = [threading.Thread(target=poll, args=(["/trial-jobs", "/metric-data"],)),
                   threading.Thread(target=poll, args=(["/check-status"],))]
        started = time.perf_counter()
        for client in clients:
            client.start()
        wait(finished)
        elapsed = time.perf_counter() - started
        done.set()
        for client in clients:
            client.join()
        requests.delete(f"{base}/experiment", timeout=10)
        serving.join(timeout=10)
    answered = sum(len(values) for values in latencies.values())
    return {"elapsed": elapsed, "requests": answered, "latencies": latencies, "commits": commits}


def wait(condition: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the experiment did not finish")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    options = parser.parse_args()
    for label, on in (("without commit before answer", False), ("with commit before answer", True)):
        result = run(options.trials, on)
        print(f"{label}: {options.trials} trials in {result['elapsed']:.2f} s, "
              f"{result['requests'] / result['elapsed']:.0f} requests/s")
        for path, values in result["latencies"].items():
            values = sorted(values)
            print(f"  {path}: {len(values)} requests, mean {statistics.mean(values) * 1000:.2f} ms, "
                  f"p99 {values[int(len(values) * 0.99)] * 1000:.2f} ms")
        commits = result["commits"]
        if commits:
            print(f"  commits before answers: {len(commits)} ({len(commits) / options.trials:.1f} per trial), "
                  f"mean {statistics.mean(commits) * 1000:.2f} ms, max {max(commits) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
