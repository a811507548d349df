"""The backend protocol: everything :class:`~nni_exp.Experiment` needs from an NNI manager.

A backend answers four kinds of question:

* **lifecycle**: spawn a manager process for an action (create / resume / view), find a running
  one by pid (``connect``), tell whether a port is free; a spawned manager is a
  :class:`ManagerProcess` (pid, alive?, wait, kill);
* **REST**: ``request(method, port, path, body)`` returns the decoded JSON answer or raises a typed
  error of :mod:`nni_exp.errors`;
* **the experiments manifest** (``~/nni-experiments/.experiment``): read, add and update records,
  and load the stored config of a stopped experiment;
* **time**: ``clock`` is what Experiment sleeps on between polls, so a fake backend can make
  waiting free.

The real backend implements it with a subprocess and HTTP; :class:`fakes.FakeManager` with an
in-memory simulation. The launch and stop sequences built on top live in
:mod:`nni_exp.launcher`, once for every backend.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional, Protocol, runtime_checkable

__all__ = [
    "RunMode",
    "ManagerArgs",
    "ManagerProcess",
    "Manifest",
    "Clock",
    "Backend",
    "ACTIONS",
]

#: The values of the manager's ``--action`` argument.
ACTIONS = ("create", "resume", "view")


class RunMode(Enum):
    """How a manager process relates to the Python process that started it.

    - ``Background``: stopped when the Python process exits; its log is not printed (default).
    - ``Foreground``: stopped when the Python process exits; its log is printed to stdout.
    - ``Detach``: keeps running after the Python process exits; output goes to files under the
      experiment directory.
    """

    Background = "background"
    Foreground = "foreground"
    Detach = "detach"


@dataclass(frozen=True)
class ManagerArgs:
    """The NNI manager's command line (``node main.js --port ... --experiment-id ...``)."""

    port: int
    experiment_id: str
    action: str
    mode: str
    experiments_directory: str
    log_level: str
    foreground: bool = False
    url_prefix: Optional[str] = None
    tuner_command_channel: Optional[str] = None
    python_interpreter: str = field(default=sys.executable)

    def to_argv(self) -> List[str]:
        """The arguments in NNI's order: ``--port P --experiment-id ID ...``."""
        argv = [
            "--port", str(self.port),
            "--experiment-id", self.experiment_id,
            "--action", self.action,
            "--mode", self.mode,
            "--experiments-directory", self.experiments_directory,
            "--log-level", self.log_level,
            "--foreground", "true" if self.foreground else "false",
        ]
        if self.url_prefix:
            argv += ["--url-prefix", self.url_prefix]
        if self.tuner_command_channel:
            argv += ["--tuner-command-channel", self.tuner_command_channel]
        argv += ["--python-interpreter", self.python_interpreter]
        return argv


@runtime_checkable
class ManagerProcess(Protocol):
    """A running (or finished) manager process."""

    @property
    def pid(self) -> int: ...

    def is_alive(self) -> bool: ...

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait for the process to exit; its exit code, or None if it still runs after ``timeout``."""
        ...

    def kill(self) -> None:
        """Kill the manager and every process it started (tuner, trials). Idempotent."""
        ...

    def log_tail(self) -> str:
        """The end of the manager's stderr log, for error messages ('' when there is none)."""
        ...


@runtime_checkable
class Manifest(Protocol):
    """The experiments manifest: one record per experiment id, in NNI's format."""

    def records(self) -> Dict[str, Dict[str, Any]]:
        """All records, keyed by experiment id, with crashed managers marked STOPPED."""
        ...

    def add(self, record: Dict[str, Any]) -> None:
        """Add a record or replace the one with the same ``id``."""
        ...

    def update(self, experiment_id: str, key: str, value: Any) -> bool:
        """Set (or, with None, delete) one key of a record; False when there is no such record."""
        ...


@runtime_checkable
class Clock(Protocol):
    """Time as a backend sees it."""

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """What :class:`~nni_exp.Experiment` talks to. See the module docstring."""

    #: Short name shown in messages (``'nni'``, ``'fake'`` ...).
    name: str
    #: Seconds between two status polls while ``run()`` waits for completion.
    poll_interval: float
    #: How long to wait for a spawned manager to answer ``/check-status``.
    startup_timeout: float

    @property
    def clock(self) -> Clock: ...

    @property
    def manifest(self) -> Manifest: ...

    def spawn_manager(self, args: ManagerArgs, run_mode: RunMode) -> ManagerProcess:
        """Start a manager process with these arguments; it does not need to be ready yet."""
        ...

    def attach(self, pid: int) -> Optional[ManagerProcess]:
        """A handle on the running manager with this pid, or None if there is none."""
        ...

    def is_port_idle(self, port: int) -> bool: ...

    def request(self, method: str, port: int, path: str, body: Any = None, *,
                url_prefix: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """Send one REST call to the manager on ``port``.

        ``path`` is relative to ``/api/v1/nni`` and may carry a query string. Returns the decoded
        JSON answer (None for an empty body, and always None for PUT and DELETE, as NNI's client
        does) or raises an error of :mod:`nni_exp.errors`.
        """
        ...

    def load_stopped_config(self, experiment_id: str,
                            experiments_directory: Optional[str]) -> Optional[Dict[str, Any]]:
        """The config (camelCase JSON) stored for a stopped experiment, as NNI loads it.

        With ``experiments_directory`` the store under it is read directly; without it the
        manifest decides where, and only a STOPPED experiment is loaded. None when not found.
        """
        ...
