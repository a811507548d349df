"""What the trials of a scenario do, defined once as data.

A :class:`TrialBehaviour` says how long a trial runs, when it reports intermediate results, what its
final metric is and which trials fail. From it come both

* :meth:`TrialBehaviour.script`: the ``trial.py`` the real NNI manager runs (``import nni``, ...), and
* :meth:`TrialBehaviour.fake_trial`: the scripted ``fn(params, trial)`` of the fakes (virtual seconds).

Times are seconds since the trial *process* started. A real trial spends its first ~2 s importing
``nni``, so the script sleeps *until* each time rather than *for* it: the real trial then lasts
``duration`` seconds as the fake's does (as long as importing ``nni`` took less than the first report
time).

The named behaviours below are module attributes, so that the fake manager server can load a fake
trial by reference: ``--trial tests.scenarios.behaviours:STEADY.fake_trial``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Dict, Tuple

__all__ = ["TrialBehaviour", "BEHAVIOURS", "STEADY", "FAIL_FIRST_DICT", "LONG", "SLOW", "PACED", "CUSTOM_TUNERS",
           "behaviour", "CUSTOM_TUNER_MODULE"]


@dataclass(frozen=True)
class TrialBehaviour:
    """A trial's script, as data.

    Attributes
    ----------
    name
        The module attribute holding this behaviour (upper case), used in references and transcripts.
    duration
        Seconds from the trial's start to its end (its final report, or its failure).
    intermediate
        Times of the intermediate reports; report ``i`` is ``x * (i + 1) / 10``.
    metric
        The final metric: ``"x"`` (the parameter ``x``) or ``"dict"`` (``{"default": x, "other": 1}``).
    fail_sequences
        Sequence ids of the trials that fail (raise, exit code 1) at ``duration`` instead of reporting.
    files
        More files of the trial code directory, ``(name, text)`` pairs (e.g. a custom tuner's module).
    """

    name: str
    duration: float = 3.0
    intermediate: Tuple[float, ...] = (2.2, 2.6)
    metric: str = "x"
    fail_sequences: Tuple[int, ...] = ()
    files: Tuple[Tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.metric not in ("x", "dict"):
            raise ValueError(f"metric must be 'x' or 'dict', got {self.metric!r}")
        if any(not 0 <= at <= self.duration for at in self.intermediate) or list(self.intermediate) != sorted(
                self.intermediate):
            raise ValueError("intermediate report times must be sorted and within the duration")

    # ------------------------------------------------------------------ values

    @staticmethod
    def intermediate_value(x: Any, index: int) -> float:
        """The ``index``-th intermediate result of a trial with parameter ``x``."""
        return float(x) * (index + 1) / 10

    def final_value(self, x: Any) -> Any:
        """The final result of a trial with parameter ``x``."""
        if self.metric == "dict":
            return {"default": x, "other": 1}
        return x

    @property
    def reference(self) -> str:
        """``module:attribute`` of :meth:`fake_trial`, for the fake manager server's ``--trial``."""
        return f"{__name__}:{self.name}.fake_trial"

    # ------------------------------------------------------------------ the two forms

    def fake_trial(self, params: Dict[str, Any], trial: Any) -> Any:
        """The scripted trial of the fakes: the same reports at the same (virtual) times."""
        x = params["x"]
        elapsed = 0.0
        for index, at in enumerate(self.intermediate):
            trial.sleep(at - elapsed)
            elapsed = at
            trial.report_intermediate_result(self.intermediate_value(x, index))
        trial.sleep(self.duration - elapsed)
        if trial.sequence_id in self.fail_sequences:
            raise RuntimeError(f"scripted failure of trial #{trial.sequence_id}")
        return self.final_value(x)

    def script(self) -> str:
        """The ``trial.py`` run by the real manager (``python trial.py`` in the trial code directory)."""
        final = '{"default": x, "other": 1}' if self.metric == "dict" else "x"
        return textwrap.dedent(f"""\
            # Generated from tests.scenarios.behaviours.{self.name}: do not edit.
            import time
            _START = time.time()
            import nni


            def _wait_until(moment):
                delay = _START + moment - time.time()
                if delay > 0:
                    time.sleep(delay)


            params = nni.get_next_parameter()
            x = params["x"]
            for index, moment in enumerate({list(self.intermediate)!r}):
                _wait_until(moment)
                nni.report_intermediate_result(float(x) * (index + 1) / 10)
            _wait_until({self.duration!r})
            if nni.get_sequence_id() in {list(self.fail_sequences)!r}:
                raise RuntimeError("scripted failure of trial #%d" % nni.get_sequence_id())
            nni.report_final_result({final})
        """)


#: 3 s, two intermediate results, final ``x``.
STEADY = TrialBehaviour("STEADY")
#: Trial #0 fails; the others report a dict final metric.
FAIL_FIRST_DICT = TrialBehaviour("FAIL_FIRST_DICT", metric="dict", fail_sequences=(0,))
#: 30 s: still running when the scenario kills it or stops the experiment.
LONG = TrialBehaviour("LONG", duration=30.0)
#: 5 s: outlives a short experiment duration limit.
SLOW = TrialBehaviour("SLOW", duration=5.0)

#: 5 s, intermediate results 1 s apart (an assessor's kill lands before the next one).
PACED = TrialBehaviour("PACED", duration=5.0, intermediate=(2.5, 3.5, 4.5))

#: ``tuner_code/custom_tuners.py`` of :data:`CUSTOM_TUNERS`: two custom tuners (``className``
#: ``custom_tuners.HalvingTuner`` and ``custom_tuners.RaisingTuner``).
CUSTOM_TUNER_MODULE = textwrap.dedent("""\
    # Generated from tests.scenarios.behaviours.CUSTOM_TUNER_MODULE: do not edit.
    import logging

    import nni
    from nni.tuner import Tuner

    _logger = logging.getLogger("nni.custom_tuners")


    class HalvingTuner(Tuner):
        \"\"\"Deterministic: x starts at ``start``, then each suggestion is half the last result plus 0.05.\"\"\"

        def __init__(self, start=0.8):
            self.next_x = start
            self.results = []

        def update_search_space(self, search_space):
            _logger.info("HalvingTuner got a space of %d parameter(s)", len(search_space))

        def generate_parameters(self, parameter_id, **kwargs):
            if len(self.results) >= 3:
                raise nni.NoMoreTrialError("three results are enough")
            return {"x": round(self.next_x, 6)}

        def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
            self.results.append(value)
            self.next_x = value / 2 + 0.05


    class RaisingTuner(Tuner):
        \"\"\"Suggests x = 0.1, 0.2, ... and raises on call ``fail_on``.\"\"\"

        def __init__(self, fail_on=3):
            self.calls = 0
            self.fail_on = fail_on

        def update_search_space(self, search_space):
            pass

        def generate_parameters(self, parameter_id, **kwargs):
            self.calls += 1
            if self.calls == self.fail_on:
                raise ValueError("call %d of generate_parameters fails" % self.calls)
            return {"x": round(0.1 * self.calls, 6)}

        def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
            pass
""")
#: 3 s trials (as STEADY) with the custom tuners' module in the code directory.
CUSTOM_TUNERS = TrialBehaviour("CUSTOM_TUNERS", files=(("tuner_code/custom_tuners.py", CUSTOM_TUNER_MODULE),))

BEHAVIOURS: Dict[str, TrialBehaviour] = {b.name: b for b in (STEADY, FAIL_FIRST_DICT, LONG, SLOW, PACED,
                                                             CUSTOM_TUNERS)}


def behaviour(name: str) -> TrialBehaviour:
    """The behaviour called ``name`` (KeyError when there is none)."""
    return BEHAVIOURS[name]
