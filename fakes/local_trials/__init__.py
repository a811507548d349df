"""Real trials for the fake manager: NNI 3.0's local training service and trial command channel.

With ``FakeManager(real_trials=True)`` (and on the fake manager server with ``--real-trials``), each
trial runs the config's ``trialCommand`` for real, as NNI's local service runs it; see
:class:`LocalTrialService`.
"""

from .channel import TrialChannelHub, TrialChannelServer
from .process import TrialProcess
from .service import LocalTrialService, TrialMessage, TrialStartError, trial_output_directory

__all__ = ["LocalTrialService", "TrialChannelHub", "TrialChannelServer", "TrialMessage", "TrialProcess",
           "TrialStartError", "trial_output_directory"]
