"""Typed errors of nni-exp.

Every error subclasses :class:`NniExpError` *and* the exception NNI 3.0 raised in the same
situation (``RuntimeError``, ``ValueError``, ``TypeError`` or a ``requests`` exception), so
``except`` clauses written for ``nni.experiment.Experiment`` keep working.

The errors that subclass ``requests`` exceptions (:data:`HTTP_ERRORS`) live in
:mod:`nni_exp.http_errors` and are loaded, with ``requests``, the first time one of them is named
here (``nni_exp.errors.ManagerError``, ``from nni_exp.errors import ManagerError``): importing
``requests`` takes about 70 ms, which code that never talks HTTP (the in-memory fake) need not pay.
They are the same classes either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .error_base import NniExpError
from .lazy_exports import lazy_exports

__all__ = [
    "NniExpError",
    "HTTP_ERRORS",
    "ConfigError",
    "MissingConfigError",
    "InvalidExperimentIdError",
    "InvalidArgumentError",
    "InvalidTrialIdError",
    "UnknownBackendError",
    "ExperimentNotRunningError",
    "ExperimentNotFoundError",
    "CheckpointError",
    "PortInUseError",
    "ManagerStartError",
    "ManagerError",
    "TrialNotFoundError",
    "ReadonlyExperimentError",
    "TrialLimitReachedError",
    "UnknownUpdateTypeError",
    "ManagerUnreachableError",
    "ManagerTimeoutError",
    "InvalidResponseError",
    "ExperimentStalledError",
    "TimePatchError",
]


class ConfigError(NniExpError, ValueError):
    """An experiment configuration is invalid.

    ``field`` names the offending field when known: as Python writes it (snake_case, dotted for
    nested configs, e.g. ``training_service.machine_list[0].port``) for a config built in code, and
    as the file writes it (camelCase, e.g. ``trainingService.machineList[0].port``) for an error
    about a config file (``load_config_file``, ``ExperimentConfig.load``).

    ``detail`` says what is wrong in the terms of a YAML file, without naming the field (e.g.
    ``expected an integer, got "two" (a string)``); it is what the message of an error about a
    config file shows after the field's name.

    ``written_at`` is set when the bad value was written at another place than ``field`` (a training
    service takes ``trialCommand``... from the experiment when it does not set them): the path of
    that place, in ``field``'s style.

    ``source`` names the config file when the error was restated in that file's terms.
    """

    written_at: Optional[str] = None
    source: Optional[str] = None

    def __init__(self, message: str, field: Optional[str] = None, detail: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail

    def restated(self, message: str, field: Optional[str], source: Optional[str] = None) -> ConfigError:
        """A copy of this error (same class, same attributes) with another message, field and source."""
        copy = type(self).__new__(type(self), message)
        copy.__dict__.update(self.__dict__)
        copy.args = (message,)
        copy.field = field
        copy.source = source
        return copy


class InvalidExperimentIdError(NniExpError, ValueError):
    """An experiment id does not match NNI's rule ``^[A-Za-z0-9_\\-]{1,32}$``."""


class InvalidArgumentError(NniExpError, ValueError):
    """An argument of a public method has a wrong type or value (a port of ``"80"``, a ``run_mode``
    that is no :class:`~nni_exp.RunMode` ...).

    NNI did not check these and failed later, deep inside; nni-exp refuses them before anything is
    sent. ``argument`` names the parameter and ``value`` holds what was passed.
    """

    def __init__(self, message: str, argument: str, value: Any) -> None:
        super().__init__(message)
        self.argument = argument
        self.value = value


class InvalidTrialIdError(InvalidArgumentError, TypeError):
    """A trial job id that no NNI manager can have produced (see :mod:`nni_exp.trial_ids`).

    Raised before anything is sent: such an id would change the URL it is put in (``'kJqzO#x'``
    would address trial ``kJqzO``). A ``ValueError`` (what nni-exp raised before) and a
    ``TypeError`` (what NNI's ``get_trial_job`` raised for an id it did not find).
    """


class UnknownBackendError(NniExpError, ValueError):
    """``backend=`` (or ``NNI_EXP_BACKEND``) names no known backend."""


class ExperimentNotRunningError(NniExpError, RuntimeError):
    """A REST call was made on an experiment whose manager is not running (NNI: RuntimeError)."""


class ExperimentNotFoundError(NniExpError, RuntimeError):
    """resume/view of an experiment id that is not in the experiments manifest."""


class CheckpointError(NniExpError, ValueError):
    """The stored config of a stopped experiment could not be loaded (NNI: ValueError)."""


class PortInUseError(NniExpError, RuntimeError):
    """The manager's port (or port+1 for websocket platforms) is busy (NNI: RuntimeError)."""

    def __init__(self, port: int) -> None:
        super().__init__(f"Port {port} is not idle: another process listens on it")
        self.port = port


class ManagerStartError(NniExpError, RuntimeError):
    """The manager process died or never became ready during start-up.

    ``log_tail`` holds the end of its stderr log when one was available.
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        if log_tail:
            message = f"{message}\n--- manager stderr (tail) ---\n{log_tail}"
        super().__init__(message)
        self.log_tail = log_tail


class ExperimentStalledError(NniExpError, RuntimeError):
    """A client waits on a fake manager that can never change again.

    The fake raises it, naming the cause, where the real manager would leave the client waiting for
    ever (a tuner that stopped after an exception, a manager that will not ask its tuner for more
    trials, ...). Only fakes on a virtual clock detect it.
    """


class TimePatchError(NniExpError, RuntimeError):
    """Patching the ``time`` module for a fake's virtual clock (:mod:`fakes.time_patch`) would mix two
    clocks: the thread already has a patch, the fake already has one, or other code replaced a
    ``time`` function first."""


class MissingConfigError(ConfigError, AssertionError):
    """An experiment was started without a config (NNI: a bare AssertionError)."""


#: The errors defined in :mod:`nni_exp.http_errors` (subclasses of ``requests`` exceptions).
HTTP_ERRORS = frozenset({
    "ManagerError", "TrialNotFoundError", "ReadonlyExperimentError", "TrialLimitReachedError", "UnknownUpdateTypeError",
    "ManagerUnreachableError", "ManagerTimeoutError", "InvalidResponseError",
})

if TYPE_CHECKING:
    from .http_errors import (
        InvalidResponseError,
        ManagerError,
        ManagerTimeoutError,
        ManagerUnreachableError,
        ReadonlyExperimentError,
        TrialLimitReachedError,
        TrialNotFoundError,
        UnknownUpdateTypeError,
    )


#: The errors of :data:`HTTP_ERRORS`, imported on first use (with ``requests``).
__getattr__ = lazy_exports(dict.fromkeys(HTTP_ERRORS, ".http_errors"), globals())
