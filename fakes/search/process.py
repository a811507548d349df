"""``DispatcherProcess``: what the fake manager talks to, a simulated NNI dispatcher process.

NNI's manager starts a dispatcher process ("the tuner") and exchanges the commands of
:mod:`fakes.search.commands` with it. This base class reproduces how that process treats them
(``nni/runtime/msg_dispatcher_base.py``), whatever algorithm implementation sits behind it:

* its main loop decodes each incoming command and hands it to one of two worker threads: trial ends
  and ``PERIODICAL`` metrics to the assessor's worker, everything else to the default worker;
  ``TE`` ends the process;
* a worker whose command raises logs the traceback and stops; the other worker goes on. The main
  loop notices at the *next* command it receives (which it still hands to its worker) and then
  exits. The manager is not told: it stays ``RUNNING`` with ``errors: []``, trials it already holds
  run to their end, and every later command goes nowhere;
* a process that was killed answers nothing at all (what the manager then does is the manager's
  business: :meth:`fakes.simulator.SimulatedManager.kill_dispatcher`).

The workers of the real process run concurrently; here each command is handled when it arrives, so
the order is the order the manager sent them. Answers go out through ``emit(command, content)``;
the manager delivers them after its tuner latency.
"""

from __future__ import annotations

import traceback
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Set, Tuple

from . import commands as cmd
from .log import ASSESSOR_WORKER, DEFAULT_WORKER, MAIN_THREAD, DispatcherLog

__all__ = ["DispatcherProcess", "SearchInfo", "SearchStartError", "InjectedTunerError"]

_DISPATCHER_LOGGER = "nni.runtime.msg_dispatcher_base"
_COMMAND_NAMES = tuple(sorted(cmd.TO_DISPATCHER))
_COMMAND_INDEXES = {name: index for index, name in enumerate(_COMMAND_NAMES)}


class InjectedTunerError(RuntimeError):
    """The error raised by the ``tuner_error`` fault (see :mod:`nni_exp.testing.faults`)."""


@dataclass(frozen=True)
class SearchInfo:
    """Which implementation runs an experiment's search, and what it only approximates.

    Attributes
    ----------
    implementation
        ``"nni"``: NNI's own dispatcher and algorithm classes, in-process; ``"own"``: nni-exp's own
        samplers (:mod:`fakes.tuners`).
    tuner
        The tuner (or advisor) as configured: its built-in name, custom class name, or the override.
    assessor
        The assessor as configured, or None.
    approximations
        One sentence per configured algorithm that does not run as NNI runs it (empty with ``"nni"``).
    """

    implementation: str
    tuner: str
    assessor: Optional[str] = None
    approximations: Tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for logs: the implementation, the algorithms, and each approximation."""
        what = f"tuner {self.tuner}" + (f", assessor {self.assessor}" if self.assessor else "")
        if self.implementation == "nni":
            return f"search: NNI's own dispatcher and algorithms, in-process ({what})"
        text = f"search: nni-exp's own samplers ({what})"
        if self.approximations:
            text += "; approximated: " + "; ".join(self.approximations)
        return text


class SearchStartError(Exception):
    """The dispatcher process could not create its algorithms (it exits before connecting).

    ``log`` holds the dispatcher log written so far (the traceback included); ``info`` says which
    implementation tried.
    """

    def __init__(self, message: str, log: DispatcherLog, info: Optional[SearchInfo] = None) -> None:
        super().__init__(message)
        self.log = log
        self.info = info


class DispatcherProcess:
    """A simulated dispatcher process (see the module docstring). Subclasses implement
    :meth:`_decode` and :meth:`_process` (and may override :meth:`_on_exit`).

    ``fail_after``: the ``tuner_error`` fault; the first request for trials once this many
    parameter sets went out raises :class:`InjectedTunerError` in the worker.
    """

    #: ``"nni"`` or ``"own"``.
    implementation = ""

    def __init__(self, emit: cmd.Emit, log: DispatcherLog, info: SearchInfo, *,
                 fail_after: Optional[int] = None) -> None:
        self._emit = emit
        self.log = log
        self.info = info
        self.fail_after = fail_after
        #: ``running``, ``exited`` (its main loop ended: TE, or a worker had failed) or ``killed``.
        self.state = "running"
        #: The exception that stopped a worker (its type and message), if one did.
        self.failure: Optional[str] = None
        #: Parameter sets sent (``TR`` commands).
        self.parameters_sent = 0
        self._dead_workers: Set[str] = set()
        self._thread = MAIN_THREAD
        #: The commands received from the manager, in order, as indexes into ``_COMMAND_NAMES``: a
        #: byte each instead of a list's pointer (a run of a million trials receives two million).
        self._received = array("B")
        #: The manager's own string for a trial id it sends (set by the manager; see :meth:`deliver`).
        self.same_trial_id: Callable[[str], str] = str

    @property
    def received(self) -> List[str]:
        """The commands received from the manager, in order (their names; a new list)."""
        return [_COMMAND_NAMES[index] for index in self._received]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.state} ({self.info.tuner})>"

    @property
    def alive(self) -> bool:
        """The process still reads commands."""
        return self.state == "running"

    @property
    def thread(self) -> str:
        """The name of the dispatcher thread working now (for log lines)."""
        return self._thread

    # ------------------------------------------------------------------ the main loop

    def deliver(self, command: str, content: str) -> bool:
        """The manager sent ``command`` with ``content``; False when nobody read it."""
        if command not in cmd.TO_DISPATCHER:
            raise ValueError(f"{command!r} is not a command of the manager to its dispatcher")
        if not self.alive:
            return False
        if command == cmd.PING:
            return True
        self._received.append(_COMMAND_INDEXES[command])
        try:
            data = self._decode(command, content) if content else content
        except Exception:  # noqa: BLE001 - the real main loop dies and reports the traceback
            self._main_loop_failed(traceback.format_exc())
            return True
        if type(data) is dict:
            # The decoded trial id becomes the manager's equal string: NNI's dispatcher keeps the id of
            # every ended trial, and a copy per trial is 54 bytes of a million-trial run.
            trial_job_id = data.get("trial_job_id")
            if type(trial_job_id) is str:
                data["trial_job_id"] = self.same_trial_id(trial_job_id)
        if command == cmd.TERMINATE:
            self._exit()
            return True
        worker = ASSESSOR_WORKER if command in cmd.ASSESSOR_QUEUE_COMMANDS or (
            command == cmd.REPORT_METRIC_DATA and isinstance(data, dict) and data.get("type") == "PERIODICAL"
        ) else DEFAULT_WORKER
        exit_after = bool(self._dead_workers)
        if worker not in self._dead_workers:
            self._work(worker, command, data)
        if exit_after:
            self._exit()
        return True

    def _work(self, worker: str, command: str, data: Any) -> None:
        self._thread = worker
        try:
            if command == cmd.REQUEST_TRIAL_JOBS and self.fail_after is not None \
                    and self.parameters_sent >= self.fail_after:
                raise InjectedTunerError(f"injected fault: tuner crashed after {self.fail_after} parameter set(s)")
            self._process(command, data)
        except Exception as error:  # noqa: BLE001 - a worker that raises stops, as NNI's do
            self.failure = f"{type(error).__name__}: {error}"
            self._dead_workers.add(worker)
            self.log.write("ERROR", _DISPATCHER_LOGGER, worker, str(error), traceback.format_exc())
        finally:
            self._thread = MAIN_THREAD

    def send(self, command: str, content: str) -> None:
        """Send a command to the manager (what the algorithm code calls)."""
        if command not in cmd.FROM_DISPATCHER:
            raise ValueError(f"{command!r} is not a command of a dispatcher to its manager")
        if command == cmd.NEW_TRIAL_JOB:
            self.parameters_sent += 1
        self._emit(command, content)

    def _main_loop_failed(self, traceback_text: str) -> None:
        """The main loop raised (a command it could not decode): NNI reports ``ER`` and exits."""
        last = traceback_text.strip().splitlines()[-1] if traceback_text.strip() else "error"
        self.failure = last
        self.log.write("ERROR", "nni.main", MAIN_THREAD, last, traceback_text)
        self.send(cmd.ERROR, traceback_text)
        self._exit()

    def _exit(self) -> None:
        # NNI's own spelling of its last line is kept: tools grep the log for it.
        self.log.write("INFO", _DISPATCHER_LOGGER, MAIN_THREAD, "Dispatcher exiting...")
        self.state = "exited"
        self.log.write("INFO", _DISPATCHER_LOGGER, MAIN_THREAD, "Dispatcher terminiated")
        self._on_exit()

    def kill(self) -> None:
        """The process dies at once (SIGKILL): no more answers, nothing cleaned up."""
        self.state = "killed"

    # ------------------------------------------------------------------ for subclasses

    def _decode(self, command: str, content: str) -> Any:
        """A command's content as the dispatcher's main loop decodes it."""
        raise NotImplementedError

    def _process(self, command: str, data: Any) -> None:
        """Handle one decoded command in a worker; raising stops that worker."""
        raise NotImplementedError

    def _on_exit(self) -> None:
        """The process ends normally (after its main loop)."""
