"""The trials of a generated scenario: one plan table, two forms (the real ``trial.py`` and the fake's
scripted trial), as :class:`tests.scenarios.behaviours.TrialBehaviour` makes them for the scenarios.

A trial looks its plan up by its *sequence id* (:class:`~.generator.TrialPlan`), which the manager
gives the trial itself, not its parameters: NNI's race (a trial receiving the parameters recorded for
another one) then changes a trial's metric value but not how long it runs or whether it fails. The
metric is a function of the parameters the trial received (:func:`metric_of`), so a raced trial shows
up as a metric that belongs to other parameters (:mod:`.compare` detects it).
"""

from __future__ import annotations

import json
import textwrap
import zlib
from typing import Any, Dict

from tests.scenarios.behaviours import TrialBehaviour

from .generator import GeneratedScenario

__all__ = ["GeneratedBehaviour", "metric_of"]


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
        return textwrap.dedent(f"""\
            # Generated from differential scenario {self.scenario.seed}: do not edit.
            import time
            _START = time.time()
            import json
            import zlib
            import nni

            PLANS = json.loads({json.dumps(json.dumps(plans))})


            def _wait_until(moment):
                delay = _START + moment - time.time()
                if delay > 0:
                    time.sleep(delay)


            params = nni.get_next_parameter()
            value = round(zlib.crc32(json.dumps(params, sort_keys=True).encode("utf-8")) / 2 ** 32, 6)
            duration, reports, metric, fail = PLANS.get(str(nni.get_sequence_id()), [2.5, [], "number", False])
            for index, moment in enumerate(reports):
                _wait_until(moment)
                nni.report_intermediate_result(round(value * (index + 1) / 10, 6))
            _wait_until(duration)
            if fail:
                raise RuntimeError("planned failure of trial #%d" % nni.get_sequence_id())
            nni.report_final_result({{"default": value, "other": 1}} if metric == "dict" else value)
        """)
