"""nni_exp.testing.trial: trial code runs with given parameters, with or without nni, and its reports are kept."""

from __future__ import annotations

import json
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Dict

import pytest
from hypothesis import given, settings

from fakes import FakeManager
from nni_exp import Experiment
from nni_exp.strategies import TrialPlan, trial_plans
from nni_exp.testing import trial as trial_module
from nni_exp.testing import trial_fixture
from nni_exp.testing.trial import (
    CHANNEL_URL,
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_TRIAL_ID,
    ReportedMetric,
    TrialFailedError,
    TrialRunner,
    nni_is_installed,
    nni_trial_as_fake_trial,
    run_trial,
    standin_nni,
)

from .conftest import make_config

STANDIN = {"use_nni": False}
nni_trial = trial_fixture.nni_trial  # the fixture under test (the plugin may also provide it)

TRIAL_SCRIPT = textwrap.dedent("""
    import os, sys
    import nni

    params = nni.get_next_parameter()
    print("params", params, nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id(), sys.argv[1:])
    for epoch in range(3):
        nni.report_intermediate_result(params["lr"] * epoch)
    with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "model.txt"), "w") as file:
        file.write("weights")
    print("oops", file=sys.stderr)
    nni.report_final_result({"default": params["lr"] * 10, "loss": 0.5})
""")


def trial_main() -> None:
    """A trial written against NNI's API, imported at call time (so the stand-in can be injected)."""
    import nni

    params = nni.get_next_parameter()
    print("hello from", nni.get_trial_id())
    for epoch in range(params.get("epochs", 2)):
        nni.report_intermediate_result(params["lr"] * (epoch + 1))
    nni.report_final_result(params["lr"] * 100)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "trial.py"
    path.write_text(TRIAL_SCRIPT)
    return path


def write_script(tmp_path: Path, body: str, name: str = "t.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


# ---------------------------------------------------------------------------------------------- functions


def test_a_function_runs_with_the_standin():
    run = run_trial(trial_main, {"lr": 0.1, "epochs": 3}, trial_id="aBcDe", sequence_id=7, parameter_id=7, **STANDIN)
    assert run.succeeded and run.exit_code == 0 and run.exception is None
    assert run.parameters == {"lr": 0.1, "epochs": 3} and run.parameter_requests == 1
    assert run.intermediate == pytest.approx([0.1, 0.2, 0.3]) and run.final == pytest.approx(10.0)
    assert run.metrics[0] == ReportedMetric("PERIODICAL", 0, 7, 0.1)
    assert [m.sequence for m in run.metrics] == [0, 1, 2, 0] and run.metrics[-1].type == "FINAL"
    assert run.stdout == "hello from aBcDe\n" and run.stderr == ""
    assert (run.trial_id, run.sequence_id, run.experiment_id) == ("aBcDe", 7, DEFAULT_EXPERIMENT_ID)
    assert run.check() is run
    assert "nni" not in sys.modules or not getattr(sys.modules["nni"], "__nni_exp_standin__", False)


def test_a_failing_function_is_a_failed_trial():
    def diverges() -> None:
        import nni

        nni.get_next_parameter()
        nni.report_intermediate_result(1.0)
        raise FloatingPointError("loss is NaN")

    run = run_trial(diverges, {"lr": 10}, **STANDIN)
    assert not run.succeeded and run.exit_code == 1 and isinstance(run.exception, FloatingPointError)
    assert run.intermediate == [1.0] and run.final is None
    assert "FloatingPointError: loss is NaN" in run.stderr
    with pytest.raises(TrialFailedError, match="exited with code 1") as info:
        run.check()
    assert info.value.__cause__ is run.exception and "loss is NaN" in str(info.value)


@pytest.mark.parametrize("code, exit_code", [(0, 0), (None, 0), (3, 3), ("bad config", 1)])
def test_system_exit_sets_the_exit_code(code, exit_code):
    def exits() -> None:
        raise SystemExit(code)

    run = run_trial(exits, **STANDIN)
    assert run.exit_code == exit_code and run.succeeded == (exit_code == 0)
    if isinstance(code, str):
        assert "bad config" in run.stderr


def test_nni_api_rules_are_enforced():
    def reports_first() -> None:
        import nni

        nni.report_final_result(1.0)

    run = run_trial(reports_first, **STANDIN)
    assert isinstance(run.exception, AssertionError)
    assert str(run.exception) == "nni.get_next_parameter() needs to be called before report_final_result"

    def asks_twice() -> None:
        import nni

        assert nni.get_next_parameter() == {"a": 1}
        assert nni.get_next_parameter() is None

    run = run_trial(asks_twice, {"a": 1}, **STANDIN)
    assert run.succeeded and run.parameter_requests == 2


def test_metrics_travel_as_json():
    class Scalar:  # a numpy-like scalar
        def item(self) -> float:
            return 0.25

    def reports() -> None:
        import nni

        nni.get_next_parameter()
        nni.report_intermediate_result(Scalar())
        nni.report_final_result({"default": 1, "extra": (1, 2)})

    run = run_trial(reports, **STANDIN)
    assert run.intermediate == [0.25] and run.final == {"default": 1, "extra": [1, 2]}

    def reports_garbage() -> None:
        import nni

        nni.get_next_parameter()
        nni.report_final_result(object())

    run = run_trial(reports_garbage, **STANDIN)
    assert isinstance(run.exception, TypeError) and "JSON-serializable" in str(run.exception)


def test_parameters_are_a_copy_the_trial_may_change():
    def mutates() -> None:
        import nni

        nni.get_next_parameter()["lr"] = 99

    given_params = {"lr": 1}
    run = run_trial(mutates, given_params, **STANDIN)
    assert run.parameters == {"lr": 1} and given_params == {"lr": 1}


def test_a_customized_trial_has_no_parameter_id():
    run = run_trial(trial_main, {"lr": 1}, parameter_id=None, parameter_source="customized", **STANDIN)
    assert {m.parameter_id for m in run.metrics} == {None}


@settings(max_examples=30, deadline=None)
@given(trial_plans(max_steps=4))
def test_any_plan_written_against_nni_reports_what_it_says(plan: TrialPlan):
    def follows_plan() -> None:
        import nni

        nni.get_next_parameter()
        for _, value in plan.steps:
            nni.report_intermediate_result(value)
        if plan.fails:
            raise RuntimeError("planned")
        if plan.final is not None:
            nni.report_final_result(plan.final)

    run = run_trial(follows_plan, **STANDIN)
    assert run.intermediate == plan.intermediate
    assert run.succeeded == (not plan.fails)
    assert run.final == (plan.final if plan.reports_final else None)


# ---------------------------------------------------------------------------------------------- scripts


def test_a_script_runs_in_a_subprocess_with_the_standin(script: Path, tmp_path: Path):
    output = tmp_path / "out"
    run = run_trial(script, {"lr": 0.5}, args=["--fast"], output_dir=output, trial_id="Zz9zZ", sequence_id=3,
                    **STANDIN)
    assert run.succeeded, run.stderr
    assert run.stdout == f"params {{'lr': 0.5}} {DEFAULT_EXPERIMENT_ID} Zz9zZ 3 ['--fast']\n"
    assert run.stderr == "oops\n"
    assert run.intermediate == [0.0, 0.5, 1.0] and run.final == {"default": 5.0, "loss": 0.5}
    assert run.parameter_requests == 1 and run.output_dir == output
    assert (output / "model.txt").read_text() == "weights"


def test_a_script_can_run_in_this_process(script: Path):
    run = run_trial(script, {"lr": 2}, in_subprocess=False, **STANDIN)
    assert run.succeeded and run.final == {"default": 20, "loss": 0.5} and run.stderr == "oops\n"
    assert run.output_dir is None  # the temporary NNI_OUTPUT_DIR is gone


def test_script_failures_and_environment(tmp_path: Path):
    failing = write_script(tmp_path, """
        import os, nni
        nni.report_intermediate_result(1)
    """)
    run = run_trial(failing, **STANDIN)
    assert run.exit_code == 1 and run.exception is None
    assert "nni.get_next_parameter() needs to be called before report_intermediate_result" in run.stderr
    with pytest.raises(TrialFailedError, match="report_intermediate_result"):
        run.check()

    environment = write_script(tmp_path, """
        import os, sys
        print(os.environ["MY_FLAG"], os.getcwd(), os.environ["NNI_TRIAL_COMMAND_CHANNEL"])
        sys.exit(4)
    """, "env.py")
    run = run_trial(environment, env={"MY_FLAG": "on"}, cwd=tmp_path, **STANDIN)
    assert run.exit_code == 4 and run.stdout.split() == ["on", str(tmp_path), CHANNEL_URL]


def test_a_script_that_never_ends_is_killed(tmp_path: Path):
    forever = write_script(tmp_path, "while True:\n    pass\n")
    run = run_trial(forever, timeout=0.5, **STANDIN)
    assert run.timed_out and run.exit_code is None and not run.succeeded
    assert "killed after 0.5 s" in run.stderr
    with pytest.raises(TrialFailedError, match="timed out"):
        run.check()


# ---------------------------------------------------------------------------------------------- the stand-in


def test_the_standin_outside_a_run_behaves_like_nnis_standalone_mode():
    nni = standin_nni()
    assert nni is standin_nni() and nni.__nni_exp_standin__ is True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert nni.get_next_parameter() == {}
    assert caught and issubclass(caught[0].category, RuntimeWarning)
    assert (nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()) == ("STANDALONE", "STANDALONE", 0)
    nni.report_intermediate_result(1.0)
    nni.report_final_result(1.0)
    with pytest.raises(AttributeError, match="only provides get_next_parameter.*real nni package"):
        nni.Experiment  # noqa: B018
    assert sorted(nni.__all__) == sorted(["get_next_parameter", "report_intermediate_result", "report_final_result",
                                          "get_experiment_id", "get_trial_id", "get_sequence_id"])


def test_the_runner_makes_import_nni_work_without_nni(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "nni", raising=False)
    monkeypatch.setattr(trial_module, "nni_is_installed", lambda: False)
    with TrialRunner(tmp_path) as runner:
        import nni  # what a trial module does at import time

        assert nni is standin_nni()
        run = runner(trial_main, {"lr": 1})
        assert run.final == 100
    assert "nni" not in sys.modules


# ---------------------------------------------------------------------------------------------- the fixture


def test_the_fixture_keeps_every_run(nni_trial, script: Path):
    first = nni_trial(trial_main, {"lr": 0.5}, use_nni=False)
    second = nni_trial(script, {"lr": 1.0}, use_nni=False)
    assert nni_trial.runs == [first, second] and nni_trial.last is second
    assert first.output_dir != second.output_dir and (second.output_dir / "model.txt").exists()
    assert first.output_dir.name == "trial_0" and second.output_dir.name == "trial_1"


def test_runner_defaults_and_errors(tmp_path: Path):
    runner = TrialRunner(tmp_path, use_nni=False, trial_id="dEfLt")
    assert runner(trial_main, {"lr": 1}).trial_id == "dEfLt"
    assert runner(trial_main, {"lr": 1}, trial_id="oTher").trial_id == "oTher"
    with pytest.raises(TypeError, match="unknown run_trial option"):
        TrialRunner(tmp_path, bogus=1)
    with pytest.raises(LookupError):
        TrialRunner().last  # noqa: B018


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("target, params, kwargs, error, message", [
    (42, None, {}, TypeError, "function or the path of a script"),
    ("no/such/trial.py", None, {}, FileNotFoundError, "trial script not found"),
    (trial_main, [1, 2], {}, TypeError, "mapping"),
    (trial_main, {"f": object()}, {}, TypeError, "JSON-serializable"),
    (trial_main, None, {"sequence_id": -1}, ValueError, "sequence_id"),
    (trial_main, None, {"sequence_id": True}, ValueError, "sequence_id"),
    (trial_main, None, {"trial_id": ""}, TypeError, "trial_id"),
    (trial_main, None, {"experiment_id": None}, TypeError, "experiment_id"),
    (trial_main, None, {"parameter_id": "0"}, TypeError, "parameter_id"),
    (trial_main, None, {"parameter_source": "tuner"}, ValueError, "parameter_source"),
    (trial_main, None, {"in_subprocess": True}, TypeError, "path of a script"),
    (trial_main, None, {"env": {"A": "1"}}, ValueError, "subprocess trials only"),
    (trial_main, None, {"env": {"A": 1}}, TypeError, "env"),
    (trial_main, None, {"timeout": 0}, ValueError, "timeout"),
    (trial_main, None, {"args": "abc"}, TypeError, "args"),
    (trial_main, None, {"use_nni": "yes"}, TypeError, "use_nni"),
    (trial_main, None, {"cwd": "/no/such/dir"}, NotADirectoryError, "cwd"),
])
def test_bad_arguments_are_rejected_clearly(target, params, kwargs, error, message):
    kwargs = {"use_nni": False, **kwargs}
    with pytest.raises(error, match=message):
        run_trial(target, params, **kwargs)


def test_use_nni_without_nni_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(trial_module, "nni_is_installed", lambda: False)
    with pytest.raises(ModuleNotFoundError, match="pip install nni"):
        run_trial(trial_main, use_nni=True)


@pytest.mark.parametrize("kwargs", [{"seconds_per_report": -1}, {"tail_seconds": float("inf")},
                                    {"args": "x"}, {"use_nni": 1}])
def test_fake_trial_adapter_rejects_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError)):
        nni_trial_as_fake_trial(trial_main, **kwargs)


# ---------------------------------------------------------------------------------------------- on the fake manager


def test_nni_trial_code_runs_as_a_fake_trial():
    fake = FakeManager(nni_trial_as_fake_trial(trial_main, seconds_per_report=5, tail_seconds=1, use_nni=False),
                       seed=2)
    config = make_config(search_space={"lr": {"_type": "uniform", "_value": [0.5, 1.0]},
                                       "epochs": {"_type": "choice", "_value": [2]}})
    with Experiment(config, backend=fake) as exp:
        assert exp.run() is True
        jobs = exp.list_trial_jobs()
        metrics = exp.get_job_metrics()
        assert [job.status for job in jobs] == ["SUCCEEDED"] * 4
        for job in jobs:
            lr = job.hyperParameters[0].parameters["lr"]
            rows = metrics[job.trialJobId]
            assert [(r.type, r.data) for r in rows] == [("PERIODICAL", lr), ("PERIODICAL", 2 * lr), ("FINAL", 100 * lr)]
            assert [r.timestamp - job.startTime for r in rows] == [5000, 10000, 16000]  # FINAL: when it ends
            assert job.endTime - job.startTime == 16000
            log = fake.handle(8080, "GET", f"/api/v1/nni/trial-file/{job.trialJobId}/trial.log").body
            assert f"hello from {job.trialJobId}" in log
        assert sorted(r.value for r in exp.export_data()) == sorted(100 * j.hyperParameters[0].parameters["lr"]
                                                                    for j in jobs)


def test_a_failing_nni_trial_fails_on_the_fake(tmp_path: Path):
    script = write_script(tmp_path, """
        import nni
        p = nni.get_next_parameter()
        nni.report_intermediate_result(p["x"])
        raise SystemExit(2)
    """)
    timings: Dict[str, Any] = {"calls": 0}

    def pause(metric: ReportedMetric) -> float:
        timings["calls"] += 1
        return 2.0

    fake = FakeManager(nni_trial_as_fake_trial(script, seconds_per_report=pause, use_nni=False), seed=1)
    with Experiment(make_config(max_trial_number=2), backend=fake) as exp:
        exp.run()
        jobs = exp.list_trial_jobs()
        assert [job.status for job in jobs] == ["FAILED", "FAILED"]
        assert all(job.endTime - job.startTime == 2000 for job in jobs) and timings["calls"] == 2
        stderr = fake.handle(8080, "GET", f"/api/v1/nni/trial-file/{jobs[0].trialJobId}/stderr").body
        assert "trial exited with code 2" in stderr
        assert exp.export_data() == []


# ---------------------------------------------------------------------------------------------- with the real nni


@pytest.fixture
def real_nni():
    nni = pytest.importorskip("nni")
    assert nni_is_installed()
    return nni


@pytest.mark.real_nni
def test_a_function_runs_with_the_real_nni(real_nni):
    import nni.runtime.trial_command_channel as channels
    import nni.trial

    before = (getattr(channels, "_channel", None), nni.trial._params, nni.trial._trial_id, nni.trial._intermediate_seq)
    run = run_trial(trial_main, {"lr": 0.5}, trial_id="rEaL1", sequence_id=4, parameter_id=9)
    assert run.succeeded, run.stderr
    assert run.intermediate == [0.5, 1.0] and run.final == 50.0 and run.stdout == "hello from rEaL1\n"
    assert {m.parameter_id for m in run.metrics} == {9} and [m.sequence for m in run.metrics] == [0, 1, 0]
    after = (getattr(channels, "_channel", None), nni.trial._params, nni.trial._trial_id, nni.trial._intermediate_seq)
    assert after == before  # NNI's per-process state is restored

    def uses_nni_ids() -> None:
        import nni

        nni.get_next_parameter()
        nni.report_final_result(nni.get_sequence_id())
        print(nni.get_experiment_id(), nni.get_current_parameter("lr"))

    run = run_trial(uses_nni_ids, {"lr": 3}, experiment_id="myexp123", sequence_id=6)
    assert run.final == 6 and run.stdout == "myexp123 3\n"
    run = run_trial(lambda: __import__("nni").report_final_result(1.0))
    assert str(run.exception) == "nni.get_next_parameter() needs to be called before report_final_result"


@pytest.mark.real_nni
def test_a_script_runs_with_the_real_nni_through_its_channel_seam(real_nni, script: Path):
    run = run_trial(script, {"lr": 0.5}, trial_id="rEaL2")
    assert run.succeeded, run.stderr
    assert run.intermediate == [0.0, 0.5, 1.0] and run.final == {"default": 5.0, "loss": 0.5}
    assert run.stdout.startswith(f"params {{'lr': 0.5}} {DEFAULT_EXPERIMENT_ID} rEaL2 0")
    assert json.dumps(run.metrics[0].value) == "0.0"


@pytest.mark.real_nni
def test_the_real_nni_as_a_fake_trial(real_nni):
    fake = FakeManager(nni_trial_as_fake_trial(trial_main, seconds_per_report=1), seed=4)
    with Experiment(make_config(max_trial_number=2,
                                search_space={"lr": {"_type": "uniform", "_value": [1, 2]}}), backend=fake) as exp:
        exp.run()
        exported = exp.export_data()
        assert len(exported) == 2 and all(r.value == 100 * r.parameter["lr"] for r in exported)
    assert DEFAULT_TRIAL_ID == "Trial"
