"""Every public method of ``nni_exp.Experiment`` on the in-memory fake, with its bad inputs."""

from __future__ import annotations

import atexit
import logging
import warnings

import pytest
import requests

from fakes import FakeManager
from nni_exp import Experiment, ExperimentConfig, RunMode, TrialJob, TrialMetricData, TrialResult
from nni_exp.backends import BACKEND_ENV_VAR
from nni_exp.errors import (
    CheckpointError,
    ConfigError,
    ExperimentNotFoundError,
    ExperimentNotRunningError,
    InvalidExperimentIdError,
    ManagerError,
    ManagerUnreachableError,
    MissingConfigError,
    PortInUseError,
    ReadonlyExperimentError,
    TrialLimitReachedError,
    TrialNotFoundError,
    UnknownBackendError,
)
from nni_exp.interrupts import (
    reraise_keyboard_interrupts,
    reraises_keyboard_interrupts,
    set_reraise_keyboard_interrupts,
)

from .conftest import make_config

# ---------------------------------------------------------------------------- construction


def test_constructor_generates_nni_style_id(fake):
    ids = {Experiment(make_config(), backend=fake).id for _ in range(50)}
    assert len(ids) == 50
    for experiment_id in ids:
        assert len(experiment_id) == 8 and len(set(experiment_id)) == 8
        assert experiment_id.isalnum() and experiment_id == experiment_id.lower()


def test_constructor_attributes(fake):
    config = make_config()
    exp = Experiment(config, id="my-exp_1", backend=fake)
    assert (exp.config, exp.id, exp.port, exp.url_prefix, exp.backend) == (config, "my-exp_1", None, None, fake)


@pytest.mark.parametrize("bad_id", ["", "a" * 33, "has space", "slash/id", "dot.id", "ünï"])
def test_invalid_id_is_a_value_error_with_nni_message(fake, bad_id):
    with pytest.raises(InvalidExperimentIdError, match="Invalid experiment ID") as info:
        Experiment(None, id=bad_id, backend=fake)
    assert isinstance(info.value, ValueError)


def test_platform_name_builds_blank_config(fake):
    exp = Experiment("local", backend=fake)
    assert isinstance(exp.config, ExperimentConfig)
    assert exp.config.training_service.platform == "local"
    assert exp.config.tuner is not None  # a placeholder to fill in, as in NNI
    hybrid = Experiment(["local", "remote"], backend=fake)
    assert [ts.platform for ts in hybrid.config.training_service] == ["local", "remote"]


def test_bad_config_type_is_rejected(fake):
    with pytest.raises(ConfigError, match="config_or_platform"):
        Experiment(42, backend=fake)  # type: ignore[arg-type]


def test_backend_names_and_bad_backends(monkeypatch):
    assert isinstance(Experiment(None, backend="fake").backend, FakeManager)
    assert Experiment(None, backend="fake").backend is not Experiment(None, backend="fake").backend
    with pytest.raises(UnknownBackendError, match="names no backend"):
        Experiment(None, backend="kubernetes")
    with pytest.raises(UnknownBackendError, match="neither a backend object"):
        Experiment(None, backend=object())
    monkeypatch.setenv(BACKEND_ENV_VAR, "fake")
    shared = Experiment(None).backend
    assert isinstance(shared, FakeManager) and Experiment(None).backend is shared
    monkeypatch.setenv(BACKEND_ENV_VAR, "bogus")
    with pytest.raises(UnknownBackendError, match="NNI_EXP_BACKEND='bogus'"):
        Experiment(None)


# ---------------------------------------------------------------------------- lifecycle


def test_run_returns_true_when_done_and_keeps_manager_running(fake):
    exp = Experiment(make_config(), backend=fake)
    assert exp.run(8080) is True
    assert exp.port == 8080 and exp.get_status() == "DONE"
    assert [job.status for job in exp.list_trial_jobs()] == ["SUCCEEDED"] * 4
    exp.stop()
    assert exp.port is None and fake.ports == []
    assert fake.manifest.records()[exp.id]["status"] == "STOPPED"


def test_run_without_waiting_returns_none(fake):
    exp = Experiment(make_config(), backend=fake)
    assert exp.run(8081, wait_completion=False) is None
    assert exp.get_status() == "RUNNING"
    exp.stop()


def test_run_returns_false_on_error(fake):
    exp = Experiment(make_config(max_trial_duration="10"), backend=fake)  # bad unit: manager ERROR
    exp.config.max_trial_duration = "10s"
    exp.start()
    exp.update_max_experiment_duration("1h")
    profile = exp.get_experiment_profile()
    profile["params"]["maxTrialDuration"] = "10"  # a raw client could do this; NNI's manager fails
    fake.request("PUT", 8080, "/experiment?update_type=MAX_EXEC_DURATION", profile)
    fake.manager_at(8080).profile["params"]["maxTrialDuration"] = "10"
    assert exp.wait_completion() is False
    assert exp.get_status() == "ERROR"
    exp.stop()


def test_run_ends_when_tuner_is_exhausted(fake):
    """NNI 3.0 waits forever in TUNER_NO_MORE_TRIAL; run() returns once nothing is left to run."""
    config = make_config(search_space={"x": {"_type": "choice", "_value": [1, 2, 3]}}, max_trial_number=10)
    config.tuner.name = "GridSearch"
    with Experiment(config, backend=fake) as exp:
        assert exp.run() is True
        assert exp.get_status() == "TUNER_NO_MORE_TRIAL"
        assert sorted(r.parameter["x"] for r in exp.export_data()) == [1, 2, 3]


def test_run_of_100_long_trials_takes_no_real_time(fake):
    fake.trial = lambda params, trial: trial.sleep(60) or params["x"]
    exp = Experiment(make_config(max_trial_number=100, trial_concurrency=4), backend=fake)
    assert exp.run() is True
    jobs = exp.list_trial_jobs()
    assert len(jobs) == 100 and {job.status for job in jobs} == {"SUCCEEDED"}
    assert fake.clock.monotonic() >= 25 * 60  # 25 rounds of 60 virtual seconds
    exp.stop()


def test_context_manager_stops(fake):
    with Experiment(make_config(), backend=fake) as exp:
        exp.start(8085)
        assert fake.ports == [8085]
    assert exp.port is None and fake.ports == []


def test_start_registers_atexit_unless_detached(fake, monkeypatch):
    registered, unregistered = [], []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", unregistered.append)
    exp = Experiment(make_config(), backend=fake)
    exp.start(8090)
    assert registered == [exp.stop]
    exp.stop()
    assert unregistered == [exp.stop]
    registered.clear()
    detached = Experiment(make_config(), backend=fake)
    detached.start(8091, run_mode=RunMode.Detach)
    assert registered == []
    detached.stop()


def test_start_bad_inputs(fake):
    exp = Experiment(make_config(), backend=fake)
    for port in (0, 70000, "8080", True, None):
        with pytest.raises(ValueError, match="port must be an int"):
            exp.start(port)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="run_mode must be a RunMode"):
        exp.start(8080, run_mode="detach")  # type: ignore[arg-type]
    with pytest.raises(MissingConfigError) as info:
        Experiment(None, backend=fake).start()
    assert isinstance(info.value, AssertionError)  # what NNI raised
    broken = make_config()
    broken.trial_concurrency = 0
    with pytest.raises(ConfigError, match="trial_concurrency"):
        Experiment(broken, backend=fake).start()
    annotated = make_config()
    annotated.use_annotation = True
    annotated.search_space = None
    with pytest.raises(RuntimeError, match="annotation is not supported"):
        Experiment(annotated, backend=fake).start()
    assert fake.ports == []


def test_busy_port_is_refused_before_spawning(fake):
    first = Experiment(make_config(), backend=fake)
    first.start(8080)
    second = Experiment(make_config(), backend=fake)
    with pytest.raises(PortInUseError, match="Port 8080 is not idle") as info:
        second.start(8080)
    assert isinstance(info.value, RuntimeError)
    assert second.id not in fake.manifest.records()
    first.stop()


@pytest.mark.filterwarnings("ignore:SSH password will be exposed")
def test_second_port_checked_for_websocket_platforms(fake):
    remote = make_config()
    blocker = Experiment(make_config(), backend=fake)
    blocker.start(8081)
    remote_config = ExperimentConfig(**{**remote.json(), "trainingService": {
        "platform": "remote", "machineList": [{"host": "h", "user": "u", "password": "p"}]}})
    with pytest.raises(PortInUseError, match="Port 8081"):
        Experiment(remote_config, backend=fake).start(8080)
    blocker.stop()


def test_stop_when_never_started_is_a_no_op(fake):
    exp = Experiment(make_config(), backend=fake)
    exp.stop()
    exp.stop()
    assert exp.port is None


def _interrupt_the_third_poll(fake, monkeypatch):
    polls = []

    def interrupted_sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 3:
            raise KeyboardInterrupt
        fake.clock.advance(seconds)

    monkeypatch.setattr(fake.clock, "sleep", interrupted_sleep)


def test_keyboard_interrupt_in_run_stops_the_experiment_and_returns_none_as_in_nni(fake, monkeypatch, caplog):
    exp = Experiment(make_config(max_trial_number=50), backend=fake)
    _interrupt_the_third_poll(fake, monkeypatch)
    with caplog.at_level(logging.WARNING), reraise_keyboard_interrupts(False):
        assert exp.run() is None
    assert "KeyboardInterrupt detected" in caplog.text
    assert exp.port is None and fake.ports == []
    assert fake.manifest.records()[exp.id]["status"] == "STOPPED"


def test_under_pytest_keyboard_interrupt_in_run_stops_the_experiment_then_goes_on(fake, monkeypatch):
    assert reraises_keyboard_interrupts()  # the plugin switched it on for this session
    exp = Experiment(make_config(max_trial_number=50), backend=fake)
    _interrupt_the_third_poll(fake, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    assert exp.port is None and fake.ports == []
    assert fake.manifest.records()[exp.id]["status"] == "STOPPED"


def test_the_reraise_switch_takes_only_a_bool():
    with pytest.raises(TypeError, match="enabled must be a bool, got 'yes'"):
        set_reraise_keyboard_interrupts("yes")  # type: ignore[arg-type]
    assert reraises_keyboard_interrupts()


# ---------------------------------------------------------------------------- checkpoints, resume, view


def _stopped_experiment(fake: FakeManager, **overrides) -> Experiment:
    exp = Experiment(make_config(**overrides), backend=fake)
    exp.start()
    fake.advance(5)  # tuner connected, 2 trials running
    exp.stop()
    return exp


def test_has_checkpoint_and_save_checkpoint(fake):
    exp = Experiment(make_config(), backend=fake)
    assert exp.has_checkpoint() is False
    exp.save_checkpoint()  # nothing to do for HPO experiments
    exp.start()
    assert exp.has_checkpoint() is True
    exp.stop()
    assert Experiment(None, id=exp.id, backend=fake).has_checkpoint() is True
    assert Experiment(None, id="unknown1", backend=fake).has_checkpoint() is False


def test_load_checkpoint_adopts_stored_config(fake):
    exp = _stopped_experiment(fake)
    loaded = Experiment(None, id=exp.id, backend=fake)
    loaded.load_checkpoint()
    assert loaded.config is not None and loaded.config.json() == exp.config.json()


def test_load_checkpoint_keeps_current_config_and_warns_on_difference(fake, caplog):
    exp = _stopped_experiment(fake)
    other = make_config(trial_concurrency=5)
    again = Experiment(other, id=exp.id, backend=fake)
    with caplog.at_level(logging.WARNING):
        again.load_checkpoint()
    assert again.config is other
    assert "does not match" in caplog.text and "trialConcurrency" in caplog.text


def test_load_checkpoint_errors(fake):
    with pytest.raises(CheckpointError, match=r"Config of nothing1 \(under None\) failed to be loaded") as info:
        Experiment(None, id="nothing1", backend=fake).load_checkpoint()
    assert isinstance(info.value, ValueError)
    running = Experiment(make_config(), backend=fake)
    running.start()
    with pytest.raises(CheckpointError):  # only STOPPED experiments load without a config
        Experiment(None, id=running.id, backend=fake).load_checkpoint()
    running.stop()


def test_resume_continues_from_stored_trials(fake):
    exp = _stopped_experiment(fake)
    before = {job.trialJobId: job.status for job in exp_jobs(fake, exp.id)}
    resumed = Experiment(None, id=exp.id, backend=fake)
    assert resumed.resume(8099) is True
    jobs = resumed.list_trial_jobs()
    assert set(before) <= {job.trialJobId for job in jobs}
    assert len(jobs) == 4 and {job.status for job in jobs} == {"SUCCEEDED"}
    resumed.stop()


def exp_jobs(fake: FakeManager, experiment_id: str):
    store = fake._stores[experiment_id]
    return [TrialJob(**job) for job in store.trials()]


def test_resume_unknown_experiment(fake):
    with pytest.raises(ExperimentNotFoundError, match="Experiment ghost123 does not exist thus cannot be resumed"):
        Experiment(None, id="ghost123", backend=fake).resume()
    with pytest.raises(ExperimentNotFoundError, match="cannot be viewed"):
        Experiment(None, id="ghost123", backend=fake).view(non_blocking=True)


def test_run_or_resume(fake):
    exp = Experiment(make_config(), backend=fake)
    assert exp.run_or_resume(wait_completion=False) is None
    assert exp.get_status() == "RUNNING"
    exp.stop()
    again = Experiment(make_config(), id=exp.id, backend=fake)
    assert again.run_or_resume() is True  # resumed: same id, trials kept
    assert len(again.list_trial_jobs()) == 4
    again.stop()


def test_view_is_read_only(fake):
    exp = _stopped_experiment(fake)
    viewer = Experiment(None, id=exp.id, backend=fake)
    assert viewer.view(port=8100, non_blocking=True) is viewer
    assert viewer.get_status() == "VIEWED"
    trial_id = viewer.list_trial_jobs()[0].trialJobId
    for update in (lambda: viewer.update_trial_concurrency(3), lambda: viewer.update_max_trial_number(9),
                   lambda: viewer.update_max_experiment_duration("1h"),
                   lambda: viewer.update_search_space({"x": {"_type": "choice", "_value": [1]}})):
        with pytest.raises(ReadonlyExperimentError, match="can not update experiment profile in readonly mode"):
            update()
    with pytest.raises(ReadonlyExperimentError, match="can not cancel trial job in readonly mode"):
        viewer.kill_trial_job(trial_id)
    viewer.stop()
    record = fake.manifest.records()[exp.id]
    assert record["status"] == "STOPPED" and record["endTime"] == "N/A"  # NNI never re-sets it after a view


def test_blocking_view_stops_on_keyboard_interrupt(fake, monkeypatch):
    exp = _stopped_experiment(fake)

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fake.clock, "sleep", interrupt)
    with reraise_keyboard_interrupts(False):
        viewer = Experiment(None, id=exp.id, backend=fake).view()
    assert viewer.port is None and fake.ports == []
    viewer = Experiment(None, id=exp.id, backend=fake)
    with pytest.raises(KeyboardInterrupt):
        viewer.view()  # under pytest: stopped, then interrupted
    assert viewer.port is None and fake.ports == []


def test_deprecated_class_level_resume_and_view(fake, monkeypatch):
    exp = _stopped_experiment(fake)
    monkeypatch.setenv(BACKEND_ENV_VAR, "fake")
    with pytest.warns(DeprecationWarning, match=r"Experiment.view\(id\) is deprecated"):
        viewer = Experiment.view(exp.id, backend=fake, non_blocking=True)
    assert viewer.get_status() == "VIEWED"
    viewer.stop()
    with pytest.warns(DeprecationWarning, match=r"Experiment.resume\(id\) is deprecated"):
        assert Experiment.resume(exp.id, backend=fake, wait_completion=False) is None
    fake.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Experiment(None, id=exp.id, backend=fake).has_checkpoint()  # instance calls do not warn


def test_connect_attaches_to_running_manager(fake):
    exp = Experiment(make_config(), backend=fake)
    exp.start(8200)
    attached = Experiment.connect(8200, backend=fake)
    assert attached.id == exp.id and attached.config is None and attached.port == 8200
    assert attached.get_status() == "RUNNING"
    attached.stop()
    assert fake.ports == [] and fake.manifest.records()[exp.id]["status"] == "STOPPED"


def test_connect_bad_inputs(fake):
    with pytest.raises(ManagerUnreachableError, match="no fake NNI manager listens on port 8300") as info:
        Experiment.connect(8300, backend=fake)
    assert isinstance(info.value, requests.ConnectionError)
    with pytest.raises(ValueError, match="port must be an int"):
        Experiment.connect(-1, backend=fake)


# ---------------------------------------------------------------------------- queries


@pytest.fixture
def finished(fake):
    fake.trial = _reporting_trial
    exp = Experiment(make_config(), backend=fake)
    exp.run()
    yield exp
    exp.stop()


def _reporting_trial(params, trial):
    for step in range(3):
        trial.sleep(1)
        trial.report_intermediate_result(step / 10)
    return {"default": params["x"], "loss": 1 - params["x"]}


def test_not_running_queries_raise_runtime_error(fake):
    exp = Experiment(make_config(), backend=fake)
    for call in (exp.get_status, exp.list_trial_jobs, exp.get_job_statistics, exp.get_job_metrics,
                 exp.get_experiment_profile, exp.get_all_experiments_metadata, exp.export_data,
                 lambda: exp.get_trial_job("abcde"), lambda: exp.get_experiment_metadata(exp.id),
                 lambda: exp.kill_trial_job("abcde"), lambda: exp.update_trial_concurrency(1)):
        with pytest.raises(ExperimentNotRunningError, match="Experiment is not running") as info:
            call()
        assert isinstance(info.value, RuntimeError)


def test_list_and_get_trial_jobs(finished):
    jobs = finished.list_trial_jobs()
    assert [job.sequenceId for job in jobs] == [0, 1, 2, 3]
    for job in jobs:
        assert len(job.trialJobId) == 5 and job.status == "SUCCEEDED"
        assert job.endTime - job.startTime == 3000
        hyper = job.hyperParameters[0]
        assert (hyper.parameter_source, hyper.parameter_index) == ("algorithm", 0)
        assert 0 <= hyper.parameters["x"] <= 1
        assert isinstance(job.finalMetricData[0], TrialMetricData)
        assert job.finalMetricData[0].data == {"default": hyper.parameters["x"], "loss": 1 - hyper.parameters["x"]}
        assert finished.get_trial_job(job.trialJobId) == job


def test_get_trial_job_unknown_id_is_a_clear_not_found_error(finished):
    with pytest.raises(TrialNotFoundError, match="trial job 'nope1' not found") as info:
        finished.get_trial_job("nope1")
    assert isinstance(info.value, TypeError)  # what NNI raised
    for bad in ("", "a/b", None, 5):
        with pytest.raises(ValueError, match="trial_job_id"):
            finished.get_trial_job(bad)  # type: ignore[arg-type]


def test_get_job_metrics(finished):
    metrics = finished.get_job_metrics()
    assert set(metrics) == {job.trialJobId for job in finished.list_trial_jobs()}
    for rows in metrics.values():
        assert [(m.type, m.sequence) for m in rows] == [("PERIODICAL", 0), ("PERIODICAL", 1), ("PERIODICAL", 2),
                                                        ("FINAL", 0)]
        assert [m.data for m in rows[:3]] == [0.0, 0.1, 0.2]
        assert all(isinstance(m.parameterId, str) for m in rows)  # NNI quirk: a string
    one = next(iter(metrics))
    assert finished.get_job_metrics(one) == {one: metrics[one]}
    assert finished.get_job_metrics("unknown") == {}


def test_statistics_profile_and_metadata(finished):
    assert finished.get_job_statistics() == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 4}]
    profile = finished.get_experiment_profile()
    assert list(profile) == ["params", "id", "execDuration", "logDir", "startTime", "endTime", "nextSequenceId",
                             "revision"]
    assert profile["id"] == finished.id and profile["nextSequenceId"] == 4
    assert profile["params"] == finished.config.json()
    metadata = finished.get_experiment_metadata(finished.id)
    assert metadata["status"] == "DONE" and metadata["port"] == 8080 and metadata["platform"] == "local"
    assert finished.get_experiment_metadata("other") == {}
    assert [m["id"] for m in finished.get_all_experiments_metadata()] == [finished.id]


def test_export_data(finished):
    results = finished.export_data()
    assert len(results) == 4 and all(isinstance(r, TrialResult) for r in results)
    for result in results:
        assert result.value == {"default": result.parameter["x"], "loss": 1 - result.parameter["x"]}


# ---------------------------------------------------------------------------- updates and kill


def test_updates_reach_the_profile(fake):
    exp = Experiment(make_config(), backend=fake)
    exp.start()
    fake.advance(4)  # the tuner has connected: it can take a new search space
    exp.update_trial_concurrency(3)
    exp.update_max_trial_number(9)
    exp.update_max_experiment_duration("2h")
    new_space = {"x": {"_type": "uniform", "_value": [10, 20]}}
    exp.update_search_space(new_space)
    params = exp.get_experiment_profile()["params"]
    assert (params["trialConcurrency"], params["maxTrialNumber"], params["maxExperimentDuration"]) == (3, 9, "2h")
    assert params["searchSpace"] == new_space
    exp.wait_completion()
    xs = [job.hyperParameters[0].parameters["x"] for job in exp.list_trial_jobs()]
    assert len(xs) == 9
    assert all(0 <= x <= 1 for x in xs[:2])  # generated at start-up, from the first space
    assert all(10 <= x <= 20 for x in xs[2:])  # generated after the update
    exp.stop()


def test_search_space_update_before_the_tuner_connected(fake):
    """The real manager never answers this request (it throws inside the handler); the fake says why."""
    exp = Experiment(make_config(), backend=fake)
    exp.start()
    with pytest.raises(ManagerError, match="tuner has not been setup") as info:
        exp.update_search_space({"x": {"_type": "choice", "_value": [1]}})
    assert info.value.status_code == 409
    exp.stop()


@pytest.mark.parametrize("method,value,field", [
    ("update_trial_concurrency", -1, "trial_concurrency"),
    ("update_trial_concurrency", "3", "trial_concurrency"),
    ("update_trial_concurrency", True, "trial_concurrency"),
    ("update_max_trial_number", 0, "max_trial_number"),
    ("update_max_trial_number", 2.5, "max_trial_number"),
    ("update_max_experiment_duration", "10", "max_experiment_duration"),
    ("update_max_experiment_duration", "0s", "max_experiment_duration"),
    ("update_max_experiment_duration", [], "max_experiment_duration"),
    ("update_search_space", "x", "search_space"),
])
def test_update_bad_values_are_config_errors(fake, method, value, field):
    exp = Experiment(make_config(), backend=fake)
    exp.start()
    before = exp.get_experiment_profile()["revision"]
    with pytest.raises(ConfigError) as info:
        getattr(exp, method)(value)
    assert info.value.field == field and field in str(info.value)
    assert exp.get_experiment_profile()["revision"] == before  # nothing was sent
    exp.stop()


def test_kill_trial_job(fake):
    exp = Experiment(make_config(max_trial_number=3, trial_concurrency=1), backend=fake)
    exp.start()
    fake.advance(4)
    running = exp.list_trial_jobs()[0]
    assert running.status == "RUNNING"
    exp.kill_trial_job(running.trialJobId)
    killed = exp.get_trial_job(running.trialJobId)
    assert killed.status == "USER_CANCELED" and killed.endTime == -1  # endTime comes a tick later
    fake.advance(1)
    assert exp.get_trial_job(running.trialJobId).endTime > 0
    with pytest.raises(TrialNotFoundError) as info:
        exp.kill_trial_job("zzzzz")
    assert isinstance(info.value, requests.HTTPError)  # what NNI raised
    exp.stop()


def test_customized_trial_limit_is_a_typed_error(fake):
    exp = Experiment(make_config(max_trial_number=1, trial_concurrency=1), backend=fake)
    exp.run()
    with pytest.raises(TrialLimitReachedError, match="reach maxTrialNum"):
        fake.request("POST", 8080, "/trial-jobs", {"x": 0.5})
    exp.stop()
