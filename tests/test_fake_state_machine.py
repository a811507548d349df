"""The fake manager's state machine, limits and trial lifecycle, checked against what NNI 3.0's manager
does (``shared/reference/real_manager_observed.md``; nnimanager.js)."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from fakes import FakeManager, ManagerTiming
from nni_exp import Experiment
from nni_exp.errors import ExperimentStalledError, ManagerError

from .conftest import make_config, three_second_trial


def timeline(exp: Experiment, fake: FakeManager, seconds: float, step: float = 0.5) -> List[Tuple[str, Any]]:
    """(status, job statistics) each time either changes, polling every ``step`` virtual seconds."""
    seen: List[Tuple[str, Any]] = []
    elapsed = 0.0
    while elapsed <= seconds:
        entry = (exp.get_status(), {s["trialJobStatus"]: s["trialJobNumber"] for s in exp.get_job_statistics()})
        if not seen or seen[-1] != entry:
            seen.append(entry)
        fake.advance(step)
        elapsed += step
    return seen


def statuses(entries: List[Tuple[str, Any]]) -> List[str]:
    result: List[str] = []
    for status, _ in entries:
        if not result or result[-1] != status:
            result.append(status)
    return result


@pytest.fixture
def fake3() -> FakeManager:
    return FakeManager(three_second_trial, seed=3)


def test_status_is_initialized_until_config_is_posted(fake3):
    exp = Experiment(make_config(), backend=fake3)
    from nni_exp.backend import ManagerArgs, RunMode

    args = ManagerArgs(port=8080, experiment_id=exp.id, action="create", mode="local",
                       experiments_directory="/tmp/x", log_level="info")
    process = fake3.spawn_manager(args, RunMode.Background)
    assert fake3.request("GET", 8080, "/check-status") == {"status": "INITIALIZED", "errors": []}
    assert fake3.request("GET", 8080, "/experiment") is None  # 200 with an empty body
    assert fake3.request("GET", 8080, "/trial-jobs") == []
    process.kill()
    assert not process.is_alive() and process.wait() == -9


def test_basic_sequence_no_more_trial_before_done(fake3):
    """NO_MORE_TRIAL as soon as the last trial is submitted (others still running), DONE with the last
    SUCCEEDED; WAITING never shows (local training service)."""
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    entries = timeline(exp, fake3, 15)
    assert statuses(entries) == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    no_more = next(stats for status, stats in entries if status == "NO_MORE_TRIAL")
    assert no_more == {"SUCCEEDED": 2, "RUNNING": 2}
    assert entries[-1] == ("DONE", {"SUCCEEDED": 4})
    assert all("WAITING" not in stats for _, stats in entries)
    profile = exp.get_experiment_profile()
    assert "endTime" in profile and profile["nextSequenceId"] == 4
    exp.stop()


def test_first_trial_runs_after_tuner_startup(fake3):
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    fake3.advance(3.4)
    assert exp.list_trial_jobs() == []
    fake3.advance(0.2)
    jobs = exp.list_trial_jobs()
    assert [job.status for job in jobs] == ["RUNNING", "RUNNING"]
    assert jobs[0].startTime - exp.get_experiment_profile()["startTime"] == 3500
    exp.stop()


def test_failed_trials_do_not_make_the_experiment_fail():
    def failing(params: dict, trial: Any) -> float:
        trial.sleep(1)
        raise RuntimeError("diverged")

    fake = FakeManager(failing, seed=1)
    exp = Experiment(make_config(), backend=fake)
    assert exp.run() is True
    assert exp.get_status() == "DONE"
    jobs = exp.list_trial_jobs()
    assert {job.status for job in jobs} == {"FAILED"}
    assert all(job.stderrPath == job.logPath + "/stderr" for job in jobs)
    assert exp.export_data() == [] and exp.get_job_metrics() == {}
    answer = fake.handle(8080, "GET", f"/api/v1/nni/trial-file/{jobs[0].trialJobId}/stderr")
    assert answer.status == 200 and "RuntimeError: diverged" in answer.body
    exp.stop()


def test_statistics_keep_first_seen_order():
    def first_fails(params: dict, trial: Any) -> float:
        trial.sleep(1 if trial.sequence_id == 0 else 2)
        if trial.sequence_id == 0:
            raise ValueError("boom")
        return 1.0

    exp = Experiment(make_config(), backend=FakeManager(first_fails, seed=2))
    exp.run()
    assert [s["trialJobStatus"] for s in exp.get_job_statistics()] == ["FAILED", "SUCCEEDED"]
    exp.stop()


def test_max_experiment_duration_counts_active_seconds_and_lets_trials_finish():
    fake = FakeManager(lambda params, trial: trial.sleep(10) or 1.0, seed=4)
    exp = Experiment(make_config(max_experiment_duration="8s", max_trial_number=None), backend=fake)
    exp.start()
    entries = timeline(exp, fake, 25)
    assert statuses(entries) == ["RUNNING", "NO_MORE_TRIAL", "DONE"]
    assert entries[-1][1] == {"SUCCEEDED": 2}  # running trials are not killed
    profile = exp.get_experiment_profile()
    assert profile["execDuration"] == 10  # frozen at DONE
    fake.advance(100)
    assert exp.get_experiment_profile()["execDuration"] == 10
    exp.update_max_experiment_duration("1m")
    fake.advance(1)
    assert exp.get_status() == "RUNNING"  # DONE -> RUNNING when the limit is raised
    assert "endTime" not in exp.get_experiment_profile()
    exp.stop()


def test_no_more_trial_is_skipped_when_nothing_runs():
    fake = FakeManager(lambda params, trial: trial.sleep(5) or 1.0, seed=4)
    exp = Experiment(make_config(max_experiment_duration="6s", max_trial_number=None, trial_concurrency=1),
                     backend=fake)
    exp.start()
    seen = statuses(timeline(exp, fake, 30, step=0.5))
    assert seen[-1] == "DONE"


def test_max_trial_duration_cancels_as_user_canceled():
    """Local v3 stops over-time trials before flagging them early-stopped: USER_CANCELED."""
    fake = FakeManager(lambda params, trial: trial.sleep(100) or 1.0, seed=5)
    exp = Experiment(make_config(max_trial_duration="5s", max_trial_number=2), backend=fake)
    assert exp.run() is True
    jobs = exp.list_trial_jobs()
    assert [job.status for job in jobs] == ["USER_CANCELED", "USER_CANCELED"]
    assert all(5000 < job.endTime - job.startTime <= 5500 for job in jobs)
    assert exp.get_job_metrics() == {}
    exp.stop()


def test_trial_concurrency_update_up_down_and_zero(fake3):
    exp = Experiment(make_config(max_trial_number=None, trial_concurrency=1), backend=fake3)
    exp.start()
    fake3.advance(4)
    exp.update_trial_concurrency(3)
    fake3.advance(1)
    assert exp.get_job_statistics() == [{"trialJobStatus": "RUNNING", "trialJobNumber": 3}]
    exp.update_trial_concurrency(0)  # pause: running trials finish, none starts
    fake3.advance(10)
    assert exp.get_job_statistics() == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 3}]
    fake3.advance(10)
    assert exp.get_job_statistics() == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 3}]
    exp.update_trial_concurrency(1)
    fake3.advance(1.5)
    stats = {s["trialJobStatus"]: s["trialJobNumber"] for s in exp.get_job_statistics()}
    assert stats == {"SUCCEEDED": 3, "RUNNING": 1}
    exp.stop()


def test_negative_concurrency_is_accepted_by_the_manager(fake3):
    """The real manager stores whatever it gets (a raw PUT bypasses the client's checks)."""
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    profile = exp.get_experiment_profile()
    profile["params"]["trialConcurrency"] = -1
    fake3.request("PUT", 8080, "/experiment?update_type=TRIAL_CONCURRENCY", profile)
    assert exp.get_experiment_profile()["params"]["trialConcurrency"] == -1
    fake3.advance(30)
    assert exp.get_status() == "RUNNING" and exp.get_job_statistics() == []
    exp.stop()


def test_max_trial_number_update_revives_done(fake3):
    exp = Experiment(make_config(max_trial_number=2), backend=fake3)
    assert exp.run() is True
    revision = exp.get_experiment_profile()["revision"]
    exp.update_max_trial_number(3)
    assert exp.get_experiment_profile()["revision"] == revision + 1
    fake3.advance(0.5)
    assert exp.get_status() == "RUNNING"
    # the manager asks its tuner for trials only when trials end or the concurrency grows: nothing
    # starts, and a wait for the end would never end (NNI's run() waits for ever)
    with pytest.raises(ExperimentStalledError, match="asks its tuner for trials only when trials end"):
        exp.wait_completion()
    exp.update_trial_concurrency(3)
    assert exp.wait_completion() is True and len(exp.list_trial_jobs()) == 3


def test_max_trial_number_as_a_string_is_stored_and_ignored(fake3):
    """The real manager accepted "abc" and stored it; JavaScript's comparison makes it no limit."""
    exp = Experiment(make_config(max_trial_number=2), backend=fake3)
    exp.start()
    profile = exp.get_experiment_profile()
    profile["params"]["maxTrialNumber"] = "abc"
    fake3.request("PUT", 8080, "/experiment?update_type=MAX_TRIAL_NUM", profile)
    fake3.advance(30)
    assert exp.get_experiment_profile()["params"]["maxTrialNumber"] == "abc"
    assert exp.get_status() == "RUNNING" and len(exp.list_trial_jobs()) > 2
    exp.stop()


def test_bad_duration_unit_puts_the_manager_in_error(fake3):
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    fake3.advance(4)
    profile = exp.get_experiment_profile()
    profile["params"]["maxExperimentDuration"] = "10"
    fake3.request("PUT", 8080, "/experiment?update_type=MAX_EXEC_DURATION", profile)
    fake3.advance(1)
    assert fake3.request("GET", 8080, "/check-status") == {
        "status": "ERROR", "errors": ['Job management error: Bad unit in "10"']}
    assert "endTime" in exp.get_experiment_profile()
    exp.update_max_trial_number(5)  # updates are still accepted in ERROR, as in the real manager
    fake3.advance(5)
    assert exp.get_status() == "ERROR"
    exp.stop()


def test_unknown_tuner_errors_after_ten_seconds(fake3):
    config = make_config()
    config.tuner.name = "NoSuchTuner"
    exp = Experiment(config, backend=fake3)
    exp.start()
    fake3.advance(9.9)
    assert exp.get_status() == "RUNNING"
    assert exp.wait_completion() is False
    errors = fake3.request("GET", 8080, "/check-status")["errors"]
    assert errors == ["tuner_command_channel: Tuner did not connect in 10 seconds. Please check tuner "
                      "(dispatcher) log."]
    assert any("builtin name is not found: nosuchtuner" in line.lower()
               for line in fake3.manager_at(8080).log_lines)
    exp.stop()


@pytest.mark.parametrize("search", ["own", "auto"])
def test_a_raising_tuner_stops_the_dispatcher_not_the_experiment(search: str):
    """As NNI 3.0 (measured): the dispatcher logs the traceback and stops; the manager stays RUNNING with
    no error, trials already started finish, no new trial starts."""
    calls = []

    def bad_tuner(parameter_id: int, search_space: dict, rng: Any) -> dict:
        calls.append(parameter_id)
        if len(calls) == 2:
            raise ZeroDivisionError("tuner bug")
        return {"x": 0.5}

    fake = FakeManager(three_second_trial, tuner=bad_tuner, seed=1, search=search)
    exp = Experiment(make_config(trial_concurrency=1, max_trial_number=5), backend=fake)
    with pytest.raises(ExperimentStalledError, match="ZeroDivisionError: tuner bug"):
        exp.run()
    assert fake.request("GET", 8080, "/check-status") == {"status": "RUNNING", "errors": []}
    assert [job.status for job in exp.list_trial_jobs()] == ["SUCCEEDED"]
    log = fake.manager_at(8080).dispatcher_log.text
    assert "ERROR (nni.runtime.msg_dispatcher_base/Thread-1 (command_queue_worker)) tuner bug" in log
    assert "ZeroDivisionError: tuner bug" in log
    fake.advance(3600)
    assert len(exp.list_trial_jobs()) == 1
    exp.stop()


def test_callable_tuner_proposes_parameters_until_none():
    proposals = iter([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}])

    def tuner(parameter_id: int, search_space: dict, rng: Any):
        return next(proposals, None)

    fake = FakeManager(three_second_trial, tuner=tuner, seed=1)
    exp = Experiment(make_config(max_trial_number=10), backend=fake)
    assert exp.run() is True
    assert exp.get_status() == "TUNER_NO_MORE_TRIAL"
    assert sorted(r.value for r in exp.export_data()) == [0.1, 0.2, 0.3]
    exp.stop()


def test_grid_search_exhaustion_stays_tuner_no_more_trial(fake3):
    config = make_config(search_space={"x": {"_type": "choice", "_value": [1, 2, 3]}}, max_trial_number=10)
    config.tuner.name = "GridSearch"
    exp = Experiment(config, backend=fake3)
    exp.start()
    entries = timeline(exp, fake3, 40)
    assert statuses(entries) == ["RUNNING", "TUNER_NO_MORE_TRIAL"]
    turning = next(stats for status, stats in entries if status == "TUNER_NO_MORE_TRIAL")
    assert turning == {"SUCCEEDED": 2, "RUNNING": 1}  # just as the third (last) point started
    assert entries[-1] == ("TUNER_NO_MORE_TRIAL", {"SUCCEEDED": 3})
    exp.stop()


def test_killing_a_succeeded_trial_turns_it_user_canceled(fake3):
    exp = Experiment(make_config(), backend=fake3)
    exp.run()
    target = exp.list_trial_jobs()[0]
    exp.kill_trial_job(target.trialJobId)
    after = exp.get_trial_job(target.trialJobId)
    assert after.status == "USER_CANCELED" and after.endTime == target.endTime and after.finalMetricData == []
    assert exp.get_job_statistics() == [{"trialJobStatus": "USER_CANCELED", "trialJobNumber": 1},
                                        {"trialJobStatus": "SUCCEEDED", "trialJobNumber": 3}]
    assert target.trialJobId not in {r.trialJobId for r in exp.export_data()}
    assert target.trialJobId in exp.get_job_metrics()  # its metrics stay
    exp.kill_trial_job(target.trialJobId)  # again: accepted, nothing changes
    assert exp.get_status() == "DONE"
    exp.stop()


def test_killed_trial_reports_nothing_after_the_kill():
    def slow(params: dict, trial: Any) -> float:
        for step in range(10):
            trial.sleep(1)
            trial.report_intermediate_result(step)
        return 1.0

    fake = FakeManager(slow, seed=1)
    exp = Experiment(make_config(max_trial_number=1, trial_concurrency=1), backend=fake)
    exp.start()
    fake.advance(3.5 + 2.5)  # the trial started at 3.5 and reported steps 0 and 1
    trial_id = exp.list_trial_jobs()[0].trialJobId
    exp.kill_trial_job(trial_id)
    fake.advance(20)
    assert [m.data for m in exp.get_job_metrics()[trial_id]] == [0, 1]
    assert exp.get_status() == "DONE"
    exp.stop()


def test_customized_trial_runs_next(fake3):
    exp = Experiment(make_config(max_trial_number=5, trial_concurrency=1), backend=fake3)
    exp.start()
    fake3.advance(4)
    answer = fake3.request("POST", 8080, "/trial-jobs", {"x": 0.25})
    assert answer == {"sequenceId": 1}
    fake3.advance(3.5)
    jobs = fake3.request("GET", 8080, "/trial-jobs")
    assert jobs[1]["hyperParameters"] == ['{"parameter_id":null,"parameter_source":"customized","parameters":'
                                          '{"x":0.25}}']
    assert jobs[1]["sequenceId"] == 1
    exp.wait_completion()
    customized = exp.get_trial_job(jobs[1]["trialJobId"])
    assert customized.hyperParameters[0].parameter_index is None  # NNI's own class would raise here
    metrics = fake3.request("GET", 8080, f"/metric-data/{jobs[1]['trialJobId']}")
    assert metrics[0]["parameterId"] is None
    exp.stop()


def test_import_data_is_listed_but_not_exported(fake3):
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    # before the tuner connected, the real manager never answers (deliberate fix: 409)
    with pytest.raises(ManagerError, match="tuner has not been setup") as raised:
        fake3.request("POST", 8080, "/experiment/import-data", [{"parameter": {"x": 0.11}, "value": 0.5}])
    assert raised.value.status_code == 409
    assert fake3.request("GET", 8080, "/experiment/imported-data") == []
    fake3.advance(ManagerTiming().tuner_startup)
    fake3.request("POST", 8080, "/experiment/import-data", [{"parameter": {"x": 0.11}, "value": 0.5}])
    fake3.request("POST", 8080, "/experiment/import-data", [{"parameter": {"x": 0.33}, "value": 0.1}])
    assert fake3.request("GET", 8080, "/experiment/imported-data") == [
        '[{"parameter":{"x":0.11},"value":0.5}]', '[{"parameter":{"x":0.33},"value":0.1}]']
    exp.wait_completion()
    assert len(exp.export_data()) == 4
    with pytest.raises(ManagerError, match="list of"):
        fake3.request("POST", 8080, "/experiment/import-data", {"parameter": {}})
    exp.stop()


def test_stop_before_the_tuner_connects_leaves_stopping_in_the_manifest(fake3):
    """Observed on NNI 3.0: the shutdown fails sending TERMINATE to an unconnected tuner."""
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    exp.stop()
    record = fake3.manifest.read()[exp.id]
    assert record["status"] == "STOPPING" and record["endTime"] == "N/A"
    assert fake3.manifest.records()[exp.id]["status"] == "STOPPED"  # crash detection: the process is gone
    assert fake3.ports == []
    resumed = Experiment(make_config(), id=exp.id, backend=fake3)  # with a config: no STOPPED check
    assert resumed.resume() is True
    resumed.stop()


def test_resume_requeues_running_trials_and_resets_sequence_ids(fake3):
    exp = Experiment(make_config(max_trial_number=6, trial_concurrency=2), backend=fake3)
    exp.start()
    fake3.advance(8)  # 2 succeeded, 2 running
    before = {job.trialJobId: job.status for job in exp.list_trial_jobs()}
    exp.stop()
    running_ids = [tid for tid, status in before.items() if status == "RUNNING"]
    assert len(running_ids) == 2
    resumed = Experiment(None, id=exp.id, backend=fake3)
    resumed.resume(wait_completion=False)
    assert resumed.get_status() == "RUNNING"
    stats = {s["trialJobStatus"]: s["trialJobNumber"] for s in resumed.get_job_statistics()}
    assert stats == {"SUCCEEDED": 2, "ADD_RESUMED": 2}
    assert resumed.get_experiment_profile()["nextSequenceId"] == 4  # max running sequenceId + 1
    fake3.advance(4)
    again = {job.trialJobId: job.status for job in resumed.list_trial_jobs()}
    assert all(again[tid] == "RUNNING" for tid in running_ids)  # same ids, running again
    assert resumed.wait_completion() is True
    assert len(resumed.list_trial_jobs()) == 6
    resumed.stop()


def test_stopped_running_trials_keep_running_status_in_the_store(fake3):
    exp = Experiment(make_config(), backend=fake3)
    exp.start()
    fake3.advance(4)
    exp.stop()
    store_statuses = {job["status"] for job in fake3._stores[exp.id].trials()}
    assert store_statuses == {"RUNNING"}


def test_exec_duration_and_revision_grow_while_running(fake3):
    exp = Experiment(make_config(max_trial_number=None, trial_concurrency=1), backend=fake3)
    exp.start()
    fake3.advance(3 + 25)
    profile = exp.get_experiment_profile()
    assert profile["execDuration"] == 25
    assert profile["revision"] > 2
    exp.stop()


def test_timing_is_configurable():
    fake = FakeManager(three_second_trial, timing=ManagerTiming(tick=0.1, tuner_startup=0.0), seed=1)
    exp = Experiment(make_config(), backend=fake)
    exp.start()
    fake.advance(0.2)
    assert len(exp.list_trial_jobs()) == 2
    exp.stop()


def test_fake_manager_constructor_bad_inputs():
    with pytest.raises(TypeError, match="trial must be a function"):
        FakeManager(trial=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be an int"):
        FakeManager(seed="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timing must be a ManagerTiming"):
        FakeManager(timing={"tick": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="advance"):
        FakeManager().advance(-1)
    with pytest.raises(ValueError, match="ManagerTiming.tick must be a finite number > 0"):
        ManagerTiming(tick=0)
    with pytest.raises(ValueError, match="ManagerTiming.tuner_startup must be a finite number >= 0"):
        ManagerTiming(tuner_startup=-1)
    with pytest.raises(ValueError, match="ManagerTiming.tuner_latency"):
        ManagerTiming(tuner_latency=float("nan"))


def test_trial_context_rejects_bad_metrics():
    from fakes.trials import TrialContext

    context = TrialContext({"x": 1}, "abcde", 0, "exp", 0)
    for bad, error in ((True, TypeError), ("0.5", TypeError), ({"loss": 1}, ValueError), (None, TypeError)):
        with pytest.raises(error, match="metric"):
            context.report_intermediate_result(bad)
    context.report_intermediate_result({"default": 0.5, "loss": 1})
    context.report_intermediate_result(3)


def test_bad_trial_results_fail_the_trial():
    def returns_garbage(params: dict, trial: Any) -> Any:
        return "high"

    def sleeps_badly(params: dict, trial: Any) -> Any:
        trial.sleep(-1)

    for function, text in ((returns_garbage, "invalid final result"), (sleeps_badly, "trial.sleep()")):
        fake = FakeManager(function, seed=1)
        exp = Experiment(make_config(max_trial_number=1), backend=fake)
        exp.run()
        job = exp.list_trial_jobs()[0]
        assert job.status == "FAILED"
        assert text in fake.handle(8080, "GET", f"/api/v1/nni/trial-file/{job.trialJobId}/stderr").body
        exp.stop()


def test_trials_left_add_resumed_by_a_second_stop_are_not_recovered_again(fake3):
    """As nnimanager.js: only WAITING/RUNNING trials are re-queued on resume, so a trial still
    ADD_RESUMED when the experiment stopped again stays so; canceling it is refused (the real manager
    answers with a JavaScript TypeError)."""
    exp = Experiment(make_config(max_trial_number=4), backend=fake3)
    exp.start()
    fake3.advance(4)  # two trials running
    exp.stop()
    first = Experiment(None, id=exp.id, backend=fake3)
    first.resume(wait_completion=False)
    first.stop()  # before the resumed trials ran again
    second = Experiment(None, id=exp.id, backend=fake3)
    second.resume(wait_completion=False)
    leftovers = [job.trialJobId for job in second.list_trial_jobs() if job.status == "ADD_RESUMED"]
    assert len(leftovers) == 2
    with pytest.raises(ManagerError, match="waiting to be resumed") as info:
        second.kill_trial_job(leftovers[0])
    assert info.value.status_code == 409
    fake3.advance(60)
    statuses_now = {job.trialJobId: job.status for job in second.list_trial_jobs()}
    assert all(statuses_now[trial_id] == "ADD_RESUMED" for trial_id in leftovers)
    second.stop()
