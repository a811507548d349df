"""The output files of a scripted trial, kept as the few values their text is made of.

A scripted trial's ``trial.log`` starts with the line NNI's trial runtime writes when the trial
connects to its command channel; ``trial.stdout`` is empty and ``trial.stderr`` holds what a failing
trial function raised. Each trial's files are read rarely (``/trial-file``, the web UI, storage), while
a run of a million trials keeps a million of them: :class:`ScriptedTrialFiles` renders the text when
it is read, and :class:`TrialFiles`, the store's table of every trial's files, keeps nothing per trial
but its entry for a scripted trial with an empty ``trial.stderr``: one :class:`ScriptedLog` stands for
all of a manager's, and the trial's start time is read from its record.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Callable, Dict, Tuple, Union

__all__ = ["ScriptedTrialFiles", "ScriptedLog", "TrialFiles", "TRIAL_FILE_NAMES", "log_stamp"]

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


class ScriptedLog:
    """What every scripted trial with an empty ``trial.stderr`` of one manager shares: the manager's
    port (the trial's id and start time complete its files)."""

    __slots__ = ("port",)

    def __init__(self, port: int) -> None:
        self.port = port

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.port})"


#: What :class:`TrialFiles` stores for a trial: its files, or the shared part of a scripted trial's.
StoredFiles = Union[Mapping[str, str], ScriptedLog]


class TrialFiles(MutableMapping[str, Mapping[str, str]]):
    """The output files of each trial, by trial id: a mapping of ``{file name: text}`` per trial.

    A value set is kept as it is. :meth:`add_scripted` enters a scripted trial's files without
    keeping anything of its own: they read as :class:`ScriptedTrialFiles` of the trial's start time
    (``start_ms(trial_job_id)``, the record's ``startTime``), a new object on each read.
    """

    def __init__(self, start_ms: Callable[[str], int]) -> None:
        self._start_ms = start_ms
        self._stored: Dict[str, StoredFiles] = {}

    def add_scripted(self, trial_job_id: str, log: ScriptedLog, stderr: str = "") -> None:
        """Enter the files of a scripted trial that connected to ``log.port`` when it started."""
        self._stored[trial_job_id] = log if not stderr else ScriptedTrialFiles(
            self._start_ms(trial_job_id), log.port, trial_job_id, stderr)

    def stored_items(self) -> Iterator[Tuple[str, StoredFiles]]:
        """``(trial id, what is stored)``: the same object until the trial's files change."""
        return iter(list(self._stored.items()))

    def __getitem__(self, trial_job_id: str) -> Mapping[str, str]:
        stored = self._stored[trial_job_id]
        if type(stored) is ScriptedLog:
            return ScriptedTrialFiles(self._start_ms(trial_job_id), stored.port, trial_job_id, "")
        return stored  # type: ignore[return-value]

    def __setitem__(self, trial_job_id: str, files: Mapping[str, str]) -> None:
        self._stored[trial_job_id] = files

    def __delitem__(self, trial_job_id: str) -> None:
        del self._stored[trial_job_id]

    def __contains__(self, trial_job_id: object) -> bool:
        return trial_job_id in self._stored

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"
