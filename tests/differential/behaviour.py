"""The trials of a generated scenario: one plan table, two forms (the real ``trial.py`` and the fake's
scripted trial), as :class:`tests.scenarios.behaviours.TrialBehaviour` makes them for the scenarios.

A trial looks its plan up by its *sequence id* (:class:`~.generator.TrialPlan`), which the manager
gives the trial itself, not its parameters: NNI's race (a trial receiving the parameters recorded for
another one) then changes a trial's metric value but not how long it runs or whether it fails. The
metric is a function of the parameters the trial received (:func:`metric_of`), so a raced trial shows
up as a metric that belongs to other parameters (:mod:`.compare` detects it).

A real trial sleeps *until* each moment of its plan, counted from :data:`STARTUP` seconds before it got
its parameters (the fake's trial gets them at its virtual start): on a busy machine, where importing
``nni`` takes longer, every moment of every trial moves by about the same delay, and the order of
events the scenario relies on stays. A trial that took much longer than that to start, or missed a
moment, says so in :data:`LATE_FILE` (:func:`late_trials`), and the harness replays such a seed once
before blaming the fake.
"""

from __future__ import annotations

import json
import textwrap
import zlib
from pathlib import Path
from typing import Any, Dict, List

from tests.scenarios.behaviours import TrialBehaviour

from .generator import DEFAULT_PLAN, GeneratedScenario

__all__ = ["GeneratedBehaviour", "metric_of", "late_trials", "STARTUP", "SLOW", "LATE", "LATE_FILE"]

#: Seconds a real trial is assumed to spend importing ``nni`` and getting its parameters: its plan's
#: moments count from that long before it had them (the fake's trial has them at once, at 0), so a
#: slower import shifts all of a trial's moments alike instead of squeezing them together.
STARTUP = 2.5
#: A real trial writes to :data:`LATE_FILE` (in its code directory) when getting started took more
#: than ``STARTUP + SLOW`` seconds, or when it missed one of its moments by more than ``LATE``.
SLOW = 1.5
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
            _BEGIN = time.time()
            import json
            import os
            import zlib
            import nni

            PLANS = json.loads({json.dumps(json.dumps(plans))})
            STARTUP, SLOW, LATE, LATE_FILE = {STARTUP!r}, {SLOW!r}, {LATE!r}, {LATE_FILE!r}


            def _note(text):
                with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), LATE_FILE), "a") as notes:
                    notes.write("trial #%d %s\\n" % (nni.get_sequence_id(), text))


            def _wait_until(moment):
                delay = _START + moment - time.time()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -LATE:
                    _note("was %.2f s late for its moment %g s" % (-delay, moment))


            params = nni.get_next_parameter()
            # the plan's moments count from a start STARTUP seconds before the trial had its parameters
            _START = time.time() - STARTUP
            if _START - _BEGIN > SLOW:
                _note("took %.2f s to import nni and get its parameters" % (_START - _BEGIN + STARTUP))
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
