"""How the fake manager asks its tuner for new trials: whole requests as NNI sends them, and huge
ones (a concurrency of 10**8) in parts, so the fake neither hangs nor grows without bound."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from fakes import FakeManager
from fakes.search import commands
from fakes.simulator import EAGER_REQUEST_LIMIT
from nni_exp import Experiment

from .conftest import make_config, three_second_trial
from .test_fake_server import ServerProcess, wait_for

PORT = 8080


def _counting_tuner() -> Tuple[List[int], Any]:
    calls: List[int] = []

    def tuner(index: int, space: Dict[str, Any], rng: Any) -> Dict[str, Any]:
        calls.append(index)
        return {"x": rng.uniform(0, 1)}

    return calls, tuner


def _requests_sent(fake: FakeManager) -> List[int]:
    """The counts of every ``GE`` the manager sent, recorded by wrapping the dispatcher's inbox."""
    sent: List[int] = []
    manager = fake.manager_at(PORT)
    search = manager.search
    assert search is not None
    deliver = search.deliver

    def recording_deliver(command: str, content: str) -> bool:
        if command == commands.REQUEST_TRIAL_JOBS:
            sent.append(int(content))
        return deliver(command, content)

    search.deliver = recording_deliver  # type: ignore[method-assign]
    return sent


def test_a_huge_concurrency_asks_the_tuner_only_for_trials_that_can_run() -> None:
    calls, tuner = _counting_tuner()
    fake = FakeManager(three_second_trial, seed=3, search="own", tuner=tuner)
    with Experiment(make_config(max_trial_number=4), backend=fake) as exp:
        exp.start(PORT)
        sent = _requests_sent(fake)
        while not exp.list_trial_jobs():  # the tuner is connected and the first two trials run
            fake.clock.sleep(0.5)
        exp.update_trial_concurrency(10**8)
        assert exp.wait_completion() is True
        assert len(exp.list_trial_jobs()) == 4
        # Two trials were asked for at start; the rest of the 10**8 only up to maxTrialNumber.
        assert (len(calls), sent) == (4, [2, 2]), (calls, sent)
        assert exp.get_experiment_profile()["params"]["trialConcurrency"] == 10**8


def test_a_huge_concurrency_with_nnis_own_search_finishes() -> None:
    pytest.importorskip("nni")
    fake = FakeManager(three_second_trial, seed=3)
    with Experiment(make_config(max_trial_number=5), backend=fake) as exp:
        exp.start(PORT)
        assert fake.manager_at(PORT).search.info.implementation == "nni"  # type: ignore[union-attr]
        exp.update_trial_concurrency(10**12)
        assert exp.wait_completion() is True
        jobs = exp.list_trial_jobs()
        assert len(jobs) == 5 and {job.status for job in jobs} == {"SUCCEEDED"}
        assert exp.get_experiment_profile()["nextSequenceId"] == 5


def test_without_a_trial_limit_each_tick_queues_at_most_the_eager_limit() -> None:
    calls, tuner = _counting_tuner()
    fake = FakeManager(three_second_trial, seed=3, search="own", tuner=tuner)
    config = make_config(max_trial_number=None, max_experiment_duration="2s", trial_concurrency=10**9)
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        sent = _requests_sent(fake)
        assert exp.wait_completion() is True
        assert exp.get_status() == "DONE"
        # Every request after the first is at most the limit, and only what the queue had room for.
        assert sent and max(sent) <= EAGER_REQUEST_LIMIT
        started = len(exp.list_trial_jobs())
        assert EAGER_REQUEST_LIMIT <= started <= len(calls) <= EAGER_REQUEST_LIMIT * 10


def test_requests_up_to_the_limit_go_to_the_tuner_whole_as_nni_sends_them() -> None:
    fake = FakeManager(three_second_trial, seed=3, search="own")
    with Experiment(make_config(max_trial_number=EAGER_REQUEST_LIMIT + 10, trial_concurrency=1), backend=fake) as exp:
        exp.start(PORT)
        sent = _requests_sent(fake)
        while not exp.list_trial_jobs():
            fake.clock.sleep(0.5)
        exp.update_trial_concurrency(EAGER_REQUEST_LIMIT + 1)
        fake.clock.sleep(1)
        # The increase is asked for in one command, like NNI's manager does.
        assert sent[:2] == [1, EAGER_REQUEST_LIMIT]
        exp.stop()


def test_a_tuner_with_no_more_trials_ends_an_owed_request() -> None:
    fake = FakeManager(three_second_trial, seed=3, search="own")
    config = make_config(max_trial_number=None, trial_concurrency=1,
                         search_space={"x": {"_type": "choice", "_value": [0.1, 0.2, 0.3]}})
    config.tuner.name = "GridSearch"
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        exp.update_trial_concurrency(10**6)
        assert exp.wait_completion() is True
        values = sorted(job.hyperParameters[0].parameters["x"]
                        for job in exp.list_trial_jobs())
        assert values == [0.1, 0.2, 0.3]
        assert exp.get_status() == "TUNER_NO_MORE_TRIAL"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A fake manager server process (``python -m fakes.server``), killed and reaped at the end."""
    process = ServerProcess(tmp_path, "hugeconc")
    yield process
    process.kill()


@pytest.mark.parametrize("concurrency", [10**8, 1e12, "1e12"])
def test_the_fake_server_stays_responsive_after_a_huge_concurrency(server: ServerProcess, concurrency: Any) -> None:
    server.launch()
    wait_for(lambda: server.get("/trial-jobs"), what="the first trials")
    profile = server.get("/experiment")
    profile["params"]["trialConcurrency"] = concurrency
    answer = requests.put(server.url("/experiment?update_type=TRIAL_CONCURRENCY"), json=profile, timeout=10)
    assert answer.status_code == 200, answer.text
    slowest = 0.0
    while server.status() != "DONE":
        started = time.monotonic()
        server.status()
        slowest = max(slowest, time.monotonic() - started)
        assert server.proc.poll() is None, server.stderr()
    assert slowest < 2.0
    assert len(server.get("/trial-jobs")) == 4
    assert server.stop() == 0
