"""``dispatcher.log`` of a simulated dispatcher: lines as NNI's dispatcher process writes them.

The real dispatcher logs through Python's ``logging`` into ``<experiment dir>/log/dispatcher.log``,
one line per record (``[2026-12-04 16:22:51] INFO (nni.runtime.msg_dispatcher/Thread-1
(command_queue_worker)) Initial search space: ...``) followed by the traceback, if any. The fake
writes the same lines, stamped with the fake's clock, and keeps them in memory (the fake manager
server also writes them to the file).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, List, Optional

__all__ = ["DispatcherLog", "MAIN_THREAD", "DEFAULT_WORKER", "ASSESSOR_WORKER", "format_line"]

#: Thread names of NNI's dispatcher process, as they appear in its log lines.
MAIN_THREAD = "MainThread"
DEFAULT_WORKER = "Thread-1 (command_queue_worker)"
ASSESSOR_WORKER = "Thread-2 (command_queue_worker)"

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_line(epoch_seconds: float, level: str, logger: str, thread: str, message: str,
                traceback_text: Optional[str] = None) -> str:
    """One ``dispatcher.log`` entry (several lines when there is a traceback), without the last newline."""
    stamp = time.strftime(_TIME_FORMAT, time.localtime(epoch_seconds))
    text = f"[{stamp}] {level} ({logger}/{thread}) {message}"
    if traceback_text:
        text += "\n" + traceback_text.rstrip("\n")
    return text


class DispatcherLog:
    """The lines of one dispatcher process's log; ``clock()`` gives epoch seconds on the fake's clock.

    ``sink``, when given, receives every entry as it is written (the fake server appends them to
    ``dispatcher.log``).
    """

    def __init__(self, clock: Callable[[], float], sink: Optional[Callable[[str], None]] = None) -> None:
        self._clock = clock
        self._sink = sink
        self.entries: List[str] = []

    def write(self, level: str, logger: str, thread: str, message: str, traceback_text: Optional[str] = None) -> None:
        """Add one entry."""
        entry = format_line(self._clock(), level, logger, thread, message, traceback_text)
        self.entries.append(entry)
        if self._sink is not None:
            self._sink(entry)

    def record(self, record: logging.LogRecord, thread: str) -> None:
        """Add a ``logging`` record written by the dispatcher's code (its traceback included)."""
        try:
            message = record.getMessage()
        except Exception as error:  # noqa: BLE001 - a bad format string must not break the fake
            message = f"{record.msg!r} (message could not be formatted: {error})"
        traceback_text = None
        if record.exc_info and record.exc_info[0] is not None:
            traceback_text = logging.Formatter().formatException(record.exc_info)
        elif record.exc_text:
            traceback_text = record.exc_text
        self.write(record.levelname, record.name, thread, message, traceback_text)

    @property
    def text(self) -> str:
        """The whole log, as the file holds it."""
        return "".join(entry + "\n" for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)
