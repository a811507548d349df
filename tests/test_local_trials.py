"""Real trials in the fake manager (``FakeManager(real_trials=True)``, :mod:`fakes.local_trials`).

Each test runs real trial processes (short ones) and checks what NNI 3.0's local training service
does with them: environment, files, channel, exit codes, stops, and that no process outlives its
experiment (psutil).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path
from typing import Any, Dict, Iterator, List

import psutil
import pytest

from fakes import FakeManager
from fakes.local_trials import LocalTrialService, TrialChannelHub
from nni_exp import Experiment, ExperimentConfig
from nni_exp.testing.trial import nni_is_installed

PORT = 8080

NNI_STYLE_TRIAL = """
import os, sys, time, json
import nni
params = nni.get_next_parameter()
print("params", json.dumps(params, sort_keys=True))
for epoch in range(3):
    time.sleep(float(os.environ.get("EPOCH_SECONDS", "0.05")))
    nni.report_intermediate_result(params["x"] * epoch)
print("to stderr", file=sys.stderr)
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "env.json"), "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("NNI")}, f)
nni.report_final_result({"default": params["x"], "extra": 1})
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_config(tmp_path: Path, command: str, *, trials: int = 2, concurrency: int = 2,
                **extra: Any) -> ExperimentConfig:
    config = ExperimentConfig("local")
    config.trial_command = command
    config.trial_code_directory = str(tmp_path / "code")
    config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config.tuner.name = "Random"
    config.trial_concurrency = concurrency
    config.max_trial_number = trials
    config.experiment_working_directory = str(tmp_path / "experiments")
    for key, value in extra.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def fake() -> Iterator[FakeManager]:
    manager = FakeManager(real_trials=True, seed=3)
    yield manager
    manager.close()


@pytest.fixture
def python_without_nni(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python that cannot import nni: a bare venv of the base interpreter."""
    directory = tmp_path_factory.mktemp("bare-venv")
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(directory)
    python = str(directory / "bin" / "python")
    probe = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('nni') is None)"],
                           capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": ""})
    assert probe.stdout.strip() == "True"
    return python


def trial_processes(experiment_root: Path) -> List[psutil.Process]:
    """Processes that run in a trial directory of this experiment (by their NNI_OUTPUT_DIR)."""
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if str(experiment_root) in process.environ().get("NNI_OUTPUT_DIR", ""):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_trials_run_for_real_with_the_stand_in(tmp_path: Path, fake: FakeManager, python_without_nni: str) -> None:
    write(tmp_path / "code", "trial.py", NNI_STYLE_TRIAL)
    config = make_config(tmp_path, f"{python_without_nni} trial.py")
    with Experiment(config, backend=fake) as exp:
        assert exp.run(PORT) is True
        jobs = exp.list_trial_jobs()
        assert [job.status for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
        for job in jobs:
            params = job.hyperParameters[0].parameters
            assert job.finalMetricData[0].data == {"default": params["x"], "extra": 1}
            intermediate = [m for m in exp.get_job_metrics(job.trialJobId)[job.trialJobId] if m.type == "PERIODICAL"]
            assert [m.data for m in intermediate] == [params["x"] * epoch for epoch in range(3)]
            assert [m.sequence for m in intermediate] == [0, 1, 2]
            directory = Path(job.logPath)
            assert directory == tmp_path / "experiments" / exp.id / "environments" / "local-env" / "trials" / \
                job.trialJobId
            env = json.loads((directory / "env.json").read_text())
            assert env["NNI_PLATFORM"] == "local"
            assert env["NNI_TRIAL_JOB_ID"] == job.trialJobId
            assert env["NNI_EXP_ID"] == exp.id
            assert env["NNI_TRIAL_SEQ_ID"] == str(job.sequenceId)
            assert env["NNI_OUTPUT_DIR"] == env["NNI_SYS_DIR"] == str(directory)
            assert env["NNI_CODE_DIR"] == str(tmp_path / "code")
            assert env["NNI_TRIAL_COMMAND_CHANNEL"].endswith(f"/env/local-env/{job.trialJobId}")
            log = (directory / "trial.log").read_text().splitlines()
            assert "INFO (nni.runtime.trial_command_channel.v3/MainThread) Connect to trial command channel " \
                   "http://localhost:" in log[0]
            assert log[1].endswith(f"PRINT params {json.dumps(params, sort_keys=True)}")
            assert (directory / "trial.stderr").read_text() == "to stderr\n"
            assert (directory / "trial.stdout").read_text() == ""
            manager = fake.manager_at(PORT)
            assert manager.trial_file(job.trialJobId, "stderr") == ("to stderr\n", True)
            assert manager.trial_file(job.trialJobId, "stdout") == ("stdout is empty.", True)
            assert manager.trial_file(job.trialJobId, "env.json")[1] is False


@pytest.mark.skipif(not nni_is_installed(), reason="needs nni installed in this Python")
def test_trials_use_the_installed_nni(tmp_path: Path, fake: FakeManager) -> None:
    write(tmp_path / "code", "trial.py", NNI_STYLE_TRIAL + "\nprint('standin', hasattr(nni, '__nni_exp_standin__'))\n")
    config = make_config(tmp_path, f"{sys.executable} trial.py", trials=1, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        assert exp.run(PORT) is True
        (job,) = exp.list_trial_jobs()
        assert job.status == "SUCCEEDED"
        assert job.finalMetricData[0].data["default"] == job.hyperParameters[0].parameters["x"]
        log = (Path(job.logPath) / "trial.log").read_text()
        assert "PRINT standin False" in log


def test_a_real_trial_takes_as_many_virtual_seconds_as_real_ones(tmp_path: Path, fake: FakeManager) -> None:
    write(tmp_path / "code", "trial.sh", "sleep 0.6\n")
    config = make_config(tmp_path, "bash trial.sh", trials=1, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        started = time.monotonic()
        fake.advance(3600)  # blocks while the trial runs, then jumps
        real = time.monotonic() - started
        (job,) = exp.list_trial_jobs()
        assert job.status == "SUCCEEDED"
        virtual = (job.endTime - job.startTime) / 1000
        assert 0.55 <= virtual <= real + 0.05, (virtual, real)
        assert fake.clock.monotonic() >= 3600


def test_exit_codes_give_the_trial_status(tmp_path: Path, fake: FakeManager) -> None:
    write(tmp_path / "code", "trial.sh", 'if [ "$NNI_TRIAL_SEQ_ID" = 0 ]; then exit 0; else echo bad >&2; exit 3; fi\n')
    config = make_config(tmp_path, "bash trial.sh", trials=2, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        assert exp.run(PORT) is True
        statuses = {job.sequenceId: job.status for job in exp.list_trial_jobs()}
        assert statuses == {0: "SUCCEEDED", 1: "FAILED"}
        failed = next(job for job in exp.list_trial_jobs() if job.sequenceId == 1)
        assert (Path(failed.logPath) / "trial.stderr").read_text() == "bad\n"


LONG_TRIAL = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("child", child.pid, flush=True)
time.sleep(600)
"""


def still_running(processes: List[psutil.Process], timeout: float) -> List[psutil.Process]:
    """The processes still running after waiting up to ``timeout`` seconds for them to end.

    Not ``psutil.wait_procs``: it reaps this process's own children (a trial is one, on the
    in-memory fake), and the fake's training service would then never learn their exit codes.
    """
    deadline = time.monotonic() + timeout
    while True:
        running = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process)
            except psutil.NoSuchProcess:
                pass
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)


def _wait_for_trials(fake: FakeManager, exp: Experiment, count: int, root: Path) -> List[psutil.Process]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fake.advance(0.1)
        processes = trial_processes(root)
        if len([job for job in exp.list_trial_jobs() if job.status == "RUNNING"]) == count and \
                len(processes) >= 2 * count:  # the trial and its child
            return processes
    raise AssertionError(f"{count} trial(s) with a child did not start in 30 s")


def test_cancel_kills_the_trial_process_group(tmp_path: Path, fake: FakeManager) -> None:
    write(tmp_path / "code", "trial.py", LONG_TRIAL)
    config = make_config(tmp_path, f"{sys.executable} trial.py", trials=1, concurrency=1)
    root = tmp_path / "experiments"
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        processes = _wait_for_trials(fake, exp, 1, root)
        (job,) = exp.list_trial_jobs()
        exp.kill_trial_job(job.trialJobId)
        assert not still_running(processes, timeout=10)
        fake.advance(1)
        assert exp.get_trial_job(job.trialJobId).status == "USER_CANCELED"


def test_max_trial_duration_kills_the_trial(tmp_path: Path, fake: FakeManager) -> None:
    write(tmp_path / "code", "trial.py", LONG_TRIAL)
    config = make_config(tmp_path, f"{sys.executable} trial.py", trials=1, concurrency=1, max_trial_duration="2s")
    root = tmp_path / "experiments"
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        processes = _wait_for_trials(fake, exp, 1, root)
        fake.advance(5)
        assert not still_running(processes, timeout=10)
        fake.advance(1)
        (job,) = exp.list_trial_jobs()
        assert job.status == "USER_CANCELED"
        assert any("over max trial duration" in line for line in fake.manager_at(PORT).log_lines)


@pytest.mark.parametrize("stop", ["experiment.stop", "manager.close", "process.kill"])
def test_no_trial_outlives_its_manager(tmp_path: Path, stop: str) -> None:
    write(tmp_path / "code", "trial.py", LONG_TRIAL)
    config = make_config(tmp_path, f"{sys.executable} trial.py", trials=2, concurrency=2)
    root = tmp_path / "experiments"
    fake = FakeManager(real_trials=True)
    try:
        exp = Experiment(config, backend=fake)
        exp.start(PORT)
        processes = _wait_for_trials(fake, exp, 2, root)
        if stop == "experiment.stop":
            exp.stop()
        elif stop == "manager.close":
            fake.close()
        else:
            fake.manager_at(PORT).exit()  # the manager process dies
        assert not still_running(processes, timeout=10)
        assert trial_processes(root) == []
    finally:
        fake.close()


def test_a_missing_code_directory_fails_the_trial(tmp_path: Path, fake: FakeManager) -> None:
    config = make_config(tmp_path, "true", trials=1, concurrency=1)
    (tmp_path / "code").mkdir()
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        (tmp_path / "code").rmdir()  # gone after the client checked it
        fake.advance(60)
        assert exp.get_status() == "DONE"
        (job,) = exp.list_trial_jobs()
        assert job.status == "FAILED"
        assert "is not a directory" in (Path(job.logPath) / "trial.stderr").read_text()


@pytest.mark.parametrize("script,error", [
    # as NNI's trial API: a report needs the parameters first
    ("import nni\nnni.report_final_result(1.0)\n",
     "nni.get_next_parameter() needs to be called before report_final_result"),
    ("import nni\nnni.get_next_parameter()\nnni.trace\n", "nni.trace is not part of nni-exp's stand-in"),
], ids=["report-before-parameters", "missing-api"])
def test_stand_in_errors_fail_the_trial(tmp_path: Path, fake: FakeManager, python_without_nni: str,
                                        script: str, error: str) -> None:
    write(tmp_path / "code", "trial.py", script)
    config = make_config(tmp_path, f"{python_without_nni} trial.py", trials=1, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        assert exp.run(PORT) is True
        (job,) = exp.list_trial_jobs()
        assert job.status == "FAILED"
        assert error in (Path(job.logPath) / "trial.stderr").read_text()


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_real_trials_must_be_a_bool(value: Any) -> None:
    with pytest.raises(TypeError, match="real_trials must be True or False"):
        FakeManager(real_trials=value)


def test_real_trials_exclude_a_scripted_trial() -> None:
    with pytest.raises(ValueError, match="cannot be combined with a scripted trial"):
        FakeManager(lambda params, trial: 1.0, real_trials=True)


# ---------------------------------------------------------------------------------------------- the channel


def test_channel_hub_answers_as_the_manager(tmp_path: Path) -> None:
    received: List[Dict[str, Any]] = []
    hub = TrialChannelHub(lambda trial, command, when: received.append({"trial": trial, **command}),
                          poll_timeout=0.05)
    assert hub.handle("GET", "/env/local-env/abc", None) == (408, b"")
    hub.send("abc", {"type": "parameter", "parameter": "{}"})
    assert hub.handle("GET", "/env/local-env/abc", None) == (200, b'{"type": "parameter", "parameter": "{}"}')
    assert hub.handle("PUT", "/env/local-env/abc", b'{"type": "request_parameter"}') == (200, b"")
    assert received == [{"trial": "abc", "type": "request_parameter"}]
    assert hub.handle("PUT", "/env/local-env/abc", b"not json")[0] == 400
    assert hub.handle("PUT", "/env/local-env/abc", b"[1]")[0] == 400
    assert hub.handle("GET", "/env/other", None)[0] == 404
    assert hub.handle("POST", "/env/local-env/abc", None)[0] == 404
    hub.close()
    assert hub.handle("GET", "/env/local-env/abc", None) == (410, b"")
    assert hub.handle("PUT", "/env/local-env/abc", b"{}") == (410, b"")


def test_service_rejects_trials_after_close(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    service = LocalTrialService("exp", str(tmp_path / "root"), "true", str(tmp_path / "code"))
    service.close()
    from fakes.local_trials import TrialStartError

    with pytest.raises(TrialStartError, match="stopped"):
        service.start_trial("t1", 0)


def test_an_assessor_stop_kills_the_trial_group(tmp_path: Path, fake: FakeManager) -> None:
    """KILL_TRIAL_JOB from the dispatcher (an assessor's early stop) stops the process group too."""
    write(tmp_path / "code", "trial.py", LONG_TRIAL)
    config = make_config(tmp_path, f"{sys.executable} trial.py", trials=1, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        processes = _wait_for_trials(fake, exp, 1, tmp_path / "experiments")
        (job,) = exp.list_trial_jobs()
        fake.manager_at(PORT)._on_tuner_command("KI", json.dumps(job.trialJobId))
        assert not still_running(processes, timeout=10)
        fake.advance(1)
        assert exp.get_trial_job(job.trialJobId).status == "USER_CANCELED"  # as NNI 3.0's local service


def test_a_second_parameter_request_waits_for_ever(tmp_path: Path, fake: FakeManager,
                                                   python_without_nni: str) -> None:
    """The local service has no more parameters for a trial: it logs so and never answers."""
    write(tmp_path / "code", "trial.py", "import nni\nnni.get_next_parameter()\nprint('asking again', flush=True)\n"
                                         "nni.get_next_parameter()\nprint('never printed')\n")
    config = make_config(tmp_path, f"{python_without_nni} trial.py", trials=1, concurrency=1)
    with Experiment(config, backend=fake) as exp:
        exp.start(PORT)
        manager = fake.manager_at(PORT)
        deadline = time.monotonic() + 30
        while not any("No parameters available" in line for line in manager.log_lines):
            assert time.monotonic() < deadline, "the second request did not arrive"
            fake.advance(0.1)
        fake.advance(3)  # three more seconds: still waiting (the channel answers 408 every second)
        (job,) = exp.list_trial_jobs()
        assert job.status == "RUNNING"
        exp.kill_trial_job(job.trialJobId)
        fake.advance(6)
        assert exp.get_trial_job(job.trialJobId).status == "USER_CANCELED"
        assert "never printed" not in (Path(job.logPath) / "trial.log").read_text()


def test_no_trial_outlives_a_script_that_never_stops_its_fake(tmp_path: Path) -> None:
    """A script that starts real trials and exits without stopping anything leaves no trial behind
    (``Experiment`` stops its experiment at exit, as NNI's does; without that hook, as for a script
    that drives the fake over REST, the training service's own exit hook stops the trials)."""
    write(tmp_path / "code", "trial.py", LONG_TRIAL)
    script = write(tmp_path, "script.py", f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from fakes import FakeManager
        from nni_exp import Experiment, ExperimentConfig
        config = ExperimentConfig("local")
        config.trial_command = {sys.executable + " trial.py"!r}
        config.trial_code_directory = {str(tmp_path / "code")!r}
        config.search_space = {{"x": {{"_type": "uniform", "_value": [0, 1]}}}}
        config.tuner.name = "Random"
        config.trial_concurrency = 1
        config.max_trial_number = 1
        config.experiment_working_directory = {str(tmp_path / "experiments")!r}
        fake = FakeManager(real_trials=True)
        exp = Experiment(config, backend=fake)
        exp.start(8080)
        import atexit
        atexit.unregister(exp.stop)
        outputs = Path({str(tmp_path / "experiments")!r})
        while not any("child" in path.read_text() for path in outputs.glob("*/environments/*/trials/*/trial.stdout")):
            fake.advance(0.1)
        print("started", flush=True)
    """)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "started" in done.stdout, done.stderr
    left = still_running(trial_processes(tmp_path / "experiments"), timeout=10)
    for process in left:
        process.kill()
    assert not left
