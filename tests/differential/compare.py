"""Compare the real manager's run of a generated scenario with the fake's (:func:`compare_runs`).

Step by step, with :func:`tests.scenarios.session.compare_steps` (the real run as the recording):
statuses seen by each wait, trial counts (except at triggers: what else runs when a trigger trial
reports depends on the machine's speed under concurrency), HTTP status / content type / key order /
exact bodies of every read, the result of every action and client call. Then the whole run's
distinct experiment statuses and every trial's status path (step ``observed``). Lists whose order
is not part of the contract (job statistics, export data, metrics) compare as sets.

Three known differences are handled and reported, never silently:

* the README's deliberate fixes: a step marked ``fix=`` is checked against what the fake answers by
  design (:data:`tests.scenarios.session.FIXES`);
* nni-exp's client improvements (README, "Where nni-exp improves on NNI"): NNI's client raises a
  ``TypeError`` listing customized trials, nni-exp's answers (:data:`CLIENT_IMPROVEMENTS`);
* NNI's race (README, "Not reproduced"): under concurrency the real local training service can hand a
  trial the parameters recorded for another. The trial's metrics then carry the other ``parameterId``;
  such trials are detected on the real run and their metric values (and the metrics' parameter ids)
  are left out of the comparison on both sides. A tuner that tracks running parameters (TPE) can crash
  on it (a trial's end closes parameters whose result another trial reports later: ``KeyError``) and
  the real experiment stalls; a run that stalled so after a detected race is reported as explained.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Set, Tuple

from tests.scenarios.session import FIXES, compare_steps

from .session import DifferentialSession

__all__ = ["Comparison", "compare_runs", "raced_trials", "tuner_crash", "replay_command", "RACED"]

#: What a raced trial's metric values show as on both sides.
RACED = "<raced: NNI gave this trial another trial's parameters>"
#: Where nni-exp's client answers and NNI's raises, on purpose: (method, NNI's error) -> the README row
#: ("Where nni-exp improves on NNI").
CLIENT_IMPROVEMENTS: Dict[Tuple[str, str], str] = {
    ("list_trial_jobs", "TypeError"): "customized trials make list_trial_jobs() raise (parameter_index missing)",
    ("get_trial_job", "TypeError"): "customized trials make list_trial_jobs() raise (parameter_index missing)",
}
#: Client calls whose list results compare in any order.
_UNORDERED_CALLS = frozenset({"get_job_statistics", "export_data"})


@dataclass
class Comparison:
    """The outcome of one differential run: ``problems`` (empty: the runs match) and ``notes`` (known
    differences met on the way)."""

    seed: int
    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    raced: List[str] = field(default_factory=list)
    #: Problems a known cause explains (see :func:`compare_runs`), kept for the record.
    explained: List[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        """Whether the fake did what the real manager did."""
        return not self.problems


def replay_command(seed: int) -> str:
    """The command that replays ``seed`` alone."""
    return (f"pytest tests/differential/test_differential.py --nni-differential-seed={shlex.quote(str(seed))} "
            "-p no:xdist")


def raced_trials(session: DifferentialSession) -> List[str]:
    """Placeholders (``<trial:k>``) of the trials of ``session`` whose metrics carry another
    ``parameterId`` than their own parameters: NNI's race. Read from the recorded final reads (exact
    values), so a kept transcript can be compared again."""
    steps = {step.get("name"): step for step in session.steps}
    prefix = "final" if "final.trial-jobs" in steps else "after-failure"
    jobs = steps.get(f"{prefix}.trial-jobs", {}).get("result", {}).get("body")
    metrics = steps.get(f"{prefix}.metric-data", {}).get("result", {}).get("body")
    if not isinstance(jobs, list) or not isinstance(metrics, list):
        return []
    own: Dict[str, Any] = {}
    for job in jobs:
        for entry in job.get("hyperParameters") or []:
            content = entry.get("$json") if isinstance(entry, dict) else None
            if isinstance(content, dict):
                own[job.get("trialJobId")] = content.get("parameter_id")
    raced: Set[str] = set()
    for metric in metrics:
        trial = metric.get("trialJobId")
        if own.get(trial) is not None and metric.get("parameterId") != str(own[trial]):
            raced.add(trial)
    return sorted(raced)


def _mask(obj: Any, raced: Set[str]) -> Any:
    """``obj`` (a recorded result) with the metric values of ``raced`` trials replaced by :data:`RACED`."""
    if isinstance(obj, list):
        return [_mask(item, raced) for item in obj]
    if not isinstance(obj, dict):
        return obj
    masked = {key: _mask(value, raced) for key, value in obj.items()}
    if masked.get("trialJobId") in raced:
        for key in ("data", "value", "parameterId"):
            if key in masked:
                masked[key] = RACED
    for key in list(masked):
        if key in raced and isinstance(masked[key], list):  # get_job_metrics: {trial: [metrics]}
            masked[key] = [_mask({**item, "trialJobId": key}, raced) if isinstance(item, dict) else item
                           for item in masked[key]]
    return masked


def _canonical(step: Dict[str, Any], raced: Set[str]) -> Dict[str, Any]:
    step = dict(step, result=_mask(step.get("result", {}), raced))
    if step.get("op") == "wait" and str(step.get("name", "")).endswith(".trigger"):
        # what else runs when a trigger trial reports depends on the machine's speed under concurrency;
        # the trial counts are compared at the end (and by every read of the final state)
        step["result"] = {key: value for key, value in step["result"].items() if key != "counts"}
    value = step["result"].get("value")
    if step["op"] == "call" and step.get("method") in _UNORDERED_CALLS and isinstance(value, list):
        step["result"] = dict(step["result"], value=sorted(value, key=lambda item: json.dumps(item, sort_keys=True)))
    return step


def _trigger_statuses(expected: Dict[str, Any], got: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """A trigger trial may end in the very tick that ends the experiment: whether the trigger's wait
    saw one more status (``DONE``) then depends on the machine's speed. Such waits compare without
    that last status (the run's whole status sequence is compared by step ``observed``)."""
    if expected.get("op") != "wait" or not str(expected.get("name", "")).endswith(".trigger"):
        return expected, got
    mine, theirs = expected["result"].get("statuses") or [], got.get("result", {}).get("statuses") or []
    if mine[:-1] == theirs or theirs[:-1] == mine:
        shorter = min(mine, theirs, key=len)
        expected = dict(expected, result=dict(expected["result"], statuses=shorter))
        got = dict(got, result=dict(got["result"], statuses=shorter))
    return expected, got


def compare_runs(real: DifferentialSession, fake: DifferentialSession) -> Comparison:
    """Compare ``fake``'s run with ``real``'s (the same generated scenario)."""
    comparison = Comparison(real.generated.seed)
    raced = set(raced_trials(real))
    comparison.raced = sorted(raced)
    if raced:
        comparison.notes.append(f"NNI's parameter race (README, 'Not reproduced') on {', '.join(sorted(raced))}: "
                                f"their metric values are not compared")
    for index, (expected, got) in enumerate(zip(real.steps, fake.steps)):
        if expected.get("op") == "failed" or got.get("op") == "failed":
            if expected != got:
                comparison.problems.append(f"step {index}: real {json.dumps(expected.get('result'))}, "
                                           f"fake {json.dumps(got.get('result'))}")
            else:
                comparison.notes.append(f"both runs stopped at step {index} the same way: "
                                        f"{expected.get('result', {}).get('error')}")
            break
        if expected.get("fix"):
            comparison.notes.append(f"step {expected.get('name')}: deliberate fix (README: "
                                    f"{FIXES[expected['fix']].row}): real answered {expected['result'].get('status')}, "
                                    f"the fake {got.get('result', {}).get('status')}")
        raised = str(expected.get("result", {}).get("error"))
        improvement = CLIENT_IMPROVEMENTS.get((str(expected.get("method")), raised))
        if expected.get("op") == "call" and improvement and "value" in got.get("result", {}):
            comparison.notes.append(f"step {expected.get('name')}: NNI's client raised "
                                    f"{expected['result']['error']}, nni-exp's answers (README: {improvement})")
            continue
        expected, got = _trigger_statuses(_canonical(expected, raced), _canonical(got, raced))
        problems = compare_steps(expected, got, target="fake")
        if problems and expected.get("compare", "exact") == "exact":
            problems[-1] += "".join(f"\n    at {where}: real {a}, fake {b}"
                                    for where, a, b in leaf_differences(expected.get("result"), got.get("result")))
        comparison.problems += [problem.replace("    recorded: ", "    real:     ").replace("    actual:   ",
                                                                                              "    fake:     ")
                                for problem in problems]
    if len(real.steps) != len(fake.steps) and not comparison.problems and not _failed(real) and not _failed(fake):
        comparison.problems.append(f"the runs have {len(real.steps)} (real) and {len(fake.steps)} (fake) steps")
    crash = tuner_crash(real)
    if comparison.problems and raced and crash and _failed(real) and not _failed(fake):
        comparison.notes.append(
            f"explained by NNI's parameter race (README, 'Not reproduced'): {', '.join(sorted(raced))} ran "
            f"another trial's parameters, a trial's end closed parameters whose result came later, and the "
            f"real tuner crashed ({crash}); the real run then stalled: " + "; ".join(
                problem.split("\n")[0] for problem in comparison.problems))
        comparison.explained, comparison.problems = comparison.problems, []
    return comparison


def _failed(session: Any) -> bool:
    return any(step.get("op") == "failed" for step in session.steps)


def tuner_crash(session: Any) -> str:
    """The error that ended the real tuner's dispatcher, as its log says ('' when none did): what NNI's
    race does to a tuner that tracks running parameters (TPE: ``KeyError`` in ``receive_trial_result``)."""
    for step in session.steps:
        if step.get("name") == "after-failure.dispatcher-log":
            lines = step.get("result", {}).get("value") or []
            errors = [line for line in lines if line.startswith("KeyError:")]
            if errors and any("Dispatcher exiting" in line for line in lines):
                return errors[0]
    return ""


def leaf_differences(real: Any, fake: Any, where: str = "result", limit: int = 8) -> List[Tuple[str, str, str]]:
    """Where two recorded results differ: ``(path, real value, fake value)`` of the first ``limit``
    differing leaves (the bodies are long; this says which field differs)."""
    found: List[Tuple[str, str, str]] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in list(a) + [key for key in b if key not in a]:
                walk(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}.{key}")
            return
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{path}[{index}]")
            return
        found.append((path, json.dumps(a)[:200], json.dumps(b)[:200]))

    walk(real, fake, where)
    return found


def report(scenario_text: str, comparison: Comparison, real: DifferentialSession,
           fake: DifferentialSession) -> str:
    """What a divergence prints: the seed, the scenario, the problems, both runs side by side, the
    command replaying the seed."""
    lines = [f"differential seed {comparison.seed}: the fake diverged from NNI 3.0's manager", scenario_text, "",
             "problems:"]
    lines += ["  " + problem for problem in comparison.problems]
    lines += ["notes:"] + ["  " + note for note in comparison.notes]
    lines += ["", "both runs, step by step (real | fake):"]
    for index in range(max(len(real.steps), len(fake.steps))):
        left = real.steps[index] if index < len(real.steps) else {}
        right = fake.steps[index] if index < len(fake.steps) else {}
        title = left.get("name") or left.get("op") or right.get("name") or right.get("op")
        same = bool(left and right) and left.get("op") == right.get("op") and (
            left == right or not compare_steps(*_trigger_statuses(_canonical(left, set(comparison.raced)),
                                                                  _canonical(right, set(comparison.raced))),
                                               target="fake"))
        marker = "  " if same else "!!"
        lines.append(f"{marker} {index:2d} {title}")
        if marker == "!!":
            lines.append(f"      real: {json.dumps(left.get('result'), sort_keys=True)[:1500]}")
            lines.append(f"      fake: {json.dumps(right.get('result'), sort_keys=True)[:1500]}")
            lines += [f"      at {where}: real {real_value}, fake {fake_value}"
                      for where, real_value, fake_value in leaf_differences(left.get("result"), right.get("result"))]
    lines += ["", f"replay: {replay_command(comparison.seed)}"]
    return "\n".join(lines)
