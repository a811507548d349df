"""Run a fake trial function as a real NNI trial: ``python -m nni_exp.testing.bridge [--trial M:F]``.

The plugin's ``nni_config`` uses this module as the trial command when the run's backend is the
real manager (``--nni-backend=nni``), so that the trial function a test gives the fake
(``@pytest.mark.nni_fake(trial=...)``, ``fn(params, trial)``) also runs on NNI 3.0:

* the parameters come from ``nni.get_next_parameter()``;
* ``trial.sleep(s)`` really sleeps ``s / time_scale`` seconds (``--time-scale``, default 100);
* ``trial.report_intermediate_result(v)`` is ``nni.report_intermediate_result(v)``;
* ``trial.log(line)`` prints the line (NNI keeps it in ``trial.log``);
* the returned value is reported with ``nni.report_final_result``; raising fails the trial.

Without ``--trial``, :func:`fakes.trials.default_trial` runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any, Dict, Optional

from fakes.trials import TrialContext

__all__ = ["RealTrialContext", "main"]


class RealTrialContext(TrialContext):
    """The ``trial`` argument of a trial function running under the real NNI manager."""

    def __init__(self, parameters: Dict[str, Any], time_scale: float, nni_module: Any) -> None:
        super().__init__(parameters, str(nni_module.get_trial_id()), int(nni_module.get_sequence_id()),
                         str(nni_module.get_experiment_id()), None)
        self.time_scale = time_scale
        self._nni = nni_module

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        time.sleep(seconds / self.time_scale)

    def report_intermediate_result(self, value: Any) -> None:
        super().report_intermediate_result(value)
        self._nni.report_intermediate_result(value)

    def log(self, message: str) -> None:
        super().log(message)
        print(message, flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one trial; the process exit code (an exception fails the trial, as in NNI)."""
    import nni

    from fakes.cli_args import load_trial_function
    from fakes.trials import default_trial

    parser = argparse.ArgumentParser(prog="python -m nni_exp.testing.bridge")
    parser.add_argument("--trial", default=None, help="module:function of the trial function")
    parser.add_argument("--time-scale", type=float, default=100.0, help="virtual seconds per real second")
    args = parser.parse_args(argv)
    function = load_trial_function(args.trial) or default_trial
    parameters = nni.get_next_parameter() or {}
    context = RealTrialContext(parameters, args.time_scale, nni)
    result = function(dict(parameters), context)
    if result is not None:
        nni.report_final_result(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
