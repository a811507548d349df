"""Play a :class:`~.generator.GeneratedScenario` on a target (:func:`play`).

The driver waits for each action's trigger, performs the action (through the client API where NNI's
client has the call, raw REST for the customized trial and import-data, nni-exp for stop / resume),
records what the action answered and what it changed, then waits until the experiment is over and
records the final state of every endpoint a client reads.
"""

from __future__ import annotations

from tests.scenarios import conditions as c
from tests.scenarios.session import ScenarioError
from tests.scenarios.targets import TargetKind

from .generator import Action, GeneratedScenario
from .session import DifferentialSession

__all__ = ["play", "END", "TRIGGER_TIMEOUT", "END_TIMEOUT"]

#: The experiment is over: a final status and no trial left to run.
END = c.all_of(c.status("DONE", "TUNER_NO_MORE_TRIAL", "ERROR"),
               c.none_in("RUNNING", "WAITING", "UNKNOWN", "ADD_RESUMED"))
#: Scenario seconds to wait for a trigger, and for the end.
TRIGGER_TIMEOUT = 60.0
END_TIMEOUT = 120.0
#: Scenario seconds between the end and the final reads (a killed trial's endTime comes a tick later).
SETTLE = 1.5
#: Client calls of the final state (NNI's own client on the real manager).
FINAL_CALLS = ("get_status", "list_trial_jobs", "get_job_statistics", "get_job_metrics", "export_data",
               "get_experiment_profile")
#: REST reads of the final state, and how each answer is compared.
FINAL_READS = (("/check-status", "exact"), ("/trial-jobs", "exact"), ("/job-statistics", "sorted"),
               ("/metric-data", "sorted"), ("/export-data", "sorted"), ("/experiment", "exact"),
               ("/experiment/imported-data", "exact"), ("/trial-jobs/<trial:0>", "exact"),
               ("/metric-data/<trial:0>", "sorted"), ("/metric-data?type=FINAL", "sorted"),
               ("/experiments-info", "exact"), ("/version", "exact"))


def play(scenario: GeneratedScenario, kind: TargetKind) -> DifferentialSession:
    """Run ``scenario`` on a fresh machine of ``kind``; everything it started is stopped on return.

    A wait that times out does not raise: the session records it (step ``failed``), and the comparison
    shows where each side got stuck.
    """
    session = DifferentialSession(kind, scenario)
    try:
        try:
            _drive(session, scenario)
        except ScenarioError as error:
            session.failed(str(error))
            _after_failure(session)
    finally:
        session.close()
    return session


def _after_failure(s: DifferentialSession) -> None:
    """What the comparison needs to explain a run that got stuck: the trials and metrics (NNI's race
    shows there) and the dispatcher's log (a tuner that crashed)."""
    running = [key for key, experiment in s.experiments.items() if experiment.port is not None]
    if not running:
        return
    exp = running[-1]
    for path in ("/trial-jobs", "/metric-data"):
        try:
            s.request(exp, "GET", path, name=f"after-failure.{path.strip('/')}")
        except Exception:  # noqa: BLE001 - best effort: the manager may be gone
            pass
    try:
        s.dispatcher_log(exp, name="after-failure.dispatcher-log")
    except Exception:  # noqa: BLE001 - best effort
        pass


def _drive(s: DifferentialSession, scenario: GeneratedScenario) -> None:
    s.create("A", **scenario.config())
    s.start("A", "P0", name="start")
    exp = "A"
    for index, action in enumerate(scenario.actions):
        s.wait(exp, action.trigger(), TRIGGER_TIMEOUT, name=f"a{index}.trigger")
        exp = _act(s, exp, action, index)
    s.wait(exp, END, END_TIMEOUT, name="end")
    s.hold(SETTLE)
    for path, compare in FINAL_READS:
        s.request(exp, "GET", path, name=f"final.{path.strip('/')}", compare=compare)
    for method in FINAL_CALLS:
        s.call(exp, method, name=f"final.call.{method}")
    s.request(exp, "GET", "/trial-jobs/doesnotexist", name="final.fix.unknown_trial", fix="unknown-trial-get")
    s.observed(name="observed")
    s.stop(exp, name="stop")


def _act(s: DifferentialSession, exp: str, action: Action, index: int) -> str:
    """Perform ``action`` on ``exp``; the experiment to go on with (a resumed one after stop-resume)."""
    name = f"a{index}.{action.kind}"
    kind = action.kind
    if kind in ("kill-running", "kill-finished"):
        trial = s.trial_id(action.trial)
        s.call(exp, "kill_trial_job", trial, name=name)
        if kind == "kill-running":
            s.wait(exp, c.trial_has(action.trial, "endTime"), 10, name=f"{name}.ended")
        s.request(exp, "GET", f"/trial-jobs/{trial}", name=f"{name}.trial")
        s.request(exp, "GET", "/export-data", name=f"{name}.export", compare="sorted")
    elif kind in ("concurrency-up", "concurrency-down"):
        s.call(exp, "update_trial_concurrency", action.value, name=name)
    elif kind in ("max-trials-up", "max-trials-down"):
        s.call(exp, "update_max_trial_number", action.value, name=name)
    elif kind in ("duration-up", "duration-down"):
        s.call(exp, "update_max_experiment_duration", action.value, name=name)
    elif kind == "search-space":
        s.call(exp, "update_search_space", action.value, name=name)
    elif kind == "custom-trial":
        s.request(exp, "POST", "/trial-jobs", action.value, name=name)
    elif kind == "import-data":
        s.request(exp, "POST", "/experiment/import-data", action.value, name=name)
        s.request(exp, "GET", "/experiment/imported-data", name=f"{name}.imported")
    elif kind == "stop-resume":
        s.stop(exp, name=f"{name}.stop")
        resumed = f"R{index}"
        s.reopen(resumed, exp)
        s.resume(resumed, f"P{index + 1}", name=f"{name}.resume")
        return resumed
    else:
        raise ValueError(f"unknown action kind {kind!r}")
    if kind not in ("kill-running", "kill-finished", "import-data", "custom-trial"):
        s.request(exp, "GET", "/experiment", name=f"{name}.profile")
    return exp

