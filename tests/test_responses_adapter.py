"""nni_exp.testing.responses_adapter: requests to NNI manager ports reach the fake, with no socket."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from fakes import FakeManager
from nni_exp import Experiment
from nni_exp.errors import ConfigError
from nni_exp.testing import responses_fixture
from nni_exp.testing.responses_adapter import NniResponses, RoutedCall, UnexpectedRequestError, start_fake_experiment

from .conftest import make_config, three_second_trial

API = "http://localhost:8080/api/v1/nni"
nni_responses = responses_fixture.nni_responses  # the fixture under test (the plugin may also provide it)


@pytest.fixture
def fake() -> FakeManager:
    return FakeManager(three_second_trial, seed=5)


# ---------------------------------------------------------------------------------------------- plain requests


def test_plain_requests_reach_the_fake(fake):
    with NniResponses(fake) as adapter:
        experiment_id = start_fake_experiment(fake, make_config(), 8080)
        assert requests.get(f"{API}/check-status").json() == {"status": "RUNNING", "errors": []}
        profile = requests.get(f"{API}/experiment").json()
        assert profile["id"] == experiment_id and profile["params"]["trialConcurrency"] == 2
        fake.advance(30)
        jobs = requests.get(f"{API}/trial-jobs").json()
        assert [job["status"] for job in jobs] == ["SUCCEEDED"] * 4
        exported = requests.get("http://127.0.0.1:8080/api/v1/nni/export-data").json()
        assert {item["trialJobId"] for item in exported} == {job["trialJobId"] for job in jobs}
        assert isinstance(exported[0]["value"], str)  # the wire format: JSON text
        version = requests.get(f"{API}/version")
        assert version.text == "3.0.0" and version.headers["Content-Type"].startswith("application/json")
        assert requests.get(f"{API}/trial-jobs?status=FAILED").json() == []
    assert all(isinstance(call, RoutedCall) and call.port == 8080 for call in adapter.calls)
    assert [call.status for call in adapter.calls[-6:]] == [200] * 6
    assert not adapter.active


def test_writes_and_errors_go_through_the_router(fake):
    with NniResponses(fake):
        start_fake_experiment(fake, make_config(max_trial_number=6), 8080)
        fake.advance(5)
        profile = requests.get(f"{API}/experiment").json()
        profile["params"]["maxTrialNumber"] = 1
        assert requests.put(f"{API}/experiment?update_type=MAX_TRIAL_NUM", json=profile).status_code == 200
        assert requests.get(f"{API}/experiment").json()["params"]["maxTrialNumber"] == 1
        answer = requests.post(f"{API}/trial-jobs", json={"x": 0.5})
        assert answer.status_code == 500 and answer.json() == {"error": "reach maxTrialNum"}
        missing = requests.get(f"{API}/trial-jobs/nOtRl")
        assert missing.status_code == 404 and "nOtRl" in missing.json()["error"]
        with pytest.raises(requests.HTTPError):
            requests.delete(f"{API}/trial-jobs/nOtRl").raise_for_status()
        bad = requests.put(f"{API}/experiment?update_type=MAX_TRIAL_NUM", data=b"{not json")
        assert bad.status_code == 400 and "malformed JSON" in bad.json()["error"]
        assert requests.get("http://localhost:8080/").status_code == 404
        assert requests.delete(f"{API}/experiment").status_code == 200
        assert fake.ports == []


def test_url_prefixes_are_the_routers_business(fake):
    with NniResponses(fake):
        start_fake_experiment(fake, make_config(), 8080, url_prefix="/pre/")
        assert requests.get("http://localhost:8080/pre/api/v1/nni/check-status").json()["status"] == "RUNNING"
        outside = requests.get(f"{API}/check-status")
        assert outside.status_code == 404 and outside.text == 'Outside prefix "/pre"'


def test_a_port_without_a_fake_manager_refuses_the_connection(fake):
    with NniResponses(fake) as adapter:
        start_fake_experiment(fake, make_config(), 8080)
        with pytest.raises(requests.ConnectionError, match="port=9090") as info:
            requests.get("http://localhost:9090/api/v1/nni/check-status")
        assert "fake manager ports: 8080" in str(info.value)
        assert not isinstance(info.value, UnexpectedRequestError)
        assert adapter.calls[-1] == RoutedCall("GET", "http://localhost:9090/api/v1/nni/check-status", 9090, None)
        with pytest.raises(requests.ConnectionError, match="plain HTTP"):
            requests.get("https://localhost:8080/api/v1/nni/check-status")


def test_other_urls_fail_loudly_by_default(fake):
    with NniResponses(fake) as adapter:
        with pytest.raises(UnexpectedRequestError, match=r"GET http://example\.com/data.*passthrough=True"):
            requests.get("http://example.com/data")
        assert adapter.unexpected == ["GET http://example.com/data"]
        adapter.mock.add(responses.GET, "http://example.com/stub", json={"ok": True})
        assert requests.get("http://example.com/stub").json() == {"ok": True}  # user stubs come first


def test_passthrough_lets_other_requests_reach_the_network(fake):
    with NniResponses(fake, passthrough=True) as adapter:
        # nothing listens there: the real network stack refuses, not the adapter
        for url in ("http://127.0.0.2:9/x", "http://localhost:9/api/v1/nni/check-status"):
            with pytest.raises(requests.ConnectionError) as info:
                requests.get(url, timeout=5)
            assert not isinstance(info.value, UnexpectedRequestError) and "nni_responses" not in str(info.value)
        assert adapter.unexpected == [] and adapter.calls == []


def test_advance_per_request_moves_the_virtual_clock(fake):
    with NniResponses(fake, advance_per_request=2.0):
        start_fake_experiment(fake, make_config(), 8080)
        start = fake.clock.monotonic()
        polls = 0
        while requests.get(f"{API}/check-status").json()["status"] != "DONE":
            polls += 1
            assert polls < 100
        assert fake.clock.monotonic() - start == pytest.approx(2.0 * (polls + 1))  # nothing else moved it


def test_requests_without_a_manager_do_not_move_time(fake):
    with NniResponses(fake, advance_per_request=5.0):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{API}/check-status")
        assert fake.clock.monotonic() == 0


def test_nni_exps_own_experiment_api_sees_the_same_experiment(fake):
    with NniResponses(fake):
        experiment_id = start_fake_experiment(fake, {"trialCommand": "python3 trial.py", "trialConcurrency": 1,
                                                     "searchSpace": {"x": {"_type": "choice", "_value": [1, 2]}},
                                                     "tuner": {"name": "GridSearch"},
                                                     "trainingService": {"platform": "local"}}, 8081)
        exp = Experiment.connect(8081, backend=fake)
        assert exp.id == experiment_id
        assert requests.get("http://localhost:8081/api/v1/nni/experiment").json()["id"] == experiment_id
        exp.stop()
        assert fake.manifest.records()[experiment_id]["status"] == "STOPPED"


# ---------------------------------------------------------------------------------------------- lifecycle and bad input


def test_activation_rules(fake):
    adapter = NniResponses(fake)
    with pytest.raises(RuntimeError, match="not active"):
        adapter.mock  # noqa: B018
    adapter.start()
    try:
        with pytest.raises(RuntimeError, match="already active"):
            adapter.start()
    finally:
        adapter.stop()
    adapter.stop()  # idempotent
    assert "inactive" in repr(adapter)
    assert isinstance(NniResponses().fake, FakeManager)


@pytest.mark.parametrize("kwargs, error", [
    ({"fake": "fake"}, TypeError),
    ({"passthrough": "yes"}, TypeError),
    ({"advance_per_request": -1}, ValueError),
    ({"advance_per_request": float("nan")}, ValueError),
    ({"advance_per_request": float("inf")}, ValueError),
    ({"advance_per_request": True}, ValueError),
    ({"hosts": "localhost"}, ValueError),
    ({"hosts": ()}, ValueError),
])
def test_bad_options_are_rejected(kwargs, error):
    with pytest.raises(error):
        NniResponses(**kwargs)


def test_start_fake_experiment_rejects_bad_input(fake):
    with pytest.raises(TypeError, match="FakeManager"):
        start_fake_experiment("fake", make_config())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ExperimentConfig"):
        start_fake_experiment(fake, ["local"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        start_fake_experiment(fake, make_config(trial_concurrency=0))
    assert fake.ports == []
    start_fake_experiment(fake, make_config(), 8080, experiment_id="chosen_id")
    assert "chosen_id" in fake.manifest.records()


# ---------------------------------------------------------------------------------------------- the fixture


def test_the_fixture_intercepts_for_the_test(nni_responses):
    assert nni_responses.active and nni_responses.passthrough is False
    start_fake_experiment(nni_responses.fake, make_config(), 8080)
    assert requests.get(f"{API}/check-status").json()["status"] == "RUNNING"


@pytest.mark.nni_responses(advance_per_request=1.5, passthrough=True)
def test_the_fixture_reads_its_marker(nni_responses, request):
    assert nni_responses.advance_per_request == 1.5 and nni_responses.passthrough is True
    try:
        plugin_fake = request.getfixturevalue("nni_fake_manager")
    except pytest.FixtureLookupError:
        return
    assert nni_responses.fake is plugin_fake  # the plugin's fake (configured by its nni_fake marker) is used


# ---------------------------------------------------------------------------------------------- NNI's own client


@pytest.fixture
def nni_client():
    """NNI's own ``nni.experiment.Experiment`` (skips without nni)."""
    pytest.importorskip("nni")
    from nni.experiment import Experiment as NniExperiment

    return NniExperiment


@pytest.mark.real_nni
def test_nnis_client_runs_unmodified_against_the_fake(fake, nni_client, caplog):
    caplog.set_level(logging.INFO)
    with NniResponses(fake) as adapter:
        experiment_id = start_fake_experiment(fake, make_config(max_trial_number=4), 8080)
        exp = nni_client.connect(8080)
        assert exp.id == experiment_id and exp.get_status() == "RUNNING"
        assert exp.get_experiment_metadata(experiment_id)["pid"] == exp._proc.pid
        fake.advance(10)
        jobs = exp.list_trial_jobs()
        assert jobs and all(job.status in ("RUNNING", "SUCCEEDED") for job in jobs)
        one = exp.get_trial_job(jobs[0].trialJobId)
        assert one.trialJobId == jobs[0].trialJobId and one.hyperParameters[0].parameters == \
            jobs[0].hyperParameters[0].parameters
        exp.update_max_trial_number(5)
        exp.update_trial_concurrency(3)
        exp.update_max_experiment_duration("1h")
        exp.update_search_space({"x": {"_type": "uniform", "_value": [0, 2]}})
        params = exp.get_experiment_profile()["params"]
        assert (params["maxTrialNumber"], params["trialConcurrency"], params["maxExperimentDuration"]) == (5, 3, "1h")
        fake.advance(60)
        assert exp.get_status() == "DONE"
        statistics = exp.get_job_statistics()
        assert statistics == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 5}]
        exported = exp.export_data()
        metrics = exp.get_job_metrics()
        assert {r.trialJobId for r in exported} == set(metrics) and len(exported) == 5
        for result in exported:
            assert result.value == metrics[result.trialJobId][0].data == float(result.parameter["x"])
        exp.kill_trial_job(exported[0].trialJobId)
        assert exp.get_trial_job(exported[0].trialJobId).status == "USER_CANCELED"
        assert len(exp.export_data()) == 4
        assert [record["id"] for record in exp.get_all_experiments_metadata()] == [experiment_id]
        exp.stop()  # DELETE /experiment, then waits on the fake process
        assert fake.ports == [] and fake.manifest.records()[experiment_id]["status"] == "STOPPED"
        assert exp.port is None
    assert "Connect to port 8080 success" in caplog.text
    assert {call.method for call in adapter.calls} >= {"GET", "PUT", "DELETE"}


@pytest.mark.real_nni
def test_nnis_client_sees_the_real_world_errors(fake, nni_client):
    with NniResponses(fake):
        with pytest.raises(requests.ConnectionError):
            nni_client.connect(8080)  # nothing listens yet
        start_fake_experiment(fake, make_config(), 8080)
        exp = nni_client.connect(8080)
        with pytest.raises(requests.HTTPError):
            exp.kill_trial_job("nOtRl")
        with pytest.raises(requests.HTTPError):
            exp.get_trial_job("nOtRl")  # the fake answers 404 where the real manager answers an empty 200
        from nni.experiment import rest

        with pytest.raises(requests.exceptions.JSONDecodeError):
            rest.get(8080, "/version")  # raw text under a JSON content type, as the real manager answers
        exp.stop()


@pytest.mark.real_nni
def test_the_psutil_patch_is_undone_on_exit(fake, nni_client):
    with NniResponses(fake):
        start_fake_experiment(fake, make_config(), 8080)
        exp = nni_client.connect(8080)
        handle = exp._proc
    import nni.experiment.experiment as nni_experiment_module
    import psutil

    assert nni_experiment_module.psutil is psutil  # the pid patch is undone on exit
    assert handle.is_alive()  # the fake process handle NNI's client got
    fake.close()
    assert not handle.is_alive() and fake.ports == []
