"""Tests of hpo_driver, written as any user of nni-exp writes them: with the plugin's fixtures only.

By default they run on the in-memory fake manager (instant, no process, no port, no file);
`pytest --nni-backend=server` runs them on the fake manager served by a real process, and
`pytest --nni-backend=nni` on NNI 3.0's own manager (tests that need fake-only features such as
faults are then skipped with the reason).
"""

from __future__ import annotations

import pytest
import requests
from hpo_driver import Progress, TuningFailed, summarize, tune

from nni_exp.errors import ExperimentStalledError, ManagerError


def peak_at_0_3(params, trial):
    """A trial whose result is best at x = 0.3; it reports three epochs of 10 (virtual) seconds."""
    score = 1 - (params["x"] - 0.3) ** 2
    for epoch in range(1, 4):
        trial.sleep(10)
        trial.report_intermediate_result(score * epoch / 3)
    return score


def fails_above_half(params, trial):
    """Fails for x > 0.5, else returns x."""
    trial.sleep(5)
    if params["x"] > 0.5:
        raise RuntimeError("diverged")
    return params["x"]


@pytest.mark.nni_fake(trial=peak_at_0_3, seed=1)
def test_tune_returns_the_best_trial(nni_config, nni_backend, nni_port):
    grid = {"x": {"_type": "choice", "_value": [0.1, 0.3, 0.5, 0.9, 1.0]}}
    # max_trial_number below the grid size: the experiment ends DONE (see the README on grid exhaustion)
    config = nni_config(search_space=grid, tuner={"name": "GridSearch"}, max_trial_number=4,
                        trial_concurrency=1)

    best = tune(config, nni_backend, port=nni_port)

    assert best == {"x": 0.3}


@pytest.mark.nni_fake(trial=peak_at_0_3, seed=1)
def test_tune_minimizes(nni_config, nni_backend, nni_port):
    grid = {"x": {"_type": "choice", "_value": [0.1, 0.3, 0.9, 1.0]}}
    config = nni_config(search_space=grid, tuner={"name": "GridSearch"}, max_trial_number=3,
                        trial_concurrency=1)

    assert tune(config, nni_backend, port=nni_port, minimize=True) == {"x": 0.9}


@pytest.mark.nni_fake(trial=fails_above_half, seed=2)
def test_failed_trials_are_ignored(nni_config, nni_backend, nni_port):
    grid = {"x": {"_type": "choice", "_value": [0.2, 0.4, 0.8, 1.0]}}
    config = nni_config(search_space=grid, tuner={"name": "GridSearch"}, max_trial_number=3,
                        trial_concurrency=1)

    assert tune(config, nni_backend, port=nni_port) == {"x": 0.4}


@pytest.mark.nni_fake(trial=fails_above_half, seed=2)
def test_no_succeeded_trial_is_reported(nni_config, nni_backend, nni_port):
    grid = {"x": {"_type": "choice", "_value": [0.6, 0.7, 0.9]}}
    config = nni_config(search_space=grid, tuner={"name": "GridSearch"}, max_trial_number=2,
                        trial_concurrency=1)

    with pytest.raises(TuningFailed, match="no trial succeeded"):
        tune(config, nni_backend, port=nni_port)


@pytest.mark.nni_fake(faults={"tuner_error": 1})
def test_a_crashing_tuner_is_reported(nni_config, nni_backend, nni_port):
    # NNI 3.0 leaves an experiment whose tuner raised RUNNING for ever: tune() would wait for ever on
    # the real manager. The in-memory fake ends that wait with an error naming the cause.
    with pytest.raises(ExperimentStalledError, match="tuner"):
        tune(nni_config(), nni_backend, port=nni_port)


@pytest.mark.nni_fake(trial=peak_at_0_3, seed=1)
def test_experiment_fixture(nni_experiment):
    assert nni_experiment.run() is True
    jobs = nni_experiment.list_trial_jobs()
    assert len(jobs) == 4
    assert {job.status for job in jobs} == {"SUCCEEDED"}


@pytest.mark.nni_fake(trial=peak_at_0_3, seed=1)
def test_summarize_reads_progress_over_http(nni_fake_server):
    assert summarize(nni_fake_server.url).status == "RUNNING"

    nni_fake_server.advance(600)  # virtual seconds: instant

    assert summarize(nni_fake_server.url) == Progress(status="DONE", trials=4, succeeded=4, failed=0)


@pytest.mark.nni_fake(faults={"fail_requests": {"GET /trial-jobs": 503}})
def test_summarize_raises_on_http_errors(nni_fake_server):
    with pytest.raises(requests.HTTPError):
        summarize(nni_fake_server.url)


@pytest.mark.nni_fake(faults={"fail_requests": {"GET /export-data": 500}})
def test_tune_propagates_manager_errors(nni_config, nni_backend, nni_port):
    with pytest.raises(ManagerError):
        tune(nni_config(), nni_backend, port=nni_port)
