"""The trials of a generated scenario: one plan table, two forms (the real ``trial.py`` and the fake's
scripted trial), as :class:`tests.scenarios.behaviours.TrialBehaviour` makes them for the scenarios.

A trial looks its plan up by its *sequence id* (:class:`~.generator.TrialPlan`), which the manager
gives the trial itself, not its parameters: NNI's race (a trial receiving the parameters recorded for
another one) then changes a trial's metric value but not how long it runs or whether it fails. The
metric is a function of the parameters the trial received (:func:`metric_of`), so a raced trial shows
up as a metric that belongs to other parameters (:mod:`.compare` detects it).

A real trial sleeps *until* each moment of its plan (seconds since its process started, as the fake's
virtual ones); when importing ``nni`` took longer than a moment, the trial is late and its timing no
longer matches the fake's: it says so in :data:`LATE_FILE` (:func:`late_trials`), and the harness
replays such a seed instead of blaming the fake.
"""

from __future__ import annotations

import json
import textwrap
import zlib
from pathlib import Path
from typing import Any, Dict, List

from tests.scenarios.behaviours import TrialBehaviour

from .generator import DEFAULT_PLAN, GeneratedScenario

__all__ = ["GeneratedBehaviour", "metric_of", "late_trials", "LATE", "LATE_FILE"]

#: Seconds a real trial may miss one of its plan's moments by (importing ``nni`` took longer than the
#: first moment on a busy machine) before it writes so to :data:`LATE_FILE` in its code directory.
LATE = 0.3
LATE_FILE = "late-trials.txt"


def late_trials(code_directory: Path) -> List[str]:
    """What the real trials of a run wrote about missing their plan's times ([] when they kept them)."""
    path = code_directory / LATE_FILE
    return path.read_text().splitlines() if path.exists() else []


def metric_of(params: Any) -> float:
    """The number a trial with ``params`` reports: a stable hash of their JSON, in [0, 1)."""
    text = json.dumps(params, sort_keys=True)
    return round(zlib.crc32(text.encode("utf-8")) / 2 ** 32, 6)


class GeneratedBehaviour(TrialBehaviour):
    """The trial behaviour of one :class:`~.generator.GeneratedScenario` (its plans by sequence id)."""

    scenario: GeneratedScenario

    def __init__(self, scenario: GeneratedScenario) -> None:
        super().__init__(f"GENERATED_{scenario.seed}", duration=5.0, intermediate=())
        object.__setattr__(self, "scenario", scenario)

    @property
    def reference(self) -> str:
        raise NotImplementedError("a generated behaviour cannot be loaded by reference (no fake server target)")

    def fake_trial(self, params: Dict[str, Any], trial: Any) -> Any:
        """The scripted trial of the fakes: the plan of ``trial.sequence_id``, in virtual seconds."""
        plan = self.scenario.plan(trial.sequence_id)
        value = metric_of(params)
        elapsed = 0.0
        for index, at in enumerate(plan.report_times):
            trial.sleep(at - elapsed)
            elapsed = at
            trial.report_intermediate_result(round(value * (index + 1) / 10, 6))
        trial.sleep(plan.duration - elapsed)
        if plan.fail:
            raise RuntimeError(f"planned failure of trial #{trial.sequence_id}")
        return {"default": value, "other": 1} if plan.metric == "dict" else value

    def script(self) -> str:
        """The ``trial.py`` of the real manager: the same plans, sleeping until each moment."""
        plans = {index: [plan.duration, list(plan.report_times), plan.metric, plan.fail]
                 for index, plan in enumerate(self.scenario.trials)}
        default = [DEFAULT_PLAN.duration, list(DEFAULT_PLAN.report_times), DEFAULT_PLAN.metric, DEFAULT_PLAN.fail]
        return textwrap.dedent(f"""\
            # Generated from differential scenario {self.scenario.seed}: do not edit.
            import time
            _START = time.time()
            import json
            import os
            import zlib
            import nni

            PLANS = json.loads({json.dumps(json.dumps(plans))})
            LATE, LATE_FILE = {LATE!r}, {LATE_FILE!r}


            def _wait_until(moment):
                delay = _START + moment - time.time()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -LATE:
                    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), LATE_FILE), "a") as late:
                        late.write("trial #%d was %.2f s late for its moment %g s\\n"
                                   % (nni.get_sequence_id(), -delay, moment))


            params = nni.get_next_parameter()
            value = round(zlib.crc32(json.dumps(params, sort_keys=True).encode("utf-8")) / 2 ** 32, 6)
            duration, reports, metric, fail = PLANS.get(str(nni.get_sequence_id()), {default!r})
            for index, moment in enumerate(reports):
                _wait_until(moment)
                nni.report_intermediate_result(round(value * (index + 1) / 10, 6))
            _wait_until(duration)
            if fail:
                raise RuntimeError("planned failure of trial #%d" % nni.get_sequence_id())
            nni.report_final_result({{"default": value, "other": 1}} if metric == "dict" else value)
        """)
