"""The output files of a scripted trial, kept as the few values their text is made of.

A scripted trial's ``trial.log`` starts with the line NNI's trial runtime writes when the trial
connects to its command channel; ``trial.stdout`` is empty and ``trial.stderr`` holds what a failing
trial function raised. Each trial's files are read rarely (``/trial-file``, the web UI, storage), while
a run of a million trials keeps a million of them: :class:`ScriptedTrialFiles` renders the text when
it is read, and keeps a fifth of the memory of the rendered strings.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Mapping

__all__ = ["ScriptedTrialFiles", "TRIAL_FILE_NAMES", "log_stamp"]

#: The files a trial writes, in the order the local training service lists them.
TRIAL_FILE_NAMES = ("trial.log", "trial.stdout", "trial.stderr")


@functools.lru_cache(maxsize=64)
def log_stamp(epoch_second: int) -> str:
    """``YYYY-mm-dd HH:MM:SS`` in local time, as NNI's trial runtime stamps its log lines (trials that
    start in the same second share the text)."""
    return f"{datetime.datetime.fromtimestamp(epoch_second):%Y-%m-%d %H:%M:%S}"


class ScriptedTrialFiles(Mapping[str, str]):
    """``{"trial.log": ..., "trial.stdout": "", "trial.stderr": stderr}`` of a scripted trial that
    connected at ``epoch_ms`` (milliseconds since the epoch: the int its record's ``startTime`` holds
    too) to the manager on ``port``. Read-only: what the trial prints later makes a new (plain) dict of
    its files."""

    __slots__ = ("_epoch_ms", "_port", "_trial_job_id", "_stderr")

    def __init__(self, epoch_ms: int, port: int, trial_job_id: str, stderr: str) -> None:
        self._epoch_ms = epoch_ms
        self._port = port
        self._trial_job_id = trial_job_id
        self._stderr = stderr

    def __getitem__(self, name: str) -> str:
        if name == "trial.log":
            return (f"[{log_stamp(self._epoch_ms // 1000)}] INFO (nni.runtime.trial_command_channel.v3/MainThread) "
                    f"Connect to trial command channel http://localhost:{self._port}/env/local-env/"
                    f"{self._trial_job_id}\n")
        if name == "trial.stdout":
            return ""
        if name == "trial.stderr":
            return self._stderr
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(TRIAL_FILE_NAMES)

    def __len__(self) -> int:
        return len(TRIAL_FILE_NAMES)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"
