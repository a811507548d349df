"""The fake manager as an HTTP server process, launched and driven like the real NNI manager.

Every test starts ``python -m fakes.server`` with the NNI manager's command line (time scale 100,
so a 60-virtual-second trial takes 0.6 s), a throw-away ``HOME`` and a throw-away experiments
directory, talks to it over real HTTP, and stops and reaps it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import psutil
import pytest
import requests

from fakes.server import main
from nni_exp.backend import ManagerArgs
from nni_exp.launcher import manifest_record
from nni_exp.manifest_file import HOME_ENV_VAR, ManifestFile
from nni_exp.testing.backends import free_port

from .conftest import make_config

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
API = "/api/v1/nni"
CONFIG: dict[str, Any] = {
    "experimentName": "fake-server",
    "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
    "trialCommand": "python3 trial.py",
    "trialCodeDirectory": ".",
    "trialConcurrency": 2,
    "maxTrialNumber": 4,
    "tuner": {"name": "Random", "classArgs": {"seed": 1}},
    "trainingService": {"platform": "local"},
}
#: Real seconds a test waits for a status at most.
WAIT = 15.0



def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class ServerProcess:
    """One ``python -m fakes.server`` process and the paths it uses."""

    def __init__(self, tmp: Path, experiment_id: str, action: str = "create", port: Optional[int] = None,
                 trial: Optional[str] = "test_fake_server_helpers:quick_trial", extra: tuple[str, ...] = (),
                 log_level: str = "info", foreground: bool = False) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.experiments_directory = tmp / "experiments"
        self.experiment_id = experiment_id
        self.port = port or free_port()
        self.args = ManagerArgs(port=self.port, experiment_id=experiment_id, action=action, mode="local",
                                experiments_directory=str(self.experiments_directory), log_level=log_level,
                                foreground=foreground, python_interpreter=sys.executable)
        self.argv = self.args.to_argv() + ["--time-scale", "100", "--seed", "3", *extra]
        if trial is not None:
            self.argv += ["--trial", trial]
        self.home.mkdir(exist_ok=True)
        self.stdout_path = tmp / f"{action}-{self.port}.stdout"
        self.stderr_path = tmp / f"{action}-{self.port}.stderr"
        env = dict(os.environ)
        env.pop(HOME_ENV_VAR, None)
        env["HOME"] = str(self.home)
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), str(REPO_DIR), env.get("PYTHONPATH", "")])
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "fakes.server", *self.argv], stdout=out,
                                         stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=str(tmp))

    # -- HTTP
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{API}{path}"

    def get(self, path: str) -> Any:
        response = requests.get(self.url(path), timeout=10)
        assert response.status_code == 200, response.text
        return response.json() if response.text else None

    def status(self) -> str:
        return str(self.get("/check-status")["status"])

    def wait_ready(self) -> None:
        """Poll ``/check-status`` as NNI's launcher does, until it answers JSON."""
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.stderr()}")
            try:
                requests.get(self.url("/check-status"), timeout=2).json()
                return True
            except (requests.RequestException, ValueError):
                return False
        wait_for(ready, what="the server to answer")

    def wait_status(self, *statuses: str) -> str:
        return str(wait_for(lambda: self.status() in statuses and self.status(), what=f"status {statuses}"))

    # -- launcher duties
    @property
    def manifest(self) -> ManifestFile:
        return ManifestFile(self.home / "nni-experiments")

    def add_manifest_record(self) -> None:
        self.manifest.add(manifest_record(self.args, int(time.time() * 1000), self.proc.pid, "fake-server"))

    def launch(self, config: Optional[dict[str, Any]] = None) -> requests.Response:
        """What ``Experiment.start()`` does after spawning: wait, add the record, POST the config."""
        self.wait_ready()
        self.add_manifest_record()
        response = requests.post(self.url("/experiment"), json=config or CONFIG, timeout=10)
        assert response.status_code == 200, response.text
        return response

    def record(self) -> dict[str, Any]:
        return self.manifest.read()[self.experiment_id]

    def stop(self) -> int:
        """``DELETE /experiment``, then wait for the exit code."""
        response = requests.delete(self.url("/experiment"), timeout=10)
        assert response.status_code == 200 and response.text == "", response.text
        return self.proc.wait(timeout=10)

    # -- files
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def root(self) -> Path:
        return self.experiments_directory / self.experiment_id

    @property
    def database(self) -> Path:
        return self.root / "db" / "nni.sqlite"

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(str(self.database)) as connection:
            return list(connection.execute(sql, args))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def real_backend_on_fake_server(tmp_path: Path, time_scale: float) -> Any:
    """nni-exp's real backend launching ``python -m fakes.server`` (scripted quick trials) in ``tmp_path``."""
    from nni_exp.real import RealBackend

    return RealBackend(
        home=tmp_path / "home",
        manager_command=[sys.executable, "-m", "fakes.server", "--time-scale", str(time_scale),
                         "--trial", "test_fake_server_helpers:quick_trial"],
        env={"PYTHONPATH": os.pathsep.join([str(TESTS_DIR), str(REPO_DIR)])},
    )


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start server processes; every one is killed (if still running) and reaped at the end."""
    started: list[ServerProcess] = []

    def start(experiment_id: str = "fakesrv1", **kwargs: Any) -> ServerProcess:
        server = ServerProcess(tmp_path, experiment_id, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


# ---------------------------------------------------------------------------- create → DONE → stop


def test_create_run_until_done_then_delete(servers: Callable[..., ServerProcess]) -> None:
    server = servers()
    server.wait_ready()
    assert server.get("/check-status") == {"status": "INITIALIZED", "errors": []}
    server.add_manifest_record()
    response = requests.post(server.url("/experiment"), json=CONFIG, timeout=10)
    assert response.json() == {"experiment_id": "fakesrv1"}
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"

    assert server.wait_status("DONE") == "DONE"  # no requests needed for the simulation to move
    jobs = server.get("/trial-jobs")
    assert [job["status"] for job in jobs] == ["SUCCEEDED"] * 4
    assert server.get("/job-statistics") == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 4}]
    assert server.get("/experiment-metadata")["pid"] == server.proc.pid

    # Crash detection in /experiments-info: a record whose manager process is gone becomes STOPPED.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed = dict(server.record(), id="crashedx", pid=dead.pid, status="RUNNING")
    server.manifest.add(crashed)
    infos = {info["id"]: info for info in server.get("/experiments-info")}
    assert infos["crashedx"]["status"] == "STOPPED" and "port" not in infos["crashedx"]
    assert infos["fakesrv1"]["status"] == "DONE" and infos["fakesrv1"]["port"] == server.port
    version = requests.get(server.url("/version"), timeout=5)
    assert version.text == "3.0.0"  # raw text, as the real manager
    assert server.record()["status"] == "DONE"
    assert isinstance(server.record()["endTime"], int)

    # Incremental persistence: the database already has every event before the stop.
    wait_for(lambda: len(server.query("select * from TrialJobEvent")) == 8, what="8 events in the database")

    assert server.stop() == 0
    assert not port_open(server.port)
    assert server.record()["status"] == "STOPPED"
    assert server.stdout() == ""
    assert (server.root / "checkpoint").is_dir()  # as the real manager: made at the start, left empty
    log = (server.root / "log" / "nnimanager.log").read_text()
    assert "Change NNIManager status from: INITIALIZED to: RUNNING" in log
    assert "Change NNIManager status from: STOPPING to: STOPPED" in log
    assert "(NNIManager) search: " in log  # which implementation ran the search
    dispatcher_log = (server.root / "log" / "dispatcher.log").read_text()
    assert "INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher started" in dispatcher_log
    assert dispatcher_log.rstrip().endswith("INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher terminiated")
    for job in jobs:
        folder = server.root / "environments" / "local-env" / "trials" / job["trialJobId"]
        assert "PRINT x is" in (folder / "trial.log").read_text()
        assert (folder / "trial.stdout").exists() and (folder / "trial.stderr").exists()


def test_url_prefix_and_foreground_log_on_stdout(servers: Callable[..., ServerProcess]) -> None:
    server = servers(extra=("--url-prefix", "myprefix"), foreground=True)
    prefixed = f"http://127.0.0.1:{server.port}/myprefix{API}"

    def ready() -> bool:
        try:
            return requests.get(prefixed + "/check-status", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(ready, what="prefixed check-status")
    assert requests.get(server.url("/check-status"), timeout=5).status_code == 404
    server.add_manifest_record()
    assert requests.post(prefixed + "/experiment", json=CONFIG, timeout=5).status_code == 200
    wait_for(lambda: requests.get(prefixed + "/trial-jobs", timeout=5).json(), what="a trial")
    assert requests.delete(prefixed + "/experiment", timeout=5).status_code == 200
    assert server.proc.wait(timeout=10) == 0
    out = server.stdout()
    assert "(main) Fake NNI manager starting" in out
    assert "Change NNIManager status from: INITIALIZED to: RUNNING" in out


def test_connections_kept_alive_or_closed_as_asked(servers: Callable[..., ServerProcess]) -> None:
    server = servers()
    server.wait_ready()
    with requests.Session() as session:
        for _ in range(20):  # kept alive: one connection serves them all
            response = session.get(server.url("/check-status"), timeout=5)
            assert response.status_code == 200 and "close" not in response.headers.get("Connection", "")
        for _ in range(50):  # "Connection: close" is answered with it, so no pooled connection goes stale
            response = session.get(server.url("/check-status"), headers={"Connection": "close"}, timeout=5)
            assert response.status_code == 200 and response.headers["Connection"] == "close"


def test_launched_by_nni_exp_real_backend(tmp_path: Path) -> None:
    """``RealBackend(manager_command=[python, -m, fakes.server, ...])`` runs an experiment on it."""
    from nni_exp import Experiment

    config = make_config(experiment_working_directory=str(tmp_path / "experiments"))
    backend = real_backend_on_fake_server(tmp_path, time_scale=100)
    experiment = Experiment(config, backend=backend)
    experiment.start(free_port())
    try:
        wait_for(lambda: experiment.get_status() == "DONE", what="DONE")
        assert len(experiment.list_trial_jobs()) == 4
    finally:
        experiment.stop()
    assert backend.manifest_file.read()[experiment.id]["status"] == "STOPPED"


# ---------------------------------------------------------------------------- storage in NNI's schema


def test_database_in_nni_schema(servers: Callable[..., ServerProcess]) -> None:
    server = servers()
    server.launch()
    server.wait_status("DONE")
    assert server.stop() == 0

    columns = {table: [row[1] for row in server.query(f"pragma table_info({table})")]
               for table in ("TrialJobEvent", "MetricData", "ExperimentProfile")}
    assert columns == {
        "TrialJobEvent": ["timestamp", "trialJobId", "event", "data", "logPath", "sequenceId", "message",
                          "environmentId"],
        "MetricData": ["timestamp", "trialJobId", "parameterId", "type", "sequence", "data"],
        "ExperimentProfile": ["params", "id", "execDuration", "startTime", "endTime", "logDir", "nextSequenceId",
                              "revision"],
    }
    # nnictl's query (config_utils.py): params of the highest revision.
    (params,) = server.query("select params from ExperimentProfile where id=? order by revision DESC",
                             "fakesrv1")[0]
    assert json.loads(params) == CONFIG
    revisions = [row[0] for row in server.query("select revision from ExperimentProfile")]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions) >= 6
    events = server.query("select trialJobId, event, data, logPath, sequenceId, environmentId from TrialJobEvent")
    assert sorted(event for _, event, *_ in events) == ["RUNNING"] * 4 + ["SUCCEEDED"] * 4
    running = [row for row in events if row[1] == "RUNNING"]
    assert sorted(row[4] for row in running) == [0, 1, 2, 3]
    assert all(json.loads(row[2])["parameter_source"] == "algorithm" and row[5] == "local-env" for row in running)
    metrics = server.query("select trialJobId, parameterId, type, sequence, data from MetricData where type='FINAL'")
    assert len(metrics) == 4
    for trial_job_id, parameter_id, _, sequence, data in metrics:
        assert isinstance(parameter_id, str) and sequence == 0
        assert isinstance(json.loads(json.loads(data)), float)  # double-encoded, as the manager stores it
        assert trial_job_id in {row[0] for row in running}
    (end_time,) = server.query("select endTime from ExperimentProfile order by revision desc limit 1")[0]
    assert isinstance(end_time, int)


@pytest.mark.real_nni
def test_nni_reads_the_stopped_config(servers: Callable[..., ServerProcess]) -> None:
    launcher = pytest.importorskip("nni.experiment.launcher")
    server = servers()
    server.launch()
    server.wait_status("DONE")
    assert server.stop() == 0
    config = launcher.get_stopped_experiment_config_json("fakesrv1", str(server.experiments_directory))
    assert config == CONFIG


# ---------------------------------------------------------------------------- resume and view


def test_resume_in_a_new_process_continues(servers: Callable[..., ServerProcess]) -> None:
    trial = "test_fake_server_helpers:slow_trial"
    first = servers(trial=trial)
    first.launch()
    wait_for(lambda: [job["status"] for job in first.get("/trial-jobs")] == ["RUNNING", "RUNNING"],
             what="two running trials")
    profile = first.get("/experiment")
    running_ids = [job["trialJobId"] for job in first.get("/trial-jobs")]
    assert first.stop() == 0
    assert first.record()["status"] == "STOPPED"

    second = servers(action="resume", port=first.port, trial=trial)
    response = second.launch()
    assert response.text == ""  # resume answers 200 with an empty body
    assert second.status() == "RUNNING"
    assert second.record()["status"] == "RUNNING"
    jobs = second.get("/trial-jobs")
    assert [job["trialJobId"] for job in jobs] == running_ids
    assert {job["status"] for job in jobs} <= {"ADD_RESUMED", "RUNNING"}
    resumed = second.get("/experiment")
    assert resumed["startTime"] == profile["startTime"] and resumed["params"] == CONFIG

    assert second.wait_status("DONE") == "DONE"
    jobs = second.get("/trial-jobs")
    assert len(jobs) == 4 and [job["trialJobId"] for job in jobs[:2]] == running_ids
    assert {job["status"] for job in jobs} == {"SUCCEEDED"}
    assert second.stop() == 0
    assert second.record()["status"] == "STOPPED"


def test_view_is_readonly(servers: Callable[..., ServerProcess]) -> None:
    first = servers()
    first.launch()
    first.wait_status("DONE")
    jobs = first.get("/trial-jobs")
    assert first.stop() == 0

    viewer = servers(action="view", port=first.port)
    assert viewer.launch().text == ""
    assert viewer.status() == "VIEWED"
    assert viewer.get("/trial-jobs") == jobs
    profile = viewer.get("/experiment")
    update = requests.put(viewer.url("/experiment?update_type=MAX_TRIAL_NUM"), json=profile, timeout=5)
    assert update.status_code == 500
    assert update.json() == {"error": "Error: can not update experiment profile in readonly mode!"}
    cancel = requests.delete(viewer.url(f"/trial-jobs/{jobs[0]['trialJobId']}"), timeout=5)
    assert cancel.status_code == 500 and "readonly mode" in cancel.json()["error"]
    assert viewer.stop() == 0
    assert not port_open(viewer.port)


def test_resume_without_database_exits_1(servers: Callable[..., ServerProcess]) -> None:
    server = servers("nosuchxp", action="resume")
    assert server.proc.wait(timeout=10) == 1
    assert "nosuchxp" in server.stderr() and "Datastore" in server.stderr()
    assert not port_open(server.port)


# ---------------------------------------------------------------------------- signals and errors


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(servers: Callable[..., ServerProcess], signum: int) -> None:
    server = servers(trial="test_fake_server_helpers:slow_trial")
    server.launch()
    wait_for(lambda: len(server.get("/trial-jobs")) == 2, what="two trials")
    server.proc.send_signal(signum)
    assert server.proc.wait(timeout=10) == 0
    assert not port_open(server.port)
    record = server.record()
    assert record["status"] == "STOPPED" and isinstance(record["endTime"], int)
    (end_time,) = server.query("select endTime from ExperimentProfile order by revision desc limit 1")[0]
    assert end_time == record["endTime"]
    assert len(server.query("select * from TrialJobEvent where event='RUNNING'")) == 2
    assert "Shutdown complete." in (server.root / "log" / "nnimanager.log").read_text()


def test_stop_before_the_tuner_connected_keeps_stopping(servers: Callable[..., ServerProcess]) -> None:
    """As with the real manager: the shutdown cannot finish, the manifest keeps STOPPING, exit 1."""
    server = servers(extra=("--time-scale", "0.01"))  # the tuner connects after 300 real seconds
    server.launch()
    assert server.stop() == 1
    assert server.record()["status"] == "STOPPING"


def test_fatal_log_level_is_refused(servers: Callable[..., ServerProcess]) -> None:
    server = servers(log_level="fatal")
    assert server.proc.wait(timeout=10) == 1
    assert 'Argument: logLevel, Given: "fatal"' in server.stderr()
    assert server.stdout() == ""


def test_busy_port_exits_1(servers: Callable[..., ServerProcess]) -> None:
    first = servers()
    first.wait_ready()
    second = servers("otherxp1", port=first.port)
    assert second.proc.wait(timeout=10) == 1
    assert "EADDRINUSE" in second.stderr()
    assert first.status() == "INITIALIZED"


# ---------------------------------------------------------------------------- NNI's own client


@pytest.mark.real_nni
def test_nni_client_drives_the_fake_server(servers: Callable[..., ServerProcess]) -> None:
    nni_experiment = pytest.importorskip("nni.experiment")
    server = servers(trial="test_fake_server_helpers:slow_trial")
    server.launch()
    wait_for(lambda: len(server.get("/trial-jobs")) == 2, what="two trials")

    experiment = nni_experiment.Experiment.connect(server.port)
    assert experiment.id == "fakesrv1"
    assert experiment.get_status() == "RUNNING"
    jobs = experiment.list_trial_jobs()
    assert len(jobs) == 2 and {job.status for job in jobs} == {"RUNNING"}
    experiment.kill_trial_job(jobs[0].trialJobId)
    assert experiment.get_trial_job(jobs[0].trialJobId).status == "USER_CANCELED"

    wait_for(lambda: experiment.get_status() == "DONE", what="DONE")
    exported = experiment.export_data()
    assert len(exported) == 3 and all(isinstance(item.parameter["x"], float) for item in exported)
    metrics = experiment.get_job_metrics()
    assert len(metrics) == 3 and all(m[0].type == "FINAL" for m in metrics.values())

    experiment.update_max_trial_number(5)
    assert experiment.get_experiment_profile()["params"]["maxTrialNumber"] == 5
    # Raising the limit revives a DONE experiment (no trial was left queued, so none starts).
    wait_for(lambda: experiment.get_status() == "RUNNING", what="DONE -> RUNNING")
    assert "endTime" not in experiment.get_experiment_profile()
    assert server.stop() == 0


def test_search_own_and_an_unavailable_nni_search(servers: Callable[..., ServerProcess],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = servers(extra=("--search", "own"))
    server.launch()
    server.wait_status("DONE")
    assert server.stop() == 0
    assert "search: nni-exp's own samplers (tuner Random)" in (server.root / "log" / "nnimanager.log").read_text()

    from fakes.search import nni_runtime

    monkeypatch.setattr(nni_runtime, "_checked", True)
    monkeypatch.setattr(nni_runtime, "_missing", "nni is not installed")
    args = ManagerArgs(port=free_port(), experiment_id="nosearch", action="create", mode="local",
                       experiments_directory=str(server.tmp / "experiments"), log_level="info",
                       python_interpreter=sys.executable)
    out, err = io.StringIO(), io.StringIO()
    assert main(args.to_argv() + ["--search", "nni"], stdout=out, stderr=err) == 1
    assert 'search="nni" needs NNI 3.0 in this process (nni is not installed)' in err.getvalue()


# ---------------------------------------------------------------------------- real trials


def test_real_trials_talk_to_the_servers_port(servers: Callable[..., ServerProcess], tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.py").write_text(
        "import nni\np = nni.get_next_parameter()\nnni.report_intermediate_result(p['x'])\n"
        "print('hello')\nnni.report_final_result(p['x'] * 2)\n")
    server = servers(trial=None, extra=("--real-trials",))
    config = dict(CONFIG, trialCommand=f"{sys.executable} trial.py", trialCodeDirectory=str(code),
                  maxTrialNumber=2, trialConcurrency=2)
    server.launch(config)
    assert server.wait_status("DONE") == "DONE"
    jobs = server.get("/trial-jobs")
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    for job in jobs:
        x = json.loads(job["hyperParameters"][0])["parameters"]["x"]
        assert json.loads(json.loads(job["finalMetricData"][0]["data"])) == x * 2  # a JSON string, as NNI stores it
        log = (server.root / "environments" / "local-env" / "trials" / job["trialJobId"] / "trial.log").read_text()
        assert f"Connect to trial command channel http://localhost:{server.port}/env/local-env/{job['trialJobId']}" \
            in log
        assert "PRINT hello" in log
    assert server.stop() == 0


def test_real_trials_and_a_scripted_trial_exclude_each_other(servers: Callable[..., ServerProcess]) -> None:
    server = servers(extra=("--real-trials",))
    assert server.proc.wait(timeout=30) == 1
    assert "--real-trials runs the experiment's trialCommand: it cannot be combined with --trial" in server.stderr()


def test_sigterm_stops_the_real_trials(servers: Callable[..., ServerProcess], tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.py").write_text("import nni, time\nnni.get_next_parameter()\ntime.sleep(600)\n")
    server = servers(trial=None, extra=("--real-trials",))
    config = dict(CONFIG, trialCommand=f"{sys.executable} trial.py", trialCodeDirectory=str(code),
                  maxTrialNumber=2, trialConcurrency=2)
    server.launch(config)

    def trials() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if cmdline[-1:] == ["trial.py"] and process.ppid() == server.proc.pid:
                found.append(process)
        return found

    running = wait_for(lambda: len(trials()) == 2 and trials(), what="two trial processes")
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    gone, alive = psutil.wait_procs(running, timeout=10)
    assert not alive, alive
