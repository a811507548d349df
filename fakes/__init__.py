"""An in-memory fake of NNI 3.0's manager, for hermetic tests and offline development.

``FakeManager`` is a backend for :class:`nni_exp.Experiment`::

    from nni_exp import Experiment
    from fakes import FakeManager

    fake = FakeManager(trial=lambda params, trial: params["x"] ** 2, seed=1)
    with Experiment(config, backend=fake) as exp:
        exp.run()

``FakeManager(patch_time="sleep")`` makes ``time.sleep`` in the calling thread move the fake's
virtual clock (:mod:`fakes.time_patch`), for code that waits with the ``time`` module.
"""

from .clock import ScaledRealClock, VirtualClock
from .manager import FakeManager, FakeManifest, FakeProcess
from .simulator import ManagerTiming
from .time_patch import PATCH_TIME_MODES, TimePatch
from .trials import DEFAULT_TRIAL_DURATION, TrialContext, default_trial

__all__ = [
    "FakeManager",
    "FakeManifest",
    "FakeProcess",
    "ManagerTiming",
    "VirtualClock",
    "ScaledRealClock",
    "TimePatch",
    "PATCH_TIME_MODES",
    "TrialContext",
    "default_trial",
    "DEFAULT_TRIAL_DURATION",
]
