"""The experiments manifest on disk: ``~/nni-experiments/.experiment``, in NNI's format.

One JSON object keyed by experiment id, indented by 4 spaces, read and rewritten whole under NNI's
lock protocol: a writer creates ``.experiment.lock.<pid>`` next to the file (``O_EXCL``) only while
no other lock file younger than 2 seconds exists, and deletes it when done. NNI's Python tools and
its Node manager follow the same protocol, so ``nnictl experiment list``, NNI's
``Experiment.connect`` and nni-exp all see the same records.

NNI checks for other lock files only *before* creating its own, so two writers can both go ahead.
This module also checks *after* creating its lock and backs off when another fresh lock appeared,
so concurrent nni-exp writers never lose a record.
"""

from __future__ import annotations

import glob
import json
import os
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Union

__all__ = ["ManifestFile", "default_home_directory", "HOME_ENV_VAR", "LOCK_STALE_SECONDS"]

#: Overrides the directory holding ``.experiment`` (default ``~/nni-experiments``), e.g. per xdist worker.
HOME_ENV_VAR = "NNI_EXP_HOME"
#: A lock file older than this is ignored (NNI's value).
LOCK_STALE_SECONDS = 2.0
_RETRY_INTERVAL = 0.01
_TIMEOUT = 60.0


def default_home_directory() -> Path:
    """``$NNI_EXP_HOME`` when set, else ``~/nni-experiments`` (where NNI keeps its manifest)."""
    override = os.environ.get(HOME_ENV_VAR)
    return Path(override).expanduser() if override else Path.home() / "nni-experiments"


class ManifestFile:
    """Read and write the manifest file under ``home_directory`` (see the module docstring)."""

    def __init__(self, home_directory: Union[str, Path, None] = None,
                 is_alive: Optional[Callable[[int], bool]] = None) -> None:
        self.home_directory = Path(home_directory) if home_directory is not None else default_home_directory()
        self.path = self.home_directory / ".experiment"
        self._is_alive = is_alive
        self._thread_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ManifestFile {self.path}>"

    # -- reading
    def read(self) -> Dict[str, Dict[str, Any]]:
        """The records as stored (an unreadable or invalid file reads as empty, as in NNI)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def records(self) -> Dict[str, Dict[str, Any]]:
        """All records, after marking those whose manager process is gone as STOPPED (as nnictl does)."""
        if self._is_alive is None:
            return self.read()
        is_alive = self._is_alive
        with self.locked():
            records = self.read()
            changed = False
            for record in records.values():
                if record.get("status") != "STOPPED" and not is_alive(int(record.get("pid") or 0)):
                    record["status"] = "STOPPED"
                    changed = True
            if changed:
                self._write(records)
        return records

    # -- writing
    def add(self, record: Dict[str, Any]) -> None:
        """Add ``record`` (keyed by its ``id``), replacing any record with that id."""
        with self.locked():
            records = self.read()
            records[str(record["id"])] = dict(record)
            self._write(records)

    def update(self, experiment_id: str, key: str, value: Any) -> bool:
        """Set (or, with None, delete) one key of a record; False when there is no such record."""
        with self.locked():
            records = self.read()
            if experiment_id not in records:
                return False
            if value is None:
                records[experiment_id].pop(key, None)
            else:
                records[experiment_id][key] = value
            self._write(records)
            return True

    def remove(self, experiment_id: str) -> None:
        with self.locked():
            records = self.read()
            records.pop(experiment_id, None)
            self._write(records)

    def _write(self, records: Dict[str, Dict[str, Any]]) -> None:
        self.home_directory.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(records, indent=4), encoding="utf-8")

    # -- locking
    @contextmanager
    def locked(self, timeout: float = _TIMEOUT) -> Iterator[None]:
        """Hold NNI's manifest lock (and this object's thread lock) for the block."""
        with self._thread_lock:
            self.home_directory.mkdir(parents=True, exist_ok=True)
            own = f"{self.path}.lock.{os.getpid()}"
            deadline = time.monotonic() + timeout
            while True:
                if self._try_lock(own):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not lock {self.path} within {timeout:g} s (lock files: "
                                       f"{self._fresh_locks(exclude=None)})")
                time.sleep(_RETRY_INTERVAL * (1 + random.random()))
            try:
                yield
            finally:
                try:
                    os.remove(own)
                except OSError:
                    pass

    def _try_lock(self, own: str) -> bool:
        if self._fresh_locks(exclude=None):
            return False
        try:
            fd = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC)
        except OSError:
            return False
        os.close(fd)
        if self._fresh_locks(exclude=own):  # someone else got in at the same time: back off
            os.remove(own)
            return False
        return True

    def _fresh_locks(self, exclude: Optional[str]) -> list:
        now = time.time()
        fresh = []
        for name in glob.glob(glob.escape(str(self.path)) + ".lock.*"):
            if name == exclude:
                continue
            try:
                if now - os.stat(name).st_mtime < LOCK_STALE_SECONDS:
                    fresh.append(name)
            except OSError:
                continue
        return fresh
