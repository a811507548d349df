"""Unit tests of the pytest plugin's building blocks: faults, the in-thread fake server, the failure
report, the experiment with a reserved port, and the plugin module's import cost.

Fixture, marker and option behaviour inside real pytest runs is in ``test_pytest_plugin_pytester.py``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from typing import Any, Dict

import pytest
import requests

from fakes import FakeManager
from nni_exp import Experiment, ExperimentConfig
from nni_exp.errors import (
    ExperimentStalledError,
    InvalidResponseError,
    ManagerError,
    ManagerStartError,
    ManagerTimeoutError,
    ManagerUnreachableError,
    PortInUseError,
)
from nni_exp.testing import BoundExperiment, FakeServer, FaultPlan, InstrumentedFakeManager, describe
from nni_exp.testing.backends import trial_reference
from nni_exp.testing.faults import INITIALIZING_TEXT
from nni_exp.testing.report import describe_experiment, trial_table

from .conftest import make_config as conftest_make_config


def make_config(**overrides: Any) -> ExperimentConfig:
    """The suite's standard config, in a working directory that is never created."""
    return conftest_make_config(**{"experiment_working_directory": "/nonexistent/nni-exp-tests", **overrides})


def three_second_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(3)
    trial.report_intermediate_result(params["x"] / 2)
    return float(params["x"])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# ---------------------------------------------------------------------- FaultPlan


class TestFaultPlan:
    def test_no_faults_is_falsy(self) -> None:
        assert not FaultPlan.parse(None)
        assert not FaultPlan.parse({})
        assert FaultPlan.parse({"unreachable": True})

    def test_parses_every_fault(self) -> None:
        plan = FaultPlan.parse({"unreachable": False, "port_in_use": True, "initializing_polls": 3,
                                "tuner_error": True, "tuner_dies": 12, "crash_after": 30,
                                "fail_requests": {"get /Trial-Jobs/": 500, "* /export-data": "timeout"}})
        assert plan.port_in_use and plan.initializing_polls == 3 and plan.tuner_error == 0
        assert plan.crash_after == 30.0 and plan.tuner_dies == 12.0
        assert plan.fail_requests == (("GET", "/trial-jobs", 500), ("*", "/export-data", "timeout"))

    @pytest.mark.parametrize("faults, message", [
        ({"unreachble": True}, "unknown fault"),
        ({"unreachable": 1}, "True or False"),
        ({"initializing_polls": -1}, "int >= 0"),
        ({"tuner_error": 1.5}, "int >= 0"),
        ({"crash_after": "10s"}, "seconds"),
        ({"tuner_dies": -1}, "'tuner_dies' must be a number of seconds"),
        ({"tuner_dies": float("inf")}, "'tuner_dies' must be a number of seconds"),
        ({"fail_requests": ["GET /x"]}, "must be a dict"),
        ({"fail_requests": {"/trial-jobs": 500}}, "look like"),
        ({"fail_requests": {"GET /trial-jobs": 200}}, "HTTP status 400-599"),
        ({"fail_requests": {"GET /trial-jobs": "slow"}}, "HTTP status 400-599"),
    ])
    def test_rejects_bad_faults(self, faults: Dict[str, Any], message: str) -> None:
        with pytest.raises((TypeError, ValueError), match=message):
            FaultPlan.parse(faults)

    def test_failure_matching(self) -> None:
        plan = FaultPlan.parse({"fail_requests": {"GET /trial-jobs*": 503, "* /experiment": "unreachable"}})
        assert plan.failure_for("get", "/trial-jobs") == 503
        assert plan.failure_for("GET", "trial-jobs/abc?x=1") == 503
        assert plan.failure_for("DELETE", "/trial-jobs/abc") is None
        assert plan.failure_for("PUT", "/experiment?update_type=MAX_TRIAL_NUM") == "unreachable"
        assert plan.failure_for("GET", "/experiment-metadata") is None


# ---------------------------------------------------------------------- InstrumentedFakeManager


class TestInstrumentedFakeManager:
    def test_without_faults_it_is_the_fake(self) -> None:
        def run(backend: FakeManager) -> list:
            with Experiment(make_config(), backend=backend) as exp:
                assert exp.run(8080) is True
                return [(job.trialJobId, job.status) for job in exp.list_trial_jobs()]

        plain = run(FakeManager(three_second_trial, seed=5))
        instrumented = InstrumentedFakeManager(three_second_trial, seed=5)
        assert run(instrumented) == plain
        assert len(instrumented.spawned) == 1 and not instrumented.spawned[0].alive

    def test_unreachable(self) -> None:
        fake = InstrumentedFakeManager(faults={"unreachable": True})
        exp = Experiment(make_config(), backend=fake)
        with pytest.raises(ManagerStartError, match="did not answer"):
            exp.start(8080)
        assert fake.ports == []  # the launcher killed the process it spawned
        with pytest.raises(ManagerUnreachableError, match="injected fault"):
            fake.request("GET", 8080, "/check-status")

    def test_unreachable_over_handle_once_running(self) -> None:
        fake = InstrumentedFakeManager(faults={"unreachable": True})
        exp = Experiment(make_config(), backend=fake)
        with fake.faults_suspended():
            exp.start(8080)
        assert fake.faults_active
        with pytest.raises(ManagerUnreachableError):
            fake.handle(8080, "GET", "/api/v1/nni/check-status")
        with fake.faults_suspended():
            assert fake.request("GET", 8080, "/check-status")["status"] == "RUNNING"
            exp.stop()

    def test_port_in_use(self) -> None:
        fake = InstrumentedFakeManager(faults={"port_in_use": True})
        with pytest.raises(PortInUseError):
            Experiment(make_config(), backend=fake).start(8080)

    def test_initializing_polls(self) -> None:
        fake = InstrumentedFakeManager(faults={"initializing_polls": 3})
        exp = Experiment(make_config(), backend=fake)
        exp.start(8080)  # the launcher retries until JSON comes
        assert exp.get_status() == "RUNNING"
        exp.stop()

        other = InstrumentedFakeManager(faults={"initializing_polls": 2})
        with Experiment(make_config(), backend=other) as second:
            with other.faults_suspended():
                second.start(8080)
            answers = [other.handle(8080, "GET", "/api/v1/nni/check-status") for _ in range(3)]
        assert [(a.status, a.body) for a in answers[:2]] == [(200, INITIALIZING_TEXT)] * 2
        assert answers[2].json()["status"] == "RUNNING"

    def test_initializing_through_request_is_invalid_json(self) -> None:
        fake = InstrumentedFakeManager(faults={"initializing_polls": 1})
        with Experiment(make_config(), backend=fake) as exp:
            with fake.faults_suspended():
                exp.start(8080)
            with pytest.raises(InvalidResponseError):
                fake.request("GET", 8080, "/check-status")
            assert fake.request("GET", 8080, "/check-status")["status"] == "RUNNING"

    @pytest.mark.parametrize("after", [0, 2])
    def test_tuner_error(self, after: int) -> None:
        """As NNI 3.0 with a tuner that raises: RUNNING with no error for ever, the trials already
        started finish, no new one starts; the fake ends a wait for the end with a clear error."""
        fake = InstrumentedFakeManager(three_second_trial, seed=1, faults={"tuner_error": after or True})
        with Experiment(make_config(), backend=fake) as exp:
            with pytest.raises(ExperimentStalledError, match="InjectedTunerError: injected fault"):
                exp.run(8080)
            assert exp.get_status() == "RUNNING"
            assert fake.request("GET", 8080, "/check-status")["errors"] == []
            jobs = exp.list_trial_jobs()
            assert len(jobs) == after and {job.status for job in jobs} <= {"SUCCEEDED"}
            assert "injected fault" in fake.manager_at(8080).dispatcher_log.text

    def test_tuner_error_keeps_the_configured_tuner(self) -> None:
        grid = {"x": {"_type": "choice", "_value": [1, 2, 3]}}
        fake = InstrumentedFakeManager(three_second_trial, faults={"tuner_error": 2})
        with Experiment(make_config(search_space=grid, tuner={"name": "GridSearch"}), backend=fake) as exp:
            exp.start(8080)
            fake.advance(600)
            params = sorted(job.hyperParameters[0].parameters["x"] for job in exp.list_trial_jobs())
        assert params == [1, 2]

    def test_tuner_dies(self) -> None:
        """As NNI 3.0 when the dispatcher process is killed: ERROR 30 s after the connection dropped."""
        fake = InstrumentedFakeManager(three_second_trial, seed=1, faults={"tuner_dies": 5})
        with Experiment(make_config(max_trial_number=10, trial_concurrency=1), backend=fake) as exp:
            exp.start(8080)
            fake.advance(34.9)
            assert exp.get_status() == "RUNNING"
            fake.advance(0.2)
            assert fake.request("GET", 8080, "/check-status") == {
                "status": "ERROR", "errors": ["Dispatcher stream error, tuner may have crashed."]}
            assert [job.status for job in exp.list_trial_jobs()] == ["SUCCEEDED"]  # asked for, never answered

    def test_tuner_dies_before_it_connects(self) -> None:
        fake = InstrumentedFakeManager(three_second_trial, seed=1, faults={"tuner_dies": 1})
        with Experiment(make_config(), backend=fake) as exp:
            exp.start(8080)
            fake.advance(9.9)
            assert exp.get_status() == "RUNNING"
            fake.advance(0.2)
            assert fake.request("GET", 8080, "/check-status")["errors"] == [
                "tuner_command_channel: Tuner did not connect in 10 seconds. Please check tuner (dispatcher) log."]

    def test_crash_after(self) -> None:
        fake = InstrumentedFakeManager(three_second_trial, seed=1, faults={"crash_after": 20})
        exp = Experiment(make_config(max_trial_number=100), backend=fake)
        exp.start(8080)
        manager = fake.manager_at(8080)
        fake.advance(19)
        assert manager.alive
        fake.advance(1)
        assert not manager.alive and fake.ports == []
        assert "injected fault: manager process crashed" in manager.log_lines[-1]
        assert fake.manifest.records()[exp.id]["status"] == "STOPPED"
        with pytest.raises(ManagerUnreachableError):
            exp.get_status()
        exp.stop()  # stopping a crashed manager is fine

    def test_fail_requests(self) -> None:
        fake = InstrumentedFakeManager(faults={"fail_requests": {
            "GET /trial-jobs": 503, "GET /export-data": "timeout", "* /job-statistics": "unreachable"}})
        with Experiment(make_config(), backend=fake) as exp:
            exp.start(8080)
            with pytest.raises(ManagerError) as raised:
                exp.list_trial_jobs()
            assert raised.value.response is None or raised.value.response.status_code == 503
            assert "503" in str(raised.value)
            with pytest.raises(ManagerTimeoutError):
                exp.export_data()
            with pytest.raises(ManagerUnreachableError):
                exp.get_job_statistics()
            assert exp.get_status() == "RUNNING"
            answer = fake.handle(8080, "GET", "/api/v1/nni/trial-jobs?x=1")
            assert answer.status == 503 and "injected fault" in answer.json()["error"]


# ---------------------------------------------------------------------- FakeServer


@pytest.fixture
def server() -> Any:
    with FakeServer() as fake_server:
        yield fake_server


class TestFakeServer:
    def test_serves_the_fake_over_http(self, server: FakeServer) -> None:
        fake = InstrumentedFakeManager(three_second_trial, seed=1)
        server.serve(fake)
        experiment = server.start_experiment(make_config())
        assert server.url == f"http://127.0.0.1:{server.port}/api/v1/nni"
        assert requests.get(f"{server.url}/check-status", timeout=5).json()["status"] == "RUNNING"
        server.advance(60)
        assert requests.get(f"{server.url}/check-status", timeout=5).json()["status"] == "DONE"
        jobs = requests.get(f"{server.url}/trial-jobs", timeout=5).json()
        assert len(jobs) == 4
        profile = requests.get(f"{server.url}/experiment", timeout=5).json()
        assert profile["id"] == experiment.id
        assert [(entry.method, entry.status) for entry in server.log] == [("GET", 200)] * 4

    def test_clear_drops_state_and_keeps_the_port(self, server: FakeServer) -> None:
        port = server.port
        server.serve(InstrumentedFakeManager())
        first = server.start_experiment(make_config())
        server.clear()
        assert server.manager is None and server.experiment is None and server.log == []
        assert first.port is None  # stopped
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/check-status", timeout=5)
        server.serve(InstrumentedFakeManager())
        second = server.start_experiment(make_config())
        assert server.port == port and second.id != first.id
        assert requests.get(f"{server.url}/experiment", timeout=5).json()["id"] == second.id

    def test_faults_apply_to_http_not_to_the_launch(self, server: FakeServer) -> None:
        server.serve(InstrumentedFakeManager(faults={"unreachable": True}))
        server.start_experiment(make_config())
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/check-status", timeout=5)
        assert server.log[-1].status is None

    def test_timeout_fault_holds_the_request_until_the_client_gives_up(self, server: FakeServer) -> None:
        server.serve(InstrumentedFakeManager(faults={"fail_requests": {"GET /trial-jobs": "timeout"}}))
        server.start_experiment(make_config())
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{server.url}/trial-jobs", timeout=0.2)
        assert requests.get(f"{server.url}/check-status", timeout=5).status_code == 200

    def test_clear_releases_held_requests(self, server: FakeServer) -> None:
        server.serve(InstrumentedFakeManager(faults={"fail_requests": {"GET /trial-jobs": "timeout"}}))
        server.start_experiment(make_config())
        errors: list = []

        def client() -> None:
            try:
                requests.get(f"{server.url}/trial-jobs", timeout=30)
            except requests.RequestException as error:
                errors.append(error)

        thread = threading.Thread(target=client)
        thread.start()
        for _ in range(500):
            if server.held_requests:
                break
            threading.Event().wait(0.01)
        assert server.held_requests == 1
        server.clear()
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert errors and isinstance(errors[0], requests.ConnectionError)

    def test_close_frees_the_port_and_the_thread(self) -> None:
        server = FakeServer()
        port = server.port
        assert not port_is_free(port)
        server.serve(InstrumentedFakeManager())
        server.start_experiment(make_config())
        server.close()
        server.close()  # idempotent
        assert not server.is_running
        assert port_is_free(port)
        assert not [t for t in threading.enumerate() if t.name == f"nni-fake-server-{port}"]


# ---------------------------------------------------------------------- report


class TestReport:
    def test_trial_table(self) -> None:
        jobs = [
            {"trialJobId": "abc", "status": "SUCCEEDED",
             "hyperParameters": [json.dumps({"parameter_id": 0, "parameters": {"x": 0.5}})],
             "finalMetricData": [{"data": json.dumps(json.dumps(0.25))}]},
            {"trialJobId": "defgh", "status": "RUNNING", "hyperParameters": []},
        ]
        assert trial_table(jobs).splitlines() == [
            "trials (2):",
            "id     status     params      final metric",
            'abc    SUCCEEDED  {"x": 0.5}  0.25',
            "defgh  RUNNING    -           -",
        ]
        assert trial_table([]) == "trials: none"

    def test_describe_a_fake(self) -> None:
        fake = InstrumentedFakeManager(three_second_trial, seed=1, faults={"tuner_error": 2})
        with Experiment(make_config(), backend=fake) as exp:
            with pytest.raises(ExperimentStalledError):
                exp.run(8080)
            jobs = exp.list_trial_jobs()
        text = describe([exp, fake, fake])  # the experiment and its fake are one block
        assert text.count("fake manager (seed=1") == 1
        assert "faults: tuner_error=2" in text
        assert f"experiment {exp.id} on port 8080 [create, process exited]: status STOPPED" in text
        for job in jobs:
            x = job.hyperParameters[0].parameters["x"]
            assert re.search(rf"{job.trialJobId}  SUCCEEDED  {re.escape(json.dumps({'x': x}))} +{x}", text)
        assert "the tuner (dispatcher) stopped after an exception: InjectedTunerError: injected fault" in text
        assert "ERROR (nni.runtime.msg_dispatcher_base/Thread-1 (command_queue_worker)) injected fault" in text
        assert "manager log line(s)" in text and "dispatcher log entries" in text

    def test_describe_a_plain_fake_and_a_server(self, server: FakeServer) -> None:
        fake = FakeManager(three_second_trial, seed=1)
        server.serve(fake)
        server.start_experiment(make_config())
        text = describe([server])
        assert f"on port {server.port} [create, process running]: status RUNNING" in text

    def test_describe_an_experiment_that_is_not_running(self) -> None:
        class OtherBackend:
            name = "other"

        exp = Experiment(make_config(), backend=FakeManager())
        exp.backend = OtherBackend()  # type: ignore[assignment]
        assert describe_experiment(exp) == f"experiment {exp.id} on the other backend: not running"

    def test_describe_never_raises(self) -> None:
        class Broken(FakeManager):
            @property
            def ports(self) -> list:
                raise RuntimeError("boom")

        assert "cannot describe it (RuntimeError: boom)" in describe([Broken()])


# ---------------------------------------------------------------------- small helpers


def test_bound_experiment_defaults_to_its_port() -> None:
    fake = FakeManager(three_second_trial)
    exp = BoundExperiment(make_config(), backend=fake, default_port=12345)
    assert exp.run() is True
    assert exp.port == 12345 and fake.ports == [12345]
    exp.stop()
    assert exp.run(port=2222, wait_completion=False) is None and exp.port == 2222
    exp.stop()


def test_trial_reference() -> None:
    assert trial_reference(None) is None
    assert trial_reference("pkg.mod:fn") == "pkg.mod:fn"
    assert trial_reference(three_second_trial) == f"{__name__}:three_second_trial"
    assert trial_reference(lambda params, trial: 0) is None

    def nested(params: Any, trial: Any) -> float:
        return 0.0

    assert trial_reference(nested) is None


def test_the_plugin_module_imports_nothing_heavy() -> None:
    """Loading the plugin (as pytest does at start-up) imports neither nni, the fakes, the real
    backend nor any fixture implementation: only what ``import nni_exp`` itself imports."""
    code = (
        "import sys\n"
        "import nni_exp, pytest\n"
        "before = set(sys.modules)\n"
        "import nni_exp.pytest_plugin\n"
        "added = sorted(set(sys.modules) - before)\n"
        "print(repr(added))\n"
        "heavy = ('nni', 'nni_node', 'fakes', 'psutil', 'requests')\n"
        "print(repr(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('nni_exp.real'))))\n"
    )
    lines = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.splitlines()
    added = eval(lines[0])  # noqa: S307 - our own repr output
    heavy = eval(lines[1])  # noqa: S307
    assert heavy == []
    ours = [name for name in added if name.startswith("nni_exp")]
    assert ours == ["nni_exp.interrupts", "nni_exp.pytest_plugin", "nni_exp.testing", "nni_exp.testing.fixtures",
                    "nni_exp.testing.options", "nni_exp.testing.responses_fixture", "nni_exp.testing.trial_fixture"]
    assert not [name for name in added if not name.startswith("nni_exp")], added
