"""In-process parts of the fake manager server: its command line (:mod:`fakes.cli_args`), :func:`fakes.server.main`
error paths and the SQLite storage (:mod:`fakes.sqlite_storage`) with an in-memory fake manager."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any, Optional

import pytest

from fakes import FakeManager
from fakes.cli_args import CommandLineError, load_trial_function, parse_args
from fakes.server import main
from fakes.sqlite_storage import SqliteStorage, database_path, trials_directory
from fakes.store import ExperimentStore
from nni_exp.backend import ManagerArgs, RunMode
from nni_exp.launcher import manifest_record

CONFIG: dict[str, Any] = {
    "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
    "trialCommand": "python3 trial.py",
    "trialConcurrency": 2,
    "maxTrialNumber": 4,
    "tuner": {"name": "Random"},
    "trainingService": {"platform": "local"},
}


def argv(**overrides: Optional[str]) -> list[str]:
    values: dict[str, Optional[str]] = {
        "port": "8080", "experiment-id": "abc", "action": "create", "mode": "local",
        "experiments-directory": "/tmp/nni-exp-fake-server-tests", "log-level": "info", "foreground": "false",
        "python-interpreter": "/usr/bin/python3",
    }
    values.update(overrides)
    result: list[str] = []
    for key, value in values.items():
        if value is not None:
            result += [f"--{key}", value]
    return result


# ---------------------------------------------------------------------------- command line


def test_manager_args_round_trip() -> None:
    args = ManagerArgs(port=8081, experiment_id="xyz", action="resume", mode="remote",
                       experiments_directory="/abs/dir", log_level="trace", foreground=True, url_prefix="pre/fix",
                       tuner_command_channel="ws://localhost:8081/pre/fix/tuner", python_interpreter="/py")
    parsed = parse_args(args.to_argv() + ["--trial", "m:f", "--seed", "5", "--time-scale", "2.5"])
    assert parsed.manager == args
    assert (parsed.trial, parsed.seed, parsed.time_scale, parsed.host) == ("m:f", 5, 2.5, "127.0.0.1")
    assert parsed.search == "auto" and parse_args(args.to_argv() + ["--search", "own"]).search == "own"


def test_defaults_and_spellings() -> None:
    parsed = parse_args(argv(mode=None, foreground=None) + ["--experimentId=other"])
    assert parsed.manager.mode == "" and parsed.manager.foreground is False
    assert parsed.manager.experiment_id == "other"
    assert parsed.time_scale == 1.0 and parsed.seed is None and parsed.trial is None
    assert parse_args(argv(foreground=None) + ["--foreground"]).manager.foreground is True


@pytest.mark.parametrize("overrides, extra, message", [
    ({"log-level": "fatal"}, [], 'Argument: logLevel, Given: "fatal"'),
    ({"action": "start"}, [], 'Argument: action, Given: "start"'),
    ({"port": None}, [], "Missing required argument: port"),
    ({"python-interpreter": None, "log-level": None}, [], "Missing required arguments: logLevel, pythonInterpreter"),
    ({"port": "eighty"}, [], "--port is not a number"),
    ({"experiments-directory": "relative/dir"}, [], "is not absolute"),
    ({"url-prefix": "/pre"}, [], "is not stripped"),
    ({"foreground": "maybe"}, [], "--foreground must be true or false"),
    ({}, ["--bogus", "1"], "Unknown arguments: bogus"),
    ({}, ["--time-scale", "0"], "--time-scale must be a positive number"),
    ({}, ["--seed", "x"], "--seed must be an integer"),
    ({}, ["--trial", "no_colon"], "--trial must be module:function"),
    ({}, ["--search", "tpe"], 'Argument: search, Given: "tpe", Choices: "auto", "nni", "own"'),
])
def test_invalid_command_lines(overrides: dict[str, Optional[str]], extra: list[str], message: str) -> None:
    with pytest.raises(CommandLineError, match=None) as caught:
        parse_args(argv(**overrides) + extra)
    assert message in str(caught.value)
    err = io.StringIO()
    out = io.StringIO()
    assert main(argv(**overrides) + extra, stdout=out, stderr=err) == 1
    assert message in err.getvalue() and out.getvalue() == ""


def test_help_exits_0() -> None:
    out = io.StringIO()
    assert main(["--help"], stdout=out) == 0
    assert "--experiments-directory" in out.getvalue() and "--time-scale" in out.getvalue()


def test_load_trial_function() -> None:
    assert load_trial_function(None) is None
    assert load_trial_function("fakes.trials:default_trial").__name__ == "default_trial"  # type: ignore[union-attr]
    with pytest.raises(CommandLineError, match="cannot import module"):
        load_trial_function("no_such_module_xyz:f")
    with pytest.raises(CommandLineError, match="no attribute"):
        load_trial_function("fakes.trials:nope")
    with pytest.raises(CommandLineError, match="not callable"):
        load_trial_function("fakes.trials:DEFAULT_TRIAL_DURATION")


def test_main_with_a_bad_trial_exits_1_before_listening(tmp_path: Path) -> None:
    err = io.StringIO()
    code = main(argv(**{"experiments-directory": str(tmp_path), "port": "1"}) + ["--trial", "fakes.trials:nope"],
                stdout=io.StringIO(), stderr=err)
    assert code == 1 and "no attribute 'nope'" in err.getvalue()
    assert "Failed to start" in (tmp_path / "abc" / "log" / "nnimanager.log").read_text()


# ---------------------------------------------------------------------------- SQLite storage


def trial(params: dict[str, Any], context: Any) -> float:
    context.sleep(2)
    context.report_intermediate_result(0.5)
    context.sleep(2)
    context.log("hello")
    return float(params["x"])


def run_experiment(fake: FakeManager, directory: Path, action: str = "create", seconds: float = 60,
                   experiment_id: str = "sqlitexp") -> Any:
    args = ManagerArgs(port=9000, experiment_id=experiment_id, action=action, mode="local",
                       experiments_directory=str(directory), log_level="info")
    process = fake.spawn_manager(args, RunMode.Background)
    assert process.is_alive(), process.log_tail()
    fake.manifest.add(manifest_record(args, 0, process.pid, None))
    fake.request("POST", 9000, "/experiment", CONFIG)
    fake.advance(seconds)
    return process


def snapshot(fake: FakeManager) -> dict[str, Any]:
    return {path: fake.request("GET", 9000, path) for path in (
        "/trial-jobs", "/metric-data", "/export-data", "/job-statistics", "/experiment/imported-data")}


def test_snapshot_save_and_load_in_a_new_fake(tmp_path: Path) -> None:
    """A store the storage never saw change (created in memory) is written whole at exit."""
    fake = FakeManager(trial, seed=1, storage=SqliteStorage())
    run_experiment(fake, tmp_path, seconds=5)
    fake.request("POST", 9000, "/experiment/import-data", [{"parameter": {"x": 0.5}, "value": 1.0}])
    fake.advance(60)
    before = snapshot(fake)
    profile = fake.request("GET", 9000, "/experiment")
    assert fake.request("GET", 9000, "/check-status")["status"] == "DONE"
    fake.request("DELETE", 9000, "/experiment")
    assert database_path("sqlitexp", tmp_path).is_file()

    store = SqliteStorage().load("sqlitexp", str(tmp_path))
    assert store is not None and store.stored_profile is not None
    assert store.stored_profile["revision"] == profile["revision"] + 1  # stored again at stop
    assert store.stored_profile["params"] == CONFIG

    viewer = FakeManager(trial, seed=2, storage=SqliteStorage())
    run_experiment(viewer, tmp_path, action="view", seconds=1)
    assert viewer.request("GET", 9000, "/check-status")["status"] == "VIEWED"
    assert snapshot(viewer) == before
    trial_job_id = before["/trial-jobs"][0]["trialJobId"]
    answer = viewer.handle(9000, "GET", f"/api/v1/nni/trial-file/{trial_job_id}/trial.log")
    assert answer.status == 200 and "PRINT hello" in answer.body


def test_incremental_log_and_snapshot_replay_alike(tmp_path: Path) -> None:
    """The incremental rows (attach) and the reconstruction (save of an unknown store) load to the
    same trials, metrics and profile."""
    incremental = SqliteStorage()
    fake = FakeManager(trial, seed=4, storage=incremental)
    args = ManagerArgs(port=9000, experiment_id="incr", action="create", mode="local",
                       experiments_directory=str(tmp_path / "a"), log_level="info")
    process = fake.spawn_manager(args, RunMode.Background)
    assert process.manager is not None
    incremental.attach(process.manager.store, str(tmp_path / "a"))
    assert database_path("incr", tmp_path / "a").is_file()  # created at start-up, as the real manager does
    fake.manifest.add(manifest_record(args, 0, process.pid, None))
    fake.request("POST", 9000, "/experiment", CONFIG)
    fake.advance(4)  # the tuner connects after 3 virtual seconds
    running = fake.request("GET", 9000, "/trial-jobs")
    fake.request("DELETE", 9000, f"/trial-jobs/{running[0]['trialJobId']}")
    fake.advance(5)
    incremental.flush()
    with sqlite3.connect(str(database_path("incr", tmp_path / "a"))) as connection:
        events = [row[0] for row in connection.execute("select event from TrialJobEvent")]
    assert "USER_TO_CANCEL" in events and events.count("RUNNING") >= 2
    fake.advance(60)
    store = process.manager.store
    SqliteStorage().save(store, str(tmp_path / "b"))  # never attached: a reconstruction
    fake.request("DELETE", 9000, "/experiment")

    def loaded(directory: Path) -> ExperimentStore:
        result = SqliteStorage().load("incr", str(directory))
        assert result is not None
        return result

    a, b = loaded(tmp_path / "a"), loaded(tmp_path / "b")
    assert a.trials() == b.trials() == store.trials()
    assert a.metric_rows() == b.metric_rows() == store.metric_rows()
    assert a.export_data() == b.export_data() == store.export_data()
    assert a.stored_profile is not None and b.stored_profile is not None
    assert a.stored_profile["params"] == CONFIG
    assert json.loads(json.dumps(b.stored_profile["params"])) == CONFIG


def test_load_missing_and_corrupt_databases(tmp_path: Path) -> None:
    storage = SqliteStorage()
    assert storage.load("nothing", str(tmp_path)) is None
    path = database_path("broken", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        storage.load("broken", str(tmp_path))


def test_resume_in_a_new_fake_reads_the_disk(tmp_path: Path) -> None:
    def long_trial(params: dict[str, Any], context: Any) -> float:
        context.sleep(100)
        return float(params["x"])

    fake = FakeManager(long_trial, seed=5, storage=SqliteStorage())
    run_experiment(fake, tmp_path, seconds=10)
    ids = [job["trialJobId"] for job in fake.request("GET", 9000, "/trial-jobs")]
    assert len(ids) == 2
    fake.request("DELETE", 9000, "/experiment")
    assert trials_directory("sqlitexp", tmp_path).joinpath(ids[0], "trial.log").is_file()

    resumed = FakeManager(long_trial, seed=6, storage=SqliteStorage())
    run_experiment(resumed, tmp_path, action="resume", seconds=1)
    assert [job["status"] for job in resumed.request("GET", 9000, "/trial-jobs")] == ["ADD_RESUMED"] * 2
    resumed.advance(400)
    jobs = resumed.request("GET", 9000, "/trial-jobs")
    assert [job["trialJobId"] for job in jobs[:2]] == ids and len(jobs) == 4
    assert resumed.request("GET", 9000, "/check-status")["status"] == "DONE"
