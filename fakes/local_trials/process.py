"""One trial process, started as NNI 3.0's local training service starts it.

``/bin/bash -c <trialCommand>`` in the trial code directory, stdin closed, stdout and stderr to
``trial.stdout`` and ``trial.stderr`` in the trial's output directory, with NNI's trial
environment variables. Unlike the real service (which signals only the shell's pid), the trial
runs in its own session and stopping it signals the whole process group: SIGINT, then SIGKILL after
a grace period, so nothing the trial started outlives it. When the trial's main process exits, what
is left of its group is killed too.

The trial is a child of this process and its exit code is read when it is reaped: code that reaps
other processes' children (``os.wait()``, ``psutil.wait_procs`` on a trial) takes that exit code
away, and the trial then counts as exit code 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from time import monotonic as _real_monotonic  # taken before any time patch (fakes.time_patch)
from typing import Callable, Dict, Optional

__all__ = ["TrialProcess", "ExitCallback", "KILL_GRACE"]

#: Seconds between SIGINT and SIGKILL when a trial is stopped (the local service's value).
KILL_GRACE = 5.0

#: ``on_exit(trial_id, exit_code, real_monotonic_time)``; ``exit_code`` None: ended by a signal.
ExitCallback = Callable[[str, Optional[int], float], None]


class TrialProcess:
    """A running trial command; :meth:`stop` ends it, :attr:`exit_code` tells how it ended."""

    def __init__(self, trial_id: str, command: str, code_directory: Path, output_directory: Path,
                 environment: Dict[str, str], on_exit: ExitCallback, kill_grace: float = KILL_GRACE) -> None:
        self.trial_id = trial_id
        self.kill_grace = kill_grace
        self._on_exit = on_exit
        self._stop_requested = threading.Event()
        self._exited = threading.Event()
        self.exit_code: Optional[int] = None
        output_directory.mkdir(parents=True, exist_ok=True)
        with open(output_directory / "trial.stdout", "wb") as stdout, \
                open(output_directory / "trial.stderr", "wb") as stderr:
            self._popen = subprocess.Popen(  # noqa: S603 - running the user's trial command is the point
                ["/bin/bash", "-c", command], cwd=str(code_directory), env=environment,
                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
        self.pid = self._popen.pid
        self._waiter = threading.Thread(target=self._wait, name=f"nni-exp-trial-{trial_id}", daemon=True)
        self._waiter.start()

    @property
    def running(self) -> bool:
        return not self._exited.is_set()

    def stop(self) -> None:
        """SIGINT to the trial's process group now, SIGKILL ``kill_grace`` seconds later if still alive."""
        if self._exited.is_set() or self._stop_requested.is_set():
            return
        self._stop_requested.set()
        self._signal_group(signal.SIGINT)
        threading.Thread(target=self._force_kill, name=f"nni-exp-trial-kill-{self.trial_id}", daemon=True).start()

    def kill_now(self, timeout: float = 10.0) -> None:
        """SIGKILL the whole group and wait for the exit to be recorded (machine shutdown)."""
        self._stop_requested.set()
        self._signal_group(signal.SIGKILL)
        self._exited.wait(timeout)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait for the trial to end; whether it did."""
        return self._exited.wait(timeout)

    def _force_kill(self) -> None:
        if not self._exited.wait(self.kill_grace):
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _wait(self) -> None:
        code = self._popen.wait()
        ended = _real_monotonic()
        self._signal_group(signal.SIGKILL)  # whatever the trial left behind in its group
        self.exit_code = code if code >= 0 else None
        self._exited.set()
        self._on_exit(self.trial_id, self.exit_code, ended)
