"""Trial job ids: the rule every id an NNI manager produces follows, and URL paths built from them.

NNI 3.0's training services name a trial with ``uniqueString(5)`` (``nni_node/common/utils.js``):
a letter then four letters or digits, e.g. ``kJqzO``. A resumed experiment keeps the ids stored in
its database; customized trials (``POST /trial-jobs``) and imported data get ids the same way, or
none. The rule here is NNI's alphabet, letters and digits, at most :data:`MAX_TRIAL_ID_LENGTH` long:
it accepts every id a manager can produce (and longer made-up ones such as ``doesnotexist``, which
a manager answers as unknown) and refuses whatever would change the URL it is put in (``#``, ``?``,
``/``, ``.``, spaces, ``%`` ...).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from .errors import InvalidTrialIdError
from .reprs import short_repr

__all__ = ["MAX_TRIAL_ID_LENGTH", "is_valid_trial_id", "check_trial_id", "trial_path"]

#: Longest id accepted (NNI's are 5 characters).
MAX_TRIAL_ID_LENGTH = 64
_TRIAL_ID = re.compile(rf"[A-Za-z0-9]{{1,{MAX_TRIAL_ID_LENGTH}}}")


def is_valid_trial_id(trial_job_id: Any) -> bool:
    """True when ``trial_job_id`` is a string of 1 to 64 ASCII letters and digits."""
    return isinstance(trial_job_id, str) and _TRIAL_ID.fullmatch(trial_job_id) is not None


def check_trial_id(trial_job_id: Any, argument: str = "trial_job_id") -> str:
    """Return ``trial_job_id``, or raise :class:`~nni_exp.errors.InvalidTrialIdError` naming it."""
    if not is_valid_trial_id(trial_job_id):
        shown = short_repr(trial_job_id)
        kind = "" if isinstance(trial_job_id, str) else f" (a {type(trial_job_id).__name__})"
        raise InvalidTrialIdError(
            f"{argument} must be an NNI trial job id (1 to {MAX_TRIAL_ID_LENGTH} ASCII letters and digits, "
            f"such as 'kJqzO'), got {shown}{kind}",
            argument, trial_job_id,
        )
    return str(trial_job_id)


def trial_path(route: str, trial_job_id: Any, argument: str = "trial_job_id") -> str:
    """``route/<id>`` for a REST path (``trial_path('/trial-jobs', 'kJqzO')``), the id checked and
    percent-quoted as one path segment."""
    return f"{route.rstrip('/')}/{quote(check_trial_id(trial_job_id, argument), safe='')}"
