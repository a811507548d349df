"""The scenarios, each written once: a driver that performs steps on a :class:`Session`.

Drivers only *do* things and name the steps whose results matter; the assertions live in the test
modules (``test_*.py`` of this package), and the transcripts of the real manager record every step.
Timeouts are scenario seconds (virtual on the fakes); trial behaviours come from
:mod:`tests.scenarios.behaviours`.

Budget on the real manager (2 CPUs): trials of 3 s (the first ~2 s of which import ``nni``),
2-4 trials, concurrency 1-2; each scenario is one or two experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from . import conditions as c
from .behaviours import CUSTOM_TUNERS, FAIL_FIRST_DICT, LONG, PACED, SLOW, STEADY, TrialBehaviour
from .session import Config, Profile, Session
from .targets import CODE_PLACEHOLDER, SEARCH_SPACE, SEED, TargetKind

__all__ = ["Scenario", "SCENARIOS", "run_scenario", "NEW_SPACE", "GRID_SPACE", "TPE_ARGS", "EVOLUTION_SPACE",
           "MEDIANSTOP_XS", "HYPERBAND_ARGS"]

#: The search space set by the SEARCH_SPACE update: x in [10, 20].
NEW_SPACE = {"x": {"_type": "uniform", "_value": [10, 20]}}
#: Three grid points.
GRID_SPACE = {"x": {"_type": "choice", "_value": [1, 2, 3]}}
#: Real seconds to wait for an answer the real manager never sends.
NO_ANSWER = 1.5
#: The same, for requests that must be over before the real dispatcher connects (~2 s after start).
EARLY_NO_ANSWER = 0.6


@dataclass(frozen=True)
class Scenario:
    """A named driver, the trial behaviour of its machine and the fake server's time scale.

    ``exact``: the run is compared value for value (parameters, metrics, parameter ids), see
    :class:`tests.scenarios.normalize.Normalizer`. ``nni_search``: the scenario is about NNI's own
    algorithms; the fakes run it only where ``nni`` can be imported (elsewhere they approximate them).
    """

    name: str
    behaviour: TrialBehaviour
    driver: Callable[[Session], None]
    time_scale: float = 20.0
    exact: bool = False
    nni_search: bool = False
    real_trials: bool = False

    @property
    def doc(self) -> str:
        """The driver's docstring."""
        return (self.driver.__doc__ or "").strip()


SCENARIOS: Dict[str, Scenario] = {}


def scenario(behaviour: TrialBehaviour, time_scale: float = 20.0, *, exact: bool = False,
             nni_search: bool = False,
             real_trials: bool = False) -> Callable[[Callable[[Session], None]], Callable[[Session], None]]:
    """Register a driver (named after its function) with its trial behaviour. ``real_trials``: the
    fakes run the behaviour's ``trial.py`` for real too (``FakeManager(real_trials=True)``)."""

    def register(driver: Callable[[Session], None]) -> Callable[[Session], None]:
        SCENARIOS[driver.__name__] = Scenario(driver.__name__, behaviour, driver, time_scale, exact, nni_search,
                                              real_trials)
        return driver

    return register


def run_scenario(kind: TargetKind, name: str) -> Session:
    """Run scenario ``name`` on a fresh machine of ``kind``; the session holds every step.

    Everything the run started is stopped (and killed if need be) before this returns, also when the
    driver fails.
    """
    spec = SCENARIOS[name]
    session = Session(kind, name, spec.behaviour, spec.time_scale, exact=spec.exact, real_trials=spec.real_trials)
    try:
        spec.driver(session)
    finally:
        session.close()
    return session


# ---------------------------------------------------------------------- scenarios


@scenario(STEADY)
def basic(s: Session) -> None:
    """4 trials, concurrency 2, to DONE; every endpoint while running and at DONE; the client API and
    its errors; killing a SUCCEEDED trial; MAX_TRIAL_NUM revival; stop; the deliberate fixes that
    need a running manager."""
    s.create("A", trial_concurrency=2, max_trial_number=4)
    s.call("A", "get_status", name="not_running")
    s.start("A", "P0", name="start")

    s.wait("A", c.count("RUNNING", 2), 30, name="two_running")
    s.request("A", "GET", "/check-status", name="running.check_status")
    s.request("A", "GET", "/trial-jobs", name="running.trial_jobs")
    s.request("A", "GET", "/job-statistics", name="running.statistics")
    s.request("A", "GET", "/experiment", name="running.profile")

    s.wait("A", c.status("DONE"), 60, name="to_done")
    t0 = s.trial_id(0)
    for path, compare in [
        ("/check-status", "exact"),
        ("/experiment", "exact"),
        ("/trial-jobs", "exact"),
        ("/trial-jobs?status=SUCCEEDED", "exact"),
        ("/trial-jobs?status=NOPE", "exact"),
        (f"/trial-jobs/{t0}", "exact"),
        ("/job-statistics", "exact"),
        ("/metric-data", "sorted"),
        (f"/metric-data/{t0}", "sorted"),
        ("/metric-data?type=FINAL", "sorted"),
        ("/metric-data?type=PERIODICAL", "sorted"),
        ("/metric-data/doesnotexist", "exact"),
        ("/metric-data-latest", "sorted"),
        ("/metric-data-range/0/1", "sorted"),
        ("/metric-data-range/b/a", "exact"),
        ("/export-data", "sorted"),
        ("/experiment-metadata", "exact"),
        ("/experiments-info", "exact"),
        ("/experiment/imported-data", "exact"),
        ("/version", "exact"),
        ("/tensorboard-tasks", "exact"),
        (f"/trial-file/{t0}/trial.log", "status"),
        (f"/trial-file/{t0}/stdout", "exact"),
        ("/trial-file/doesnotexist/trial.log", "exact"),
        ("/tensorboard/doesnotexist", "exact"),
        ("/CHECK-STATUS/", "exact"),
    ]:
        s.request("A", "GET", path, name="done." + path.lstrip("/").replace(t0, "T0"), compare=compare)

    # the client API at DONE
    s.call("A", "get_status", name="api.status")
    s.call("A", "list_trial_jobs", name="api.trials")
    s.call("A", "get_trial_job", t0, name="api.trial")
    s.call("A", "get_job_statistics", name="api.statistics")
    s.call("A", "get_job_metrics", name="api.metrics", compare="shape")
    s.call("A", "get_job_metrics", t0, name="api.metrics_of_trial", compare="shape")
    s.call("A", "export_data", name="api.export", compare="shape")
    s.call("A", "get_experiment_profile", name="api.profile")
    s.call("A", "get_experiment_metadata", s.exp("A").id, name="api.metadata")
    s.call("A", "get_all_experiments_metadata", name="api.all_metadata")
    s.connect("C", "P0", name="api.connect")

    # errors of the client API
    s.call("A", "get_trial_job", "doesnotexist", name="error.get_unknown_trial")
    s.call("A", "kill_trial_job", "doesnotexist", name="error.kill_unknown_trial")
    s.call("A", "update_trial_concurrency", -1, name="error.concurrency")
    s.call("A", "update_max_trial_number", 0, name="error.max_trial_number")
    s.call("A", "update_max_experiment_duration", "10", name="error.duration")
    s.call("A", "update_search_space", "x", name="error.search_space")
    s.create("B")
    s.start("B", "P0", name="error.port_in_use")

    # the deliberate fixes (the real manager's answer is recorded; the fakes answer with an error)
    s.request("A", "GET", "/trial-jobs/doesnotexist", name="fix.get_unknown_trial", fix="unknown-trial-get")
    s.request("A", "DELETE", "/trial-jobs/doesnotexist", name="fix.delete_unknown_trial",
              fix="unknown-trial-delete")
    s.request("A", "GET", "/doesnotexist", name="fix.unknown_route", fix="unknown-route")
    s.request("A", "POST", "/trial-jobs", text="{not json", name="fix.malformed_json", fix="malformed-json")
    s.request("A", "PUT", "/experiment?update_type=NOPE", Profile({}), name="fix.unknown_update_type",
              fix="unknown-update-type", timeout=NO_ANSWER)

    # killing a SUCCEEDED trial
    s.call("A", "kill_trial_job", t0, name="kill_succeeded")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed.trial")
    s.request("A", "GET", "/job-statistics", name="killed.statistics")
    s.request("A", "GET", "/export-data", name="killed.export", compare="sorted")
    s.request("A", "GET", f"/metric-data/{t0}", name="killed.metrics", compare="sorted")
    s.call("A", "kill_trial_job", t0, name="kill_again")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed_again.trial")
    s.request("A", "GET", "/check-status", name="killed.check_status")

    # MAX_TRIAL_NUM: DONE -> RUNNING. The manager only asks the tuner for trials when some finish or
    # the concurrency grows, and every generated trial was used: no trial starts until
    # TRIAL_CONCURRENCY 2 -> 3 asks for one, which runs -> NO_MORE_TRIAL -> DONE.
    s.call("A", "update_max_trial_number", 5, name="update_max_trial_number")
    s.wait("A", c.status("RUNNING", "NO_MORE_TRIAL"), 10, name="revived")
    s.request("A", "GET", "/experiment", name="revived.running_profile")
    s.hold(3)
    s.request("A", "GET", "/job-statistics", name="revived.statistics")
    s.request("A", "GET", "/check-status", name="revived.check_status")
    s.call("A", "update_trial_concurrency", 3, name="update_trial_concurrency")
    s.wait("A", c.all_of(c.status("DONE"), c.total(5)), 30, name="revived_done")
    s.request("A", "GET", "/trial-jobs", name="revived.trial_jobs")
    s.request("A", "GET", "/experiment", name="revived.profile")

    # what the real manager does with nonsense (undefined, corrupting or crashing) comes last
    s.request("A", "PUT", "/experiment?update_type=TRIAL_CONCURRENCY", Profile({"trialConcurrency": "abc"}),
              name="fix.concurrency_not_number", fix="concurrency-not-number")
    s.request("A", "POST", "/experiment", Config(), name="post_again")
    # real: the profile is reset to the posted config (undefined behaviour); the fakes keep it
    s.request("A", "GET", "/experiment", name="post_again.profile", compare="status")
    s.request("A", "POST", "/experiment/import-data", {"parameter": {"x": 0.5}, "value": 0.5},
              name="fix.import_data_not_list", fix="import-data-not-list")

    s.stop("A", name="stop")
    s.manifest("A", name="stopped.manifest")
    s.call("A", "get_status", name="stopped.status")
    s.connect("D", "P0", name="stopped.connect")


def _three_trials_to_done(s: Session) -> Tuple[str, str]:
    """3 trials at concurrency 2 to DONE; the trials, the first one and the statistics. The first
    two trial ids."""
    s.create("A", trial_concurrency=2, max_trial_number=3)
    s.start("A", "P0")
    s.wait("A", c.status("DONE"), 60, name="to_done")
    t0, t1 = s.trial_id(0), s.trial_id(1)
    s.request("A", "GET", "/trial-jobs", name="trial_jobs")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="failed_trial")
    s.request("A", "GET", "/job-statistics", name="statistics")
    return t0, t1


@scenario(FAIL_FIRST_DICT)
def failing(s: Session) -> None:
    """3 trials, concurrency 2: trial #0 fails, the others report a dict final metric."""
    t0, t1 = _three_trials_to_done(s)
    s.request("A", "GET", f"/metric-data/{t0}", name="failed_metrics", compare="sorted")
    s.request("A", "GET", f"/metric-data/{t1}", name="dict_metrics", compare="sorted")
    s.request("A", "GET", "/metric-data?type=FINAL", name="finals", compare="sorted")
    s.request("A", "GET", "/export-data", name="export", compare="sorted")
    s.request("A", "GET", f"/trial-file/{t0}/trial.stderr", name="stderr", compare="status")
    s.call("A", "list_trial_jobs", name="api.trials")
    s.call("A", "get_trial_job", t0, name="api.failed_trial")
    s.call("A", "export_data", name="api.export", compare="shape")
    s.call("A", "get_job_metrics", t1, name="api.dict_metrics", compare="shape")
    s.stop("A")


# Time scale 2 on the fake server: its PUT right after start() must come before the simulated tuner
# connects (3 virtual seconds after the POST), under any load.
@scenario(LONG, time_scale=2.0)
def kill_running(s: Session) -> None:
    """Concurrency 1, 30 s trials: kill the running trial #0 after its first report (USER_CANCELED at
    once, endTime a little later), trial #1 starts. Also: import-data and SEARCH_SPACE before the tuner
    connected (real: no answer, nothing imported)."""
    s.create("A", trial_concurrency=1, max_trial_number=2)
    s.start("A", "P0")
    # the real dispatcher connects about 2 s after the start: both requests must be over before
    s.request("A", "POST", "/experiment/import-data", [{"parameter": {"x": 0.5}, "value": 0.5}],
              name="fix.import_data_before_tuner", fix="import-data-before-tuner", timeout=EARLY_NO_ANSWER)
    s.request("A", "PUT", "/experiment?update_type=SEARCH_SPACE", Profile({"searchSpace": SEARCH_SPACE}),
              name="fix.search_space_before_tuner", fix="search-space-before-tuner", timeout=EARLY_NO_ANSWER)
    s.request("A", "GET", "/experiment/imported-data", name="imported_before_tuner")
    # Kill once the trial reported: the real manager sends SIGINT, and a Python trial interrupted while
    # the interpreter still starts up exits with code 1 (FAILED, with stderrPath), not by the signal.
    s.wait("A", c.all_of(c.trial(0, "RUNNING"), c.metrics(0, 1)), 30, name="running")
    t0 = s.trial_id(0)
    s.call("A", "kill_trial_job", t0, name="kill")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed_at_once", racy=True)
    s.wait("A", c.trial_has(0, "endTime"), 5, name="end_time")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed")
    # Trial #1 is the last one: NO_MORE_TRIAL follows at the next tick, waited for so that the statuses
    # seen do not depend on whether that tick comes before the trial shows RUNNING.
    s.wait("A", c.all_of(c.trial(1, "RUNNING"), c.status("NO_MORE_TRIAL")), 30, name="next_running")
    s.request("A", "GET", "/job-statistics", name="statistics")
    s.call("A", "kill_trial_job", t0, name="kill_again")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed_again")
    s.stop("A")
    s.manifest("A", name="manifest")


@scenario(STEADY)
def concurrency(s: Session) -> None:
    """TRIAL_CONCURRENCY: 1 -> 0 (the running trial finishes, none starts) -> 2 (two start)."""
    s.create("A", trial_concurrency=1, max_trial_number=3)
    s.start("A", "P0")
    s.wait("A", c.trial(0, "RUNNING"), 30, name="running")
    s.call("A", "update_trial_concurrency", 0, name="pause")
    s.request("A", "GET", "/experiment", name="paused.profile")
    s.wait("A", c.trial(0, "SUCCEEDED"), 30, name="first_done")
    s.hold(3)
    s.request("A", "GET", "/check-status", name="paused.check_status")
    s.request("A", "GET", "/job-statistics", name="paused.statistics")
    s.call("A", "update_trial_concurrency", 2, name="resume")
    s.wait("A", c.all_of(c.count("RUNNING", 2), c.status("NO_MORE_TRIAL")), 15, name="two_running")
    s.wait("A", c.status("DONE"), 30, name="to_done")
    s.request("A", "GET", "/job-statistics", name="done.statistics")
    s.stop("A")


@scenario(STEADY)
def search_space(s: Session) -> None:
    """SEARCH_SPACE while trials #0 and #1 run: the later trials use the new space."""
    s.create("A", trial_concurrency=2, max_trial_number=4)
    s.start("A", "P0")
    s.wait("A", c.count("RUNNING", 2), 30, name="running")
    s.call("A", "update_search_space", NEW_SPACE, name="update")
    s.request("A", "GET", "/experiment", name="updated.profile")
    s.wait("A", c.status("DONE"), 60, name="to_done")
    s.request("A", "GET", "/trial-jobs", name="trial_jobs")
    s.stop("A")


@scenario(SLOW)
def duration_limit(s: Session) -> None:
    """maxExperimentDuration '2s' with 5 s trials: NO_MORE_TRIAL while they run, DONE when they end
    (not killed), execDuration frozen; MAX_EXEC_DURATION '1m' revives DONE -> RUNNING."""
    s.create("A", trial_concurrency=2, max_trial_number=None, max_experiment_duration="2s")
    s.start("A", "P0")
    s.wait("A", c.status("DONE"), 40, name="to_done")
    s.request("A", "GET", "/job-statistics", name="done.statistics")
    s.request("A", "GET", "/experiment", name="done.profile")
    s.hold(2)
    s.request("A", "GET", "/experiment", name="later.profile")
    s.call("A", "update_max_experiment_duration", "1m", name="update")
    s.wait("A", c.status("RUNNING"), 10, name="revived")
    s.request("A", "GET", "/experiment", name="revived.profile", compare="shape")
    s.stop("A")


@scenario(STEADY)
def grid(s: Session) -> None:
    """GridSearch over 3 points, maxTrialNumber 10: TUNER_NO_MORE_TRIAL stays; wait_completion (what
    run() does after start) returns True."""
    s.create("A", search_space=GRID_SPACE, tuner={"name": "GridSearch"}, max_trial_number=10)
    s.start("A", "P0")
    s.wait("A", c.all_of(c.status("TUNER_NO_MORE_TRIAL"), c.count("SUCCEEDED", 3)), 60, name="exhausted")
    s.call("A", "wait_completion", name="wait_completion")
    s.hold(3)
    s.request("A", "GET", "/check-status", name="later.check_status")
    s.request("A", "GET", "/trial-jobs", name="trial_jobs")
    s.request("A", "GET", "/experiment", name="profile")
    s.stop("A")
    s.manifest("A", name="manifest")


@scenario(SLOW)
def stop_resume_view(s: Session) -> None:
    """Stop with 2 trials running; resume (ADD_RESUMED, then the same trials run again) to DONE; stop;
    view (VIEWED, read-only); stop; unknown experiments cannot be resumed or viewed."""
    s.create("A", trial_concurrency=2, max_trial_number=2)
    s.start("A", "P0")
    # Both trials submitted: the next tick says NO_MORE_TRIAL. Waiting for it too keeps the statuses
    # seen independent of whether that tick comes before the trials show RUNNING.
    s.wait("A", c.all_of(c.count("RUNNING", 2), c.status("NO_MORE_TRIAL")), 30, name="running")
    s.request("A", "GET", "/experiment", name="before_stop.profile")
    s.stop("A", name="stop")
    s.manifest("A", name="stopped.manifest")
    s.call("A", "has_checkpoint", name="has_checkpoint")

    s.reopen("R", "A")
    s.resume("R", "P1", name="resume")
    s.request("R", "GET", "/check-status", name="resumed.check_status")
    s.request("R", "GET", "/job-statistics", name="resumed.statistics")
    s.request("R", "GET", "/trial-jobs", name="resumed.trial_jobs")
    s.request("R", "GET", "/experiment", name="resumed.profile")
    s.manifest("R", name="resumed.manifest")
    s.wait("R", c.all_of(c.trial(0, "RUNNING"), c.trial(1, "RUNNING")), 30, name="rerunning")
    s.wait("R", c.status("DONE"), 30, name="resumed_done")
    s.request("R", "GET", "/trial-jobs", name="resumed_done.trial_jobs")
    s.stop("R", name="stop_resumed")
    s.manifest("R", name="resumed_stopped.manifest")

    s.reopen("V", "A")
    s.view("V", "P2", name="view")
    s.request("V", "GET", "/check-status", name="viewed.check_status")
    s.call("V", "list_trial_jobs", name="viewed.trials")
    s.manifest("V", name="viewed.manifest")
    s.call("V", "update_trial_concurrency", 3, name="readonly.update")
    s.call("V", "kill_trial_job", s.trial_id(0), name="readonly.kill")
    s.request("V", "POST", "/trial-jobs", {"x": 0.5}, name="readonly.add_trial")
    s.request("V", "POST", "/experiment/import-data", [{"parameter": {"x": 0.5}, "value": 0.5}],
              name="readonly.import_data")
    s.request("V", "PUT", "/experiment?update_type=TRIAL_CONCURRENCY", Profile({"trialConcurrency": 3}),
              name="readonly.put")
    s.stop("V", name="stop_view")
    s.manifest("V", name="view_stopped.manifest")

    s.create("X", experiment_id="nosuch01")
    s.resume("X", "P3", name="resume_unknown")
    s.view("X", "P3", name="view_unknown")


@scenario(STEADY)
def url_prefix(s: Session) -> None:
    """run() with the URL prefix '/pre/'; requests outside it; the manifest's prefixUrl. Also:
    /experiment-metadata without a manifest record (real: no answer)."""
    s.create("A", trial_concurrency=1, max_trial_number=1)
    s.run("A", "P0", url_prefix="/pre/", name="run")
    s.call("A", "get_status", name="status")
    s.request("A", "GET", "/check-status", name="inside")
    s.request("A", "GET", "/check-status", name="outside", url_prefix=None)
    s.request("A", "GET", "/check-status", name="other_prefix", url_prefix="other")
    s.manifest("A", name="manifest")
    s.forget_record("A")
    s.request("A", "GET", "/experiment-metadata", name="fix.metadata_without_record",
              fix="metadata-without-record", timeout=NO_ANSWER)
    s.restore_record("A")
    s.request("A", "GET", "/experiment-metadata", name="metadata")
    s.stop("A")
    s.manifest("A", name="stopped.manifest")


# ---------------------------------------------------------------------- NNI's own algorithms
#
# One trial at a time and seeded algorithms: every target must produce the very same parameters,
# parameter ids and metrics (exact=True), except where NNI's algorithm takes no seed (Evolution,
# Hyperband): there the structure is compared.

#: TPE, seeded, leaving its random start-up after two results.
TPE_ARGS = {"optimize_mode": "maximize", "seed": SEED, "tpe_args": {"n_startup_jobs": 2}}
#: Two parameters, so that Evolution's mutations (one parameter re-drawn) show.
EVOLUTION_SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
#: The Batch tuner's trials of ``medianstop``: trial #2 (x = 0.1) is stopped after its first report.
MEDIANSTOP_XS = (0.5, 0.9, 0.1, 0.7)
#: Hyperband with a first bracket of three configurations of budget 1.
HYPERBAND_ARGS = {"optimize_mode": "maximize", "R": 3, "eta": 3}


def _parameters(s: Session, name: str) -> None:
    """Every endpoint that shows parameters or metrics, compared value for value."""
    s.request("A", "GET", "/trial-jobs", name=f"{name}.trial_jobs")
    s.request("A", "GET", "/metric-data", name=f"{name}.metrics", compare="sorted")
    s.request("A", "GET", "/export-data", name=f"{name}.export", compare="sorted")
    s.request("A", "GET", "/job-statistics", name=f"{name}.statistics")


@scenario(STEADY, exact=True, nni_search=True)
def tpe(s: Session) -> None:
    """TPE (NNI's quickstart tuner), seeded, one trial at a time: the same five parameter sets and
    parameter ids on every target (two random start-up trials, then TPE's model)."""
    s.create("A", tuner={"name": "TPE", "class_args": TPE_ARGS}, trial_concurrency=1, max_trial_number=5)
    s.start("A", "P0")
    s.wait("A", c.status("DONE"), 90, name="to_done")
    _parameters(s, "done")
    s.dispatcher_log("A", name="dispatcher_log")
    s.stop("A")


@scenario(STEADY, nni_search=True)
def evolution(s: Session) -> None:
    """Evolution (no seed in NNI 3.0) with a population of 2, one trial at a time: two random trials,
    then mutations of a parent (one parameter re-drawn)."""
    s.create("A", search_space=EVOLUTION_SPACE, tuner={"name": "Evolution", "class_args": {
        "optimize_mode": "maximize", "population_size": 2}}, trial_concurrency=1, max_trial_number=5)
    s.start("A", "P0")
    s.wait("A", c.status("DONE"), 90, name="to_done")
    s.request("A", "GET", "/trial-jobs", name="trial_jobs")
    s.request("A", "GET", "/job-statistics", name="statistics")
    s.stop("A")


@scenario(STEADY, exact=True)
def grid_update(s: Session) -> None:
    """GridSearch over quniform [0, 1, 0.5], updated to [0, 1.5, 0.5] while trial #0 runs: the walk
    goes on from its position (0.5, then 0 and 1.5), then TUNER_NO_MORE_TRIAL. (Not only about NNI's
    classes: nni-exp's own GridSearch must do the same.)"""
    s.create("A", search_space={"x": {"_type": "quniform", "_value": [0, 1, 0.5]}}, tuner={"name": "GridSearch"},
             trial_concurrency=1, max_trial_number=10)
    s.start("A", "P0")
    s.wait("A", c.trial(0, "RUNNING"), 30, name="running")
    s.call("A", "update_search_space", {"x": {"_type": "quniform", "_value": [0, 1.5, 0.5]}}, name="update")
    s.wait("A", c.all_of(c.status("TUNER_NO_MORE_TRIAL"), c.count("SUCCEEDED", 3)), 60, name="exhausted")
    s.hold(3)
    s.request("A", "GET", "/check-status", name="later.check_status")
    _parameters(s, "exhausted")
    s.stop("A")


@scenario(PACED, exact=True, nni_search=True)
def medianstop(s: Session) -> None:
    """Batch tuner (x = 0.5, 0.9, 0.1, 0.7) with a Medianstop assessor, one trial at a time: trial #2
    is stopped after its first intermediate result (below the median of the completed trials): it
    ends USER_CANCELED, without a final result, out of the export data."""
    space = {"params": {"_type": "choice", "_value": [{"x": x} for x in MEDIANSTOP_XS]}}
    s.create("A", search_space=space, tuner={"name": "Batch"}, trial_concurrency=1, max_trial_number=4,
             assessor={"name": "Medianstop", "class_args": {"optimize_mode": "maximize", "start_step": 1}})
    s.start("A", "P0")
    s.wait("A", c.status("DONE"), 90, name="to_done")
    _parameters(s, "done")
    s.call("A", "list_trial_jobs", name="api.trials")
    s.call("A", "export_data", name="api.export")
    s.stop("A")


@scenario(STEADY, nni_search=True)
def hyperband(s: Session) -> None:
    """Hyperband (an advisor), one trial at a time: string parameter ids and TRIAL_BUDGET. NNI 3.0's
    advisor then crashes on the first metric (it compares its string id with an int): the experiment
    stays RUNNING with no error and no new trial."""
    s.create("A", tuner={"name": "Hyperband", "class_args": HYPERBAND_ARGS}, trial_concurrency=1,
             max_trial_number=6)
    s.start("A", "P0")
    s.wait("A", c.trial(0, "SUCCEEDED"), 60, name="first_done")
    s.hold(5)
    s.request("A", "GET", "/check-status", name="later.check_status")
    s.request("A", "GET", "/trial-jobs", name="trial_jobs")
    s.request("A", "GET", "/metric-data", name="metrics", compare="sorted")
    s.dispatcher_log("A", name="dispatcher_log")
    s.stop("A")


@scenario(CUSTOM_TUNERS, exact=True, nni_search=True)
def custom_tuner(s: Session) -> None:
    """A custom tuner from a code directory (it learns from the results): the same three trials on
    every target, then TUNER_NO_MORE_TRIAL; and one that raises on its third call: RUNNING for ever,
    errors [], two trials, the traceback in dispatcher.log."""
    directory = f"{CODE_PLACEHOLDER}/tuner_code"
    s.create("A", tuner={"class_name": "custom_tuners.HalvingTuner", "code_directory": directory,
                         "class_args": {"start": 0.8}}, trial_concurrency=1, max_trial_number=10)
    s.start("A", "P0")
    s.wait("A", c.all_of(c.status("TUNER_NO_MORE_TRIAL"), c.count("SUCCEEDED", 3)), 60, name="exhausted")
    _parameters(s, "exhausted")
    s.dispatcher_log("A", name="dispatcher_log")
    s.stop("A")

    s.create("B", tuner={"class_name": "custom_tuners.RaisingTuner", "code_directory": directory,
                         "class_args": {"fail_on": 3}}, trial_concurrency=1, max_trial_number=5)
    s.start("B", "P1")
    s.wait("B", c.count("SUCCEEDED", 2), 60, name="raising.two_done")
    s.hold(5)
    s.request("B", "GET", "/check-status", name="raising.check_status")
    s.request("B", "GET", "/trial-jobs", name="raising.trial_jobs")
    s.dispatcher_log("B", name="raising.dispatcher_log")
    s.stop("B")


@scenario(STEADY, nni_search=True)
def bad_algorithms(s: Session) -> None:
    """Algorithms the dispatcher cannot create (an unknown name, a missing optional package, a bad
    classArgs, an unknown assessor): RUNNING for 10 s, then ERROR "Tuner did not connect"; the
    cause is only in dispatcher.log."""
    cases = {
        "A": {"tuner": {"name": "TPEE"}},
        "B": {"tuner": {"name": "Anneal"}},
        "C": {"tuner": {"name": "Random", "class_args": {"seed": SEED, "nonsense": 1}}},
        "D": {"assessor": {"name": "Medianstopp"}},
    }
    for index, (exp, overrides) in enumerate(cases.items()):
        s.create(exp, trial_concurrency=1, max_trial_number=1, **overrides)
        s.start(exp, f"P{index}")
    for exp in cases:
        s.wait(exp, c.status("ERROR"), 30, name=f"{exp}.error")
        s.request(exp, "GET", "/check-status", name=f"{exp}.check_status")
        s.dispatcher_log(exp, name=f"{exp}.dispatcher_log")
    for exp in cases:
        s.stop(exp)


@scenario(FAIL_FIRST_DICT, time_scale=1.0, real_trials=True)
def real_trials(s: Session) -> None:
    """The fakes run ``trial.py`` for real too (``FakeManager(real_trials=True)``, ``--real-trials``):
    3 trials, concurrency 2, trial #0 fails; statuses, metrics and the trial files the local
    training service writes."""
    t0, t1 = _three_trials_to_done(s)
    s.request("A", "GET", f"/metric-data/{t1}", name="metrics", compare="sorted")
    s.request("A", "GET", "/export-data", name="export", compare="sorted")
    s.request("A", "GET", f"/trial-file/{t1}/stdout", name="stdout")
    s.request("A", "GET", f"/trial-file/{t1}/stderr", name="stderr")
    s.request("A", "GET", f"/trial-file/{t0}/stderr", name="failed_stderr", compare="status")
    s.request("A", "GET", f"/trial-file/{t1}/trial.log", name="trial_log", compare="status")
    s.call("A", "list_trial_jobs", name="api.trials")
    s.stop("A")


@scenario(LONG, time_scale=1.0, real_trials=True)
def real_trials_kill(s: Session) -> None:
    """Real trials on the fakes: concurrency 1, 30 s trials; kill the running trial #0 after its first
    report (the process gets SIGINT: USER_CANCELED at once, endTime when it exited), trial #1
    starts; stopping the experiment stops trial #1."""
    s.create("A", trial_concurrency=1, max_trial_number=2)
    s.start("A", "P0")
    s.wait("A", c.all_of(c.trial(0, "RUNNING"), c.metrics(0, 1)), 30, name="running")
    t0 = s.trial_id(0)
    s.call("A", "kill_trial_job", t0, name="kill")
    s.wait("A", c.trial_has(0, "endTime"), 10, name="end_time")
    s.request("A", "GET", f"/trial-jobs/{t0}", name="killed")
    # Trial #1 is the last one: NO_MORE_TRIAL follows at the next tick, waited for so that the statuses
    # seen do not depend on whether that tick comes before the trial shows RUNNING.
    s.wait("A", c.all_of(c.trial(1, "RUNNING"), c.status("NO_MORE_TRIAL")), 30, name="next_running")
    s.request("A", "GET", "/job-statistics", name="statistics")
    s.stop("A")
