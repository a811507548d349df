"""The pytest plugin inside real pytest runs: each run is a subprocess (``pytester.runpytest_subprocess``)
over generated test files, with the plugin loaded by its ``pytest11`` entry point only.

Covered: registration (marker, options, fixtures, header), each fixture's semantics and cleanup
(no process, port or file left), the ``nni_fake`` marker and its misuse, ``--nni-backend`` and the
``nni_backend`` ini value, pytest-xdist, skipping versus failing without ``nni``, the failure
report, and ``time.sleep`` on the fake's clock (``patch_time`` / ``nni_fake_time``).
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
import time
from pathlib import Path
from typing import Any, List

import psutil
import pytest

pytest_plugins = ["pytester"]

#: Real seconds a generated run may take at most.
RUN_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _neutral_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated runs must not inherit a CI's requirement for the real manager or a backend default,
    nor, when this suite runs under xdist, the worker's identity."""
    for name in ("NNI_EXP_REQUIRE_REAL", "NNI_EXP_BACKEND", "NNI_EXP_PATCH_TIME", "NNI_EXP_HOME", "PYTEST_ADDOPTS",
                 "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=RUN_TIMEOUT)


def processes_mentioning(path: Path) -> List[str]:
    """Command lines of live processes that mention ``path`` (managers started by a generated run)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.info["cmdline"] or [])
        except psutil.Error:
            continue
        if str(path) in cmdline:
            found.append(f"{process.pid}: {cmdline[:200]}")
    return found


def assert_no_process_left(path: Path) -> None:
    deadline = time.monotonic() + 5
    while processes_mentioning(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(path) == []


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` of 127.0.0.1 (a closed listener may leave TIME_WAIT connections)."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def records(path: Path) -> List[Any]:
    """JSON lines written by generated tests (one file per xdist worker)."""
    lines: List[Any] = []
    for file in sorted(path.glob("record-*.jsonl")):
        lines += [json.loads(line) for line in file.read_text().splitlines()]
    return lines


RECORD = '''
import json, os
def record(**values):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join({out!r}, f"record-{{worker}}.jsonl"), "a") as file:
        file.write(json.dumps(dict(worker=worker, **values)) + "\\n")
'''


def record_helper(pytester: pytest.Pytester) -> str:
    """Write ``recorder.py`` (``record(**values)`` appends a JSON line for the test process) and
    return the line that imports it."""
    pytester.makepyfile(recorder=RECORD.format(out=str(pytester.path)))
    return "from recorder import record"


# ---------------------------------------------------------------------- registration


def test_the_entry_point_registers_marker_options_fixtures_and_header(pytester: pytest.Pytester) -> None:
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.nni_fake(trial=None, seed=None, tuner=None, search=None, faults=None*"
                                  "patch_time=None)*"])
    helptext = run(pytester, "--help")
    helptext.stdout.fnmatch_lines(["*--nni-backend={fake,server,nni}*", "*--nni-require-real*",
                                   "*nni_backend (string)*", "*nni_time_scale (string)*"])
    pytester.makepyfile("def test_nothing(): pass")
    fixtures = run(pytester, "--fixtures")
    for name in ("nni_fake_manager", "nni_fake_time", "nni_experiment", "nni_config", "nni_fake_server",
                 "nni_real_manager", "nni_backend", "nni_port", "nni_backend_kind"):
        fixtures.stdout.fnmatch_lines([f"{name}*"])
    result = run(pytester)
    result.stdout.fnmatch_lines(["nni-exp: backend fake"])
    result.assert_outcomes(passed=1)


def test_strict_markers_accept_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        @pytest.mark.nni_fake(seed=1)
        def test_marked(nni_fake_manager):
            assert nni_fake_manager.seed == 1
    """)
    run(pytester, "--strict-markers").assert_outcomes(passed=1)


# ---------------------------------------------------------------------- nni_fake_manager and the marker


def test_fake_manager_is_fresh_per_test_and_configured_by_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        from fakes import FakeManager, ManagerTiming, ScaledRealClock, VirtualClock, default_trial
        from nni_exp import Experiment

        def trial(params, trial):
            trial.sleep(2)
            return 0.5

        SEEN = []

        def run_ids(fake, config):
            with Experiment(config, backend=fake) as exp:
                assert exp.run() is True
                return [job.trialJobId for job in exp.list_trial_jobs()]

        @pytest.mark.nni_fake(trial=trial, seed=4, timing=ManagerTiming(tick=1.0))
        def test_configured(nni_fake_manager, nni_config):
            assert isinstance(nni_fake_manager, FakeManager)
            assert nni_fake_manager.seed == 4 and nni_fake_manager.trial is trial
            assert nni_fake_manager.timing.tick == 1.0
            SEEN.append((nni_fake_manager, run_ids(nni_fake_manager, nni_config())))
            nni_fake_manager.advance(1)

        @pytest.mark.nni_fake(trial=trial, seed=4)
        def test_same_seed_same_experiment_fresh_manager(nni_fake_manager, nni_config):
            previous, ids = SEEN[0]
            assert nni_fake_manager is not previous
            assert previous.ports == []  # closed at teardown
            assert list(nni_fake_manager.experiments()) == [] and nni_fake_manager.clock.monotonic() == 0
            assert run_ids(nni_fake_manager, nni_config()) == ids

        def test_defaults(nni_fake_manager):
            assert nni_fake_manager.seed is None and nni_fake_manager.trial is default_trial
            assert not nni_fake_manager.faults and isinstance(nni_fake_manager.clock, VirtualClock)

        @pytest.mark.nni_fake(seed=9)
        class TestClassMarker:
            def test_inherits(self, nni_fake_manager):
                assert nni_fake_manager.seed == 9

            @pytest.mark.nni_fake(seed=10)
            def test_closest_wins(self, nni_fake_manager):
                assert nni_fake_manager.seed == 10

        @pytest.mark.nni_fake(tuner=lambda parameter_id, space, rng: {"x": 0.25} if parameter_id < 2 else None)
        def test_tuner(nni_experiment):
            assert nni_experiment.run() is True
            assert [job.hyperParameters[0].parameters for job in nni_experiment.list_trial_jobs()] == [{"x": 0.25}] * 2

        @pytest.mark.nni_fake(trial="fakes.trials:default_trial", time_scale=1000)
        def test_trial_by_name_and_real_time(nni_fake_manager):
            assert nni_fake_manager.trial is default_trial
            assert isinstance(nni_fake_manager.clock, ScaledRealClock) and nni_fake_manager.clock.scale == 1000
    """)
    run(pytester, "-v").assert_outcomes(passed=7)


def test_marker_misuse_errors_at_setup_with_a_clear_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.nni_fake(1)
        def test_positional(nni_fake_manager): pass

        @pytest.mark.nni_fake(sed=1)
        def test_unknown(nni_fake_manager): pass

        @pytest.mark.nni_fake(seed="1")
        def test_seed_type(nni_fake_manager): pass

        @pytest.mark.nni_fake(trial=3)
        def test_trial_type(nni_fake_manager): pass

        @pytest.mark.nni_fake(faults={"unreachble": True})
        def test_unknown_fault(nni_fake_manager): pass

        @pytest.mark.nni_fake(faults=["unreachable"])
        def test_faults_type(nni_fake_manager): pass

        @pytest.mark.nni_fake(search="tpe")
        def test_search_value(nni_fake_manager): pass
    """)
    result = run(pytester)
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines_random([
        "*keyword arguments only*",
        "*unknown argument(s) sed; known: trial, seed, tuner, search, faults, timing, time_scale*",
        "*seed=...) must be an int*", "*trial=...) must be a function*", "*unknown fault(s) 'unreachble'*",
        "*faults=...) must be a dict*", "*search=...) must be 'auto', 'nni' or 'own', got 'tpe'*",
    ])


def test_the_marker_chooses_who_runs_the_search(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.nni_fake(search="own", seed=1)
        def test_own(nni_experiment, nni_fake_manager):
            assert nni_experiment.run() is True
            assert nni_fake_manager.search == "own"
            assert nni_fake_manager.manager_at(nni_experiment.port).search.info.implementation == "own"
    """)
    run(pytester).assert_outcomes(passed=1)


@pytest.mark.parametrize("faults, expectation", [
    ('{"unreachable": True}', "pytest.raises(ManagerStartError)"),
    ('{"port_in_use": True}', "pytest.raises(PortInUseError)"),
    ('{"tuner_error": 1}', "contextlib.nullcontext()"),
    ('{"initializing_polls": 3}', "contextlib.nullcontext()"),
])
def test_faults_through_the_marker(pytester: pytest.Pytester, faults: str, expectation: str) -> None:
    pytester.makepyfile(f"""
        import contextlib
        import pytest
        from nni_exp.errors import ExperimentStalledError, ManagerStartError, PortInUseError

        @pytest.mark.nni_fake(faults={faults})
        def test_fault(nni_experiment, nni_fake_manager):
            assert nni_experiment.backend is nni_fake_manager
            with {expectation}:
                if {faults!r} == '{{"tuner_error": 1}}':
                    with pytest.raises(ExperimentStalledError):
                        nni_experiment.run()
                    assert nni_experiment.get_status() == "RUNNING"
                else:
                    assert nni_experiment.run() is True
    """)
    run(pytester).assert_outcomes(passed=1)


# ---------------------------------------------------------------------- nni_experiment and --nni-backend


EXPERIMENT_TEST = """
import pytest
from pathlib import Path
{record}

def quick(params, trial):
    trial.sleep(2)
    return params["x"]

@pytest.mark.nni_fake(trial=quick, seed=1)
def test_run(nni_experiment, nni_backend, nni_backend_kind, nni_port, nni_config, tmp_path_factory):
    assert nni_experiment.backend is nni_backend
    assert nni_experiment.run() is True
    assert nni_experiment.port == nni_port
    assert len(nni_experiment.list_trial_jobs()) == 4
    workdir = Path(str(nni_config().experiment_working_directory))
    assert tmp_path_factory.getbasetemp() in workdir.parents
    record(kind=nni_backend_kind, backend=type(nni_backend).__name__, port=nni_port,
           manifest=str(getattr(nni_backend, "manifest_file", None) and nni_backend.manifest_file.path))

@pytest.mark.nni_fake(trial=quick, seed=1)
def test_left_running(nni_experiment, nni_backend):
    nni_experiment.run(wait_completion=False)  # the fixture must stop it
"""


def test_experiment_fixture_on_the_fake_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(EXPERIMENT_TEST.format(record=record_helper(pytester)))
    run(pytester).assert_outcomes(passed=2)
    assert records(pytester.path) == [
        {"worker": "main", "kind": "fake", "backend": "InstrumentedFakeManager", "port": 8080, "manifest": "None"}]
    assert not (pytester.path / "nni-experiments").exists()


@pytest.mark.parametrize("how", ["option", "ini"])
def test_experiment_fixture_on_the_fake_manager_server(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(EXPERIMENT_TEST.format(record=record_helper(pytester)))
    if how == "ini":
        pytester.makeini("[pytest]\nnni_backend = server\n")
        result = run(pytester)
    else:
        result = run(pytester, "--nni-backend=server")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["nni-exp: backend server"])
    (line,) = records(pytester.path)
    assert line["kind"] == "server" and line["backend"] == "RealBackend" and line["port"] != 8080
    assert str(pytester.path) in line["manifest"]  # a home of the run's own
    assert port_is_free(line["port"])
    assert_no_process_left(pytester.path)
    assert not (pytester.path / "nni-experiments").exists()  # HOME (pytester's) untouched


def test_bad_backend_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = run(pytester, "--nni-backend=bogus")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'bogus'*"])
    pytester.makeini("[pytest]\nnni_backend = bogus\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nni_backend = 'bogus': use one of fake, server, nni*"])


def test_fake_only_marker_settings_skip_on_other_backends(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.nni_fake(faults={"unreachable": True})
        def test_faults(nni_experiment): pass

        @pytest.mark.nni_fake(trial=lambda params, trial: 1.0)
        def test_lambda(nni_experiment): pass

        @pytest.mark.nni_fake(faults={"unreachable": True})
        def test_on_the_fake_fixture_it_still_applies(nni_fake_manager):
            assert nni_fake_manager.faults.unreachable
    """)
    result = run(pytester, "--nni-backend=server", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines_random([
        "*nni_fake(faults=...) needs the in-memory fake; --nni-backend=server cannot apply it*",
        "*needs a module-level function or a 'module:function' string*",
    ])


# ---------------------------------------------------------------------- nni_fake_server


def test_fake_server_keeps_its_port_and_clears_state_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(f"""
        import pytest, requests
        {record_helper(pytester)}
        from nni_exp.errors import ManagerUnreachableError

        SEEN = []

        def test_first(nni_fake_server, nni_fake_manager):
            assert nni_fake_server.manager is nni_fake_manager
            assert requests.get(nni_fake_server.url + "/check-status").json()["status"] == "RUNNING"
            nni_fake_server.advance(300)
            assert requests.get(nni_fake_server.url + "/check-status").json()["status"] == "DONE"
            SEEN.append((nni_fake_server.port, nni_fake_server.experiment.id, nni_fake_manager))

        def test_second(nni_fake_server):
            port, experiment_id, previous = SEEN[0]
            assert nni_fake_server.port == port
            assert nni_fake_server.log == []
            assert nni_fake_server.experiment.id != experiment_id
            assert previous.ports == []
            profile = requests.get(nni_fake_server.url + "/experiment").json()
            assert profile["id"] == nni_fake_server.experiment.id and profile["execDuration"] == 0
            record(port=port)

        @pytest.mark.nni_fake(faults={{"unreachable": True}})
        def test_faults_reach_http_clients(nni_fake_server):
            with pytest.raises(requests.ConnectionError):
                requests.get(nni_fake_server.url + "/check-status")

        @pytest.mark.nni_fake(time_scale=10000)
        def test_real_time_clock_for_sleeping_clients(nni_fake_server):
            import time
            deadline = time.monotonic() + 10
            while requests.get(nni_fake_server.url + "/check-status").json()["status"] != "DONE":
                assert time.monotonic() < deadline
                time.sleep(0.01)
    """)
    run(pytester).assert_outcomes(passed=4)
    (line,) = records(pytester.path)
    assert port_is_free(line["port"])  # the listener is closed at the end of the session


# ---------------------------------------------------------------------- xdist


def test_xdist_workers_get_their_own_ports_and_homes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(f"""
        import pytest, requests
        {record_helper(pytester)}

        def quick(params, trial):
            trial.sleep(2)
            return params["x"]

        @pytest.mark.parametrize("n", range(6))
        @pytest.mark.nni_fake(trial=quick, seed=1)
        def test_both(n, nni_fake_server, nni_experiment, nni_port, tmp_path_factory):
            assert requests.get(nni_fake_server.url + "/check-status").json()["status"] == "RUNNING"
            assert nni_experiment.run() is True
            record(server_port=nni_fake_server.port, port=nni_port, kind=nni_experiment.backend.name,
                   manifest=str(getattr(nni_experiment.backend, "manifest_file", None)
                                and nni_experiment.backend.manifest_file.path),
                   basetemp=str(tmp_path_factory.getbasetemp()))
    """)
    for args in ((), ("--nni-backend=server",)):
        for file in pytester.path.glob("record-*.jsonl"):
            file.unlink()
        result = run(pytester, "-n", "2", "-p", "no:randomly", *args)
        result.assert_outcomes(passed=6)
        lines = records(pytester.path)
        workers = {line["worker"] for line in lines}
        assert workers == {"gw0", "gw1"}
        server_ports = {worker: {line["server_port"] for line in lines if line["worker"] == worker}
                        for worker in workers}
        assert all(len(ports) == 1 for ports in server_ports.values())  # one listener per worker
        assert server_ports["gw0"] != server_ports["gw1"]
        assert len({line["basetemp"] for line in lines}) == 2
        if args:
            assert len({line["port"] for line in lines}) == 6
            assert len({line["manifest"] for line in lines}) == 6
        assert_no_process_left(pytester.path)


# ---------------------------------------------------------------------- time.sleep on the fake's clock

NNI_STYLE_TESTS = """
import time
import pytest

REAL_SLEEP, REAL_TIME = time.sleep, time.time  # before any fixture ran


def nni_style(exp):
    \"\"\"What a test written for NNI's client does; returns what time.time() says elapsed.\"\"\"
    exp.start()
    began, began_real = time.time(), time.perf_counter()
    time.sleep(30)
    jobs = exp.list_trial_jobs()
    assert jobs, "no trial after time.sleep(30)"
    assert {job.status for job in jobs} == {"SUCCEEDED"}
    assert set(exp.get_job_metrics()) == {job.trialJobId for job in jobs}
    assert time.perf_counter() - began_real < 5, "time.sleep(30) really waited"
    return time.time() - began


@pytest.mark.nni_fake(patch_time="all", seed=1)
def test_all(nni_experiment, nni_fake_time):
    assert nni_fake_time.mode == "all"
    assert nni_style(nni_experiment) == pytest.approx(30)


@pytest.mark.nni_fake(patch_time="sleep", seed=1)
def test_sleep_only(nni_experiment):
    assert nni_style(nni_experiment) < 5  # time.time is real: 30 seconds did not really pass


def test_the_fixture(nni_experiment, nni_fake_time):
    assert nni_fake_time.mode == "sleep" and nni_fake_time.clock is nni_experiment.backend.clock
    nni_style(nni_experiment)


def test_without_the_opt_in(nni_experiment, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # stands for 30 real seconds, without waiting them
    nni_style(nni_experiment)


def test_time_is_real_again_after_those_tests():
    assert time.sleep is REAL_SLEEP and time.time is REAL_TIME
"""


def test_patch_time_lets_an_nni_style_test_see_its_trials_at_once(pytester: pytest.Pytester) -> None:
    """With the opt-in, ``exp.start(); time.sleep(30)`` sees finished trials and metrics, instantly
    (``time.time()`` moving by 30 under ``"all"``); without it the same test sees no trial at all."""
    pytester.makepyfile(test_nni_style=NNI_STYLE_TESTS)
    for args in (("-p", "no:randomly"), ("-n", "2")):
        result = run(pytester, "-rA", *args)
        result.assert_outcomes(passed=4, failed=1)
        result.stdout.fnmatch_lines_random([
            "PASSED test_nni_style.py::test_all", "PASSED test_nni_style.py::test_sleep_only",
            "PASSED test_nni_style.py::test_the_fixture", "PASSED test_nni_style.py::test_time_is_real_again_after*",
            "FAILED test_nni_style.py::test_without_the_opt_in - AssertionError*",
            "E       AssertionError: no trial after time.sleep(30)",
        ])


def test_patch_time_misuse_errors_at_setup_and_real_time_backends_ignore_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import time
        import pytest

        @pytest.mark.nni_fake(patch_time="freeze")
        def test_unknown(nni_fake_manager): pass

        @pytest.mark.nni_fake(patch_time=True)
        def test_not_a_string(nni_fake_manager): pass

        @pytest.mark.nni_fake(patch_time="sleep", time_scale=10)
        def test_with_time_scale(nni_fake_manager): pass

        @pytest.mark.nni_fake(time_scale=10)
        def test_fixture_with_time_scale(nni_fake_time): pass
    """)
    result = run(pytester)
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines_random([
        "*patch_time=...) must be 'sleep' or 'all' (or None), got 'freeze'*",
        "*patch_time=...) must be 'sleep' or 'all' (or None), got True*",
        "*patch_time='sleep' needs the fake's virtual clock, time_scale=10 makes it follow real time*",
        "*patch_time() needs a VirtualClock; a ScaledRealClock follows real time*",
    ])
    pytester.makepyfile(test_server="""
        import time
        import pytest

        REAL_SLEEP = time.sleep

        def test_real_time_backend(nni_fake_time, nni_backend_kind):
            assert nni_backend_kind == "server" and nni_fake_time is None and time.sleep is REAL_SLEEP

        @pytest.mark.nni_fake(patch_time="all")
        def test_the_in_memory_fake_is_still_patched(nni_fake_manager, nni_fake_time):
            assert nni_fake_time is nni_fake_manager.time_patch and nni_fake_time.mode == "all"
            time.sleep(12)
            assert nni_fake_manager.clock.monotonic() == 12
    """)
    run(pytester, "test_server.py", "--nni-backend=server").assert_outcomes(passed=2)


# ---------------------------------------------------------------------- the real manager, missing


NNI_MISSING_CONFTEST = """
import sys
sys.modules["nni"] = None  # "import nni" now raises ImportError, as where nni is not installed
"""

NEEDS_REAL = """
def test_real(nni_real_manager):
    pass

def test_experiment(nni_experiment):
    pass
"""


def test_real_manager_skips_without_nni(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(NNI_MISSING_CONFTEST)
    pytester.makepyfile(NEEDS_REAL)
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*nni_real_manager: the real NNI manager is not available: *"
                                 "pip install 'nni-exp?nni?' (nni==3.0)*"])
    result = run(pytester, "-rs", "--nni-backend=nni")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*--nni-backend=nni: the real NNI manager is not available*"])


@pytest.mark.parametrize("how", ["option", "env"])
def test_real_manager_fails_without_nni_when_required(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                      how: str) -> None:
    pytester.makeconftest(NNI_MISSING_CONFTEST)
    pytester.makepyfile(NEEDS_REAL)
    args = ["--nni-backend=nni"]
    if how == "option":
        args.append("--nni-require-real")
    else:
        monkeypatch.setenv("NNI_EXP_REQUIRE_REAL", "1")
    result = run(pytester, *args)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*nni-exp: backend nni, real manager required*"])
    result.stdout.fnmatch_lines_random([
        "*nni_real_manager: the real NNI manager is not available*the run requires the real manager*",
        "*--nni-backend=nni: the real NNI manager is not available*the run requires the real manager*",
    ])


# ---------------------------------------------------------------------- the failure report


def test_failure_report_shows_status_trials_and_log(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest, requests

        def quick(params, trial):
            trial.sleep(2)
            return params["x"]

        @pytest.mark.nni_fake(trial=quick, seed=1)
        def test_experiment_fails(nni_experiment):
            nni_experiment.run()
            assert len(nni_experiment.list_trial_jobs()) == 5

        @pytest.mark.nni_fake(seed=1, faults={"tuner_error": 1})
        def test_driver_fails(nni_fake_manager, nni_config):
            from nni_exp import Experiment
            with Experiment(nni_config(), backend=nni_fake_manager) as exp:
                exp.run()
            assert False, "the driver gave up"

        def test_server_fails(nni_fake_server):
            requests.get(nni_fake_server.url + "/trial-jobs")
            assert False

        def test_passes(nni_experiment):
            nni_experiment.run()

        def test_fails_without_nni_fixtures():
            assert False
    """)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=4)
    text = result.stdout.str()
    sections = text.split("- nni-exp: experiment state -")
    assert len(sections) == 4  # three failures with nni fixtures, none for the others
    first, second, third = sections[1], sections[2], sections[3]
    assert "fake manager (seed=1, virtual clock at" in first
    assert "[create, process running]: status DONE" in first
    assert "trials (4):" in first and "SUCCEEDED" in first and '{"x": 0.' in first
    assert "search: NNI's own dispatcher" in first or "search: nni-exp's own samplers" in first
    assert "last 6 manager log line(s):" in first
    assert "[t=0s] INFO (NNIManager) Change NNIManager status from: INITIALIZED to: RUNNING" in first
    assert "INFO (NNIManager) Experiment done." in first
    assert "faults: tuner_error=1" in second and "status STOPPED" in second and "(errors:" not in second
    assert "process exited" in second and "trials (2):" in second  # the first request asked for two
    assert "the tuner (dispatcher) stopped after an exception: InjectedTunerError: injected fault" in second
    assert "status RUNNING" in third
    assert "nni-exp: experiment state" not in text.split("_ test_fails_without_nni_fixtures _")[1]


def test_failure_report_on_the_server_backend(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from nni_exp import Experiment

        def test_experiment_fails(nni_experiment):
            nni_experiment.run()
            assert nni_experiment.get_status() == "ERROR"

        def test_own_experiment_fails(nni_backend, nni_config, nni_port):
            with Experiment(nni_config(max_trial_number=1), backend=nni_backend) as exp:
                exp.run(nni_port)
            assert False
    """)
    result = run(pytester, "--nni-backend=server")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    first, second = text.split("- nni-exp: experiment state -")[1:3]
    assert "on the nni backend, port" in first and ": status DONE" in first and "trials (4):" in first
    assert "nnimanager.log):" in first and "INFO (NNIManager)" in first
    assert "in the manifest of" in second and "status STOPPED" in second and "nnimanager.log):" in second
    assert_no_process_left(pytester.path)


def test_a_broken_report_does_not_hide_the_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_fails(nni_fake_manager):
            type(nni_fake_manager).ports = property(lambda self: 1 / 0)
            assert False, "the real failure"
    """)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the real failure*", "*cannot describe it (ZeroDivisionError: division by zero)*"])


def test_generated_helpers_are_valid_python() -> None:
    compile(textwrap.dedent(RECORD.format(out="/tmp")), "<record>", "exec")


# ---------------------------------------------------------------------- Ctrl-C

CTRL_C_CONFTEST = '''
import json
import os

import pytest

from fakes import FakeManager
from fakes.clock import ScaledRealClock
from nni_exp import Experiment, ExperimentConfig


def long_trial(params, trial):
    trial.sleep(60)
    return 1.0


FAKE = FakeManager(long_trial, seed=1, clock=ScaledRealClock(1.0))
STARTED = []


@pytest.fixture(scope="session")
def finished_experiment():
    config = ExperimentConfig("local")
    config.trial_command = "python3 trial.py"
    config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config.tuner.name = "Random"
    config.trial_concurrency = 1
    experiment = Experiment(config, backend=FAKE)
    STARTED.append(experiment.id)
    open("started", "w").close()
    assert experiment.run(8080)
    return experiment


def pytest_sessionfinish(session, exitstatus):
    records = FAKE.manifest.records()
    with open("after.json", "w") as out:
        json.dump({"statuses": [records[i]["status"] for i in STARTED], "ports": FAKE.ports,
                   "exitstatus": int(exitstatus)}, out)
'''


def test_ctrl_c_during_run_in_a_session_fixture_interrupts_the_session(pytester: pytest.Pytester) -> None:
    """Ctrl-C stops the experiment, then ends the session as interrupted (exit 2), not as a failed assert."""
    import signal
    import subprocess
    import sys

    pytester.makeconftest(CTRL_C_CONFTEST)
    pytester.makepyfile(test_ctrl_c="def test_one(finished_experiment):\n    pass\n\n"
                                    "def test_two():\n    pass\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "NNI_EXP_"))}
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
                               cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not (pytester.path / "started").exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0]
            time.sleep(0.05)
        time.sleep(0.5)  # inside run(), waiting on the fake's real-time clock
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=RUN_TIMEOUT)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output and "AssertionError" not in output, output
    after = json.loads((pytester.path / "after.json").read_text())
    assert after == {"statuses": ["STOPPED"], "ports": [], "exitstatus": int(pytest.ExitCode.INTERRUPTED)}
