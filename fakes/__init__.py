"""An in-memory fake of NNI 3.0's manager, for hermetic tests and offline development.

``FakeManager`` is a backend for :class:`nni_exp.Experiment`::

    from nni_exp import Experiment
    from fakes import FakeManager

    fake = FakeManager(trial=lambda params, trial: params["x"] ** 2, seed=1)
    with Experiment(config, backend=fake) as exp:
        exp.run()
"""

from .clock import ScaledRealClock, VirtualClock
from .manager import FakeManager, FakeManifest, FakeProcess
from .simulator import ManagerTiming
from .trials import DEFAULT_TRIAL_DURATION, TrialContext, default_trial

__all__ = [
    "FakeManager",
    "FakeManifest",
    "FakeProcess",
    "ManagerTiming",
    "VirtualClock",
    "ScaledRealClock",
    "TrialContext",
    "default_trial",
    "DEFAULT_TRIAL_DURATION",
]
