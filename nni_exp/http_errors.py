"""The errors of :mod:`nni_exp.errors` that subclass ``requests`` exceptions, as NNI's client raised
them (``requests.HTTPError`` for a non-2xx answer, ``requests.ConnectionError`` ...).

Import them from :mod:`nni_exp.errors`, which loads this module (and ``requests``) on first use.
Their ``__module__`` is ``nni_exp.errors``, where they are documented, shown and pickled.
"""

from __future__ import annotations

from typing import Any

import requests

from .error_base import NniExpError
from .errors import HTTP_ERRORS

__all__ = sorted(HTTP_ERRORS)


class ManagerError(NniExpError, requests.HTTPError):
    """The manager answered a REST call with a non-2xx status (NNI: requests.HTTPError).

    Attributes: ``status_code``, ``error`` (the message of the manager's ``{"error": ...}``
    envelope, or the raw body), ``method`` and ``url``.
    """

    __module__ = "nni_exp.errors"

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        error: str,
        response: Any = None,
    ) -> None:
        message = f"{method} {url} failed with HTTP {status_code}: {error}"
        super().__init__(message, response=response)
        self.method = method
        self.url = url
        self.status_code = status_code
        self.error = error


class TrialNotFoundError(ManagerError, TypeError):
    """No trial job has the given id.

    NNI raised ``TypeError`` from ``get_trial_job`` and ``requests.HTTPError`` from
    ``kill_trial_job`` in this case; this error is both.
    """

    __module__ = "nni_exp.errors"

    def __init__(self, trial_job_id: str, method: str = "GET", url: str = "", status_code: int = 404,
                 response: Any = None) -> None:
        super().__init__(method, url, status_code, f"trial job {trial_job_id!r} not found", response)
        self.trial_job_id = trial_job_id


class ReadonlyExperimentError(ManagerError):
    """The experiment is opened with ``view()`` and refuses changes."""

    __module__ = "nni_exp.errors"


class TrialLimitReachedError(ManagerError):
    """A customized trial was refused because ``maxTrialNumber`` trials were already submitted."""

    __module__ = "nni_exp.errors"


class UnknownUpdateTypeError(ManagerError):
    """``PUT /experiment`` with a missing or unknown ``update_type`` (the real manager never answers)."""

    __module__ = "nni_exp.errors"


class ManagerUnreachableError(NniExpError, requests.ConnectionError):
    """Nothing answers on the manager's port (NNI: requests.ConnectionError)."""

    __module__ = "nni_exp.errors"


class ManagerTimeoutError(NniExpError, requests.ReadTimeout):
    """The manager accepted the connection but did not answer in time (NNI: requests.ReadTimeout)."""

    __module__ = "nni_exp.errors"


class InvalidResponseError(NniExpError, requests.exceptions.JSONDecodeError):
    """The manager answered with a body that is not JSON (NNI: requests.JSONDecodeError)."""

    __module__ = "nni_exp.errors"

    def __init__(self, method: str, url: str, body: str) -> None:
        shown = body if len(body) <= 200 else body[:200] + "..."
        super().__init__(f"{method} {url} answered a non-JSON body: {shown!r}", body, 0)
        self.method = method
        self.url = url
        self.body = body
