"""The fake's local training service: real trial processes behind NNI's trial command channel.

:class:`LocalTrialService` starts a process per trial (:class:`~.process.TrialProcess`), answers its
channel (:mod:`.channel`) and turns everything a trial does into :class:`TrialMessage` objects,
stamped with the real time they happened, that the simulated manager consumes on its own clock
(:meth:`LocalTrialService.next_message`). The service never decides anything about the
experiment: statuses, metrics and timing stay with the manager.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from time import monotonic as _real_monotonic  # taken before any time patch (fakes.time_patch)
from typing import Any, Callable, Deque, Dict, Mapping, Optional

from .channel import ENVIRONMENT_ID, TrialChannelHub, TrialChannelServer
from .process import KILL_GRACE, TrialProcess

__all__ = ["LocalTrialService", "TrialMessage", "TrialStartError", "trial_output_directory"]

_STANDIN_ENV = "NNI_EXP_STANDIN_DIR"


#: Services with trial processes that may still run: stopped when the interpreter exits, so that a
#: script that never closes its fake leaves no trial behind.
_OPEN_SERVICES: weakref.WeakSet[LocalTrialService] = weakref.WeakSet()


@atexit.register
def _close_open_services() -> None:
    for service in list(_OPEN_SERVICES):
        service.close(timeout=5.0)


class TrialStartError(RuntimeError):
    """A trial process could not be started (its code directory is missing, say)."""


@dataclass(frozen=True)
class TrialMessage:
    """Something a trial did: ``kind`` is ``"request_parameter"``, ``"metric"`` (``payload``: the
    metric JSON the trial sent) or ``"exit"`` (``exit_code``: None when a signal ended it)."""

    trial_id: str
    kind: str
    real_time: float
    payload: Any = None
    exit_code: Optional[int] = None


def trial_output_directory(experiment_root: str, trial_id: str) -> Path:
    """Where the local service puts a trial's ``trial.log``, ``trial.stdout`` and ``trial.stderr``."""
    return Path(experiment_root) / "environments" / ENVIRONMENT_ID / "trials" / trial_id


class LocalTrialService:
    """Runs ``command`` once per trial in ``code_directory``, as NNI 3.0's local service does.

    ``channel_url(trial_id)`` gives a trial's ``NNI_TRIAL_COMMAND_CHANNEL``; without it the service
    serves its channel on a loopback port of its own (the in-memory fake has no HTTP server).
    """

    def __init__(self, experiment_id: str, experiment_root: str, command: str, code_directory: str, *,
                 channel_url: Optional[Callable[[str], str]] = None, kill_grace: float = KILL_GRACE,
                 extra_environment: Optional[Mapping[str, str]] = None) -> None:
        self.experiment_id = experiment_id
        self.experiment_root = experiment_root
        self.command = command
        self.code_directory = Path(code_directory)
        self.kill_grace = kill_grace
        self._extra_environment = dict(extra_environment or {})
        self._messages: Deque[TrialMessage] = deque()
        self._condition = threading.Condition()
        self._processes: Dict[str, TrialProcess] = {}
        self._unreported_exits = 0
        self.hub = TrialChannelHub(self._on_command)
        self._server: Optional[TrialChannelServer] = None
        if channel_url is None:
            self._server = TrialChannelServer(self.hub)
            channel_url = self._server.url
        self._channel_url = channel_url
        self._standin_root = Path(tempfile.mkdtemp(prefix="nni_exp_standin_"))
        self._install_standin()
        self._closed = False
        _OPEN_SERVICES.add(self)

    # ------------------------------------------------------------------ trials

    def start_trial(self, trial_id: str, sequence_id: int) -> Path:
        """Start the trial's process; its output directory. Raises :class:`TrialStartError`."""
        if self._closed:
            raise TrialStartError("the training service is stopped")
        output = trial_output_directory(self.experiment_root, trial_id)
        if not self.code_directory.is_dir():
            raise TrialStartError(f"trialCodeDirectory {str(self.code_directory)!r} is not a directory")
        try:
            process = TrialProcess(trial_id, self.command, self.code_directory, output,
                                   self._environment(trial_id, sequence_id, output), self._on_exit, self.kill_grace)
        except OSError as error:
            raise TrialStartError(f"cannot start trial {trial_id}: {error}") from error
        with self._condition:
            self._processes[trial_id] = process
            self._unreported_exits += 1
        return output

    def send_parameter(self, trial_id: str, parameter: str) -> None:
        """Answer a trial's parameter request with the form's ``hyperParameters.value``."""
        self.hub.send(trial_id, {"type": "parameter", "parameter": parameter})

    def stop_trial(self, trial_id: str) -> None:
        """Stop a running trial (SIGINT to its group, SIGKILL after the grace period)."""
        process = self._processes.get(trial_id)
        if process is not None:
            process.stop()

    def is_running(self, trial_id: str) -> bool:
        process = self._processes.get(trial_id)
        return process is not None and process.running

    @property
    def busy(self) -> bool:
        """Some trial process runs, or its end has not been consumed yet."""
        with self._condition:
            return self._unreported_exits > 0 or bool(self._messages)

    def next_message(self, real_deadline: float) -> Optional[TrialMessage]:
        """The oldest message that happened by ``real_deadline`` (``time.monotonic()`` seconds),
        waiting for one until then; None when none came."""
        with self._condition:
            while True:
                if self._messages and self._messages[0].real_time <= real_deadline:
                    message = self._messages.popleft()
                    if message.kind == "exit":
                        self._unreported_exits -= 1
                    return message
                remaining = real_deadline - _real_monotonic()
                if remaining <= 0 or self._messages:
                    return None
                self._condition.wait(remaining)

    def close(self, timeout: float = 10.0) -> None:
        """Kill every trial process group, wait for them, stop the channel and remove the stand-in."""
        if self._closed:
            return
        self._closed = True
        _OPEN_SERVICES.discard(self)
        running = [process for process in self._processes.values() if process.running]
        for process in running:
            process.stop()
        for process in running:
            if not process.wait(self.kill_grace + 1.0):
                process.kill_now(timeout)
        if self._server is not None:
            self._server.close()
        else:
            self.hub.close()
        shutil.rmtree(self._standin_root, ignore_errors=True)

    # ------------------------------------------------------------------ internals

    def _post(self, message: TrialMessage) -> None:
        with self._condition:
            self._messages.append(message)
            self._condition.notify_all()

    def _on_command(self, trial_id: str, command: Dict[str, Any], real_time: float) -> None:
        kind = command.get("type")
        if kind == "request_parameter":
            self._post(TrialMessage(trial_id, "request_parameter", real_time))
        elif kind == "metric":
            self._post(TrialMessage(trial_id, "metric", real_time, payload=command.get("metric")))

    def _on_exit(self, trial_id: str, exit_code: Optional[int], real_time: float) -> None:
        self._post(TrialMessage(trial_id, "exit", real_time, exit_code=exit_code))

    def _environment(self, trial_id: str, sequence_id: int, output: Path) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(self._extra_environment)
        python_path = [str(self._standin_root / "boot")]
        if env.get("PYTHONPATH"):
            python_path.append(env["PYTHONPATH"])
        env.update({
            "PYTHONPATH": os.pathsep.join(python_path),
            _STANDIN_ENV: str(self._standin_root / "standin"),
            "NNI_CODE_DIR": str(self.code_directory),
            "NNI_EXP_ID": self.experiment_id,
            "NNI_OUTPUT_DIR": str(output),
            "NNI_PLATFORM": "local",
            "NNI_SYS_DIR": str(output),
            "NNI_TRIAL_COMMAND_CHANNEL": self._channel_url(trial_id),
            "NNI_TRIAL_JOB_ID": trial_id,
            "NNI_TRIAL_SEQ_ID": str(sequence_id),
        })
        return env

    def _install_standin(self) -> None:
        here = Path(__file__).resolve().parent
        (self._standin_root / "boot").mkdir()
        (self._standin_root / "standin" / "nni").mkdir(parents=True)
        shutil.copyfile(here / "standin_boot.py", self._standin_root / "boot" / "sitecustomize.py")
        shutil.copyfile(here / "standin_nni.py", self._standin_root / "standin" / "nni" / "__init__.py")
