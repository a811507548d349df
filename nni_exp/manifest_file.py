"""The experiments manifest on disk: ``~/nni-experiments/.experiment``, in NNI's format.

One JSON object keyed by experiment id, indented by 4 spaces, read and rewritten whole under NNI's
lock protocol: a writer creates ``.experiment.lock.<pid>`` next to the file (``O_EXCL``) only while
no other lock file younger than 2 seconds exists, and deletes it when done. NNI's Python tools
(nnictl's ``Experiments``, used by ``nni.experiment``) and its Node manager (``experimentsManager``,
``experimentStartupInfo``) follow the same protocol, so ``nnictl experiment list``, NNI's
``Experiment.connect`` and nni-exp all see the same records.

Durability (what NNI's writers do not do: they rewrite the file in place):

* **Atomic writes.** The new content goes to a temporary file in the same directory
  (``.experiment.<pid>.<random>.tmp``, a name NNI's lock globs never match), is fsynced, then
  ``os.replace``-d over the manifest, and the directory is fsynced. A reader, or a writer killed at
  any moment, sees the old file or the new one, never a partial one.
* **A last-known-good copy.** Every write also replaces ``.experiment.last-good`` (same way) with
  the same content: the manifest as this module last saw it valid.
* **No write from an unreadable manifest.** NNI's writers truncate then write, so the file can be
  empty or half-written for a moment (or for good, when such a writer was killed). A read that finds
  an empty, invalid or non-object file retries for :data:`READ_RETRY_SECONDS`; if it is still not
  valid, the records are taken from the last-known-good copy (else from the last valid content this
  object read, else none), and a writer first moves the unreadable bytes aside to
  ``.experiment.corrupt.<time_ns>`` so that nothing is ever destroyed. A missing file is an empty
  manifest (no writer deletes it).
* **Locking.** NNI checks for other lock files only *before* creating its own, so two writers can
  both go ahead. This module also checks *after* creating its lock and backs off when another fresh
  lock appeared, so concurrent nni-exp writers never lose a record. A lock file whose process is
  gone is ignored at once (NNI waits for it to be 2 seconds old).
* **Lost-update repair.** Because NNI's lock lets an NNI writer in beside ours, a change is checked
  once the lock is released whenever another lock file was there during the write or the file no
  longer holds what was written: if an NNI writer rewrote the file from an older read, the change
  is applied again (up to :data:`MAX_REAPPLY` times). Records NNI's own writers lose among
  themselves cannot be repaired.
"""

from __future__ import annotations

import copy
import glob
import json
import logging
import os
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar, Union

__all__ = ["ManifestFile", "default_home_directory", "HOME_ENV_VAR", "LOCK_STALE_SECONDS",
           "READ_RETRY_SECONDS", "MAX_REAPPLY", "LAST_GOOD_SUFFIX"]

#: Overrides the directory holding ``.experiment`` (default ``~/nni-experiments``), e.g. per xdist worker.
HOME_ENV_VAR = "NNI_EXP_HOME"
#: A lock file older than this is ignored (NNI's value).
LOCK_STALE_SECONDS = 2.0
#: How long a read retries a manifest that is empty or not valid JSON (another writer is writing it).
READ_RETRY_SECONDS = 0.5
#: How many times a change is applied again after an NNI writer overwrote it.
MAX_REAPPLY = 20
#: The last-known-good copy is ``.experiment`` + this suffix.
LAST_GOOD_SUFFIX = ".last-good"
_RETRY_INTERVAL = 0.01
_READ_RETRY_INTERVAL = 0.005
_TIMEOUT = 60.0
#: A temporary file of a writer still alive is only removed when older than this (seconds).
_TEMPORARY_STALE_SECONDS = 60.0

_logger = logging.getLogger("nni_exp.manifest_file")
_Records = Dict[str, Dict[str, Any]]
_T = TypeVar("_T")

#: One thread lock per manifest path: the lock file is per process, so threads take turns first.
_THREAD_LOCKS: Dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def default_home_directory() -> Path:
    """``$NNI_EXP_HOME`` when set, else ``~/nni-experiments`` (where NNI keeps its manifest)."""
    override = os.environ.get(HOME_ENV_VAR)
    return Path(override).expanduser() if override else Path.home() / "nni-experiments"


def _thread_lock_for(path: Path) -> threading.Lock:
    key = os.path.abspath(str(path))
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists
        return True
    return True


def _pid_suffix(name: str, prefix: str) -> Optional[int]:
    """The pid in ``<prefix><pid>`` or ``<prefix><pid>.<random>.tmp``, else None."""
    rest = name[len(prefix):]
    head = rest.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _parse(text: str) -> Optional[_Records]:
    """The records of a manifest's text, or None when it is not a JSON object."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class ManifestFile:
    """Read and write the manifest file under ``home_directory`` (see the module docstring).

    ``is_alive(pid)``, when given, lets :meth:`records` mark the records of dead managers STOPPED.
    """

    def __init__(self, home_directory: Union[str, Path, None] = None,
                 is_alive: Optional[Callable[[int], bool]] = None) -> None:
        self.home_directory = Path(home_directory) if home_directory is not None else default_home_directory()
        self.path = self.home_directory / ".experiment"
        self.last_good_path = self.home_directory / (".experiment" + LAST_GOOD_SUFFIX)
        self._is_alive = is_alive
        self._thread_lock = _thread_lock_for(self.path)
        #: The last valid content this object read or wrote (a fallback after the last-good file).
        self._last_seen: Optional[_Records] = None

    def __repr__(self) -> str:
        return f"<ManifestFile {self.path}>"

    # -- reading
    def read(self) -> _Records:
        """The records as stored.

        Takes no lock. An empty or invalid file is read again for up to :data:`READ_RETRY_SECONDS`
        (a writer that rewrites it in place is at work); if it stays unreadable, the records of the
        last-known-good copy are returned. A missing file reads as empty.
        """
        records, _, _ = self._read_valid()
        return records

    def records(self) -> _Records:
        """All records, after marking those whose manager process is gone as STOPPED (as nnictl does)."""
        if self._is_alive is None:
            return self.read()
        is_alive = self._is_alive

        def mark_stopped(records: _Records) -> _Records:
            for record in records.values():
                if record.get("status") != "STOPPED" and not is_alive(int(record.get("pid") or 0)):
                    record["status"] = "STOPPED"
            return copy.deepcopy(records)

        return self._mutate(mark_stopped)

    def _load(self) -> Tuple[Optional[_Records], Optional[bytes]]:
        """One attempt: the records (None when the file is empty or invalid) and the bytes read
        (None when the file is missing: an empty manifest)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError:
            return None, b""
        try:
            return _parse(raw.decode("utf-8")), raw
        except UnicodeDecodeError:
            return None, raw

    def _read_valid(self) -> Tuple[_Records, Optional[bytes], bool]:
        """(records, bytes read, True) from a valid or missing file, retrying an invalid one; else
        (the fallback records, the unreadable bytes, False)."""
        deadline = time.monotonic() + READ_RETRY_SECONDS
        while True:
            records, raw = self._load()
            if records is not None:
                self._last_seen = copy.deepcopy(records)
                return records, raw, True
            if time.monotonic() >= deadline:
                break
            time.sleep(_READ_RETRY_INTERVAL)
        return self._fallback(), raw, False

    def _fallback(self) -> _Records:
        try:
            records = _parse(self.last_good_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            records = None
        if records is None and self._last_seen is not None:
            records = copy.deepcopy(self._last_seen)
        _logger.warning("%s is empty or not valid JSON; using the %s (%d records)", self.path,
                        "last-known-good copy" if records is not None else "empty manifest",
                        len(records or {}))
        return records if records is not None else {}

    def _read_for_update(self) -> Tuple[_Records, Optional[bytes]]:
        """The records a writer starts from (under the lock) and the bytes they came from;
        unreadable bytes are moved aside first (and the bytes are then None)."""
        records, raw, valid = self._read_valid()
        if valid:
            return records, raw
        if raw:
            aside = self.home_directory / f".experiment.corrupt.{time.time_ns()}"
            try:
                os.replace(self.path, aside)
                _logger.warning("moved the unreadable %s aside to %s", self.path, aside)
            except OSError:
                pass
        return records, None

    # -- writing
    def add(self, record: Dict[str, Any]) -> None:
        """Add ``record`` (keyed by its ``id``), replacing any record with that id."""
        experiment_id = str(record["id"])
        new = copy.deepcopy(dict(record))

        def change(records: _Records) -> None:
            records[experiment_id] = copy.deepcopy(new)

        self._mutate(change)

    def update(self, experiment_id: str, key: str, value: Any) -> bool:
        """Set (or, with None, delete) one key of a record; False when there is no such record."""
        def change(records: _Records) -> bool:
            if experiment_id not in records:
                return False
            if value is None:
                records[experiment_id].pop(key, None)
            else:
                records[experiment_id][key] = copy.deepcopy(value)
            return True

        return self._mutate(change)

    def remove(self, experiment_id: str) -> None:
        """Remove the record of ``experiment_id`` (nothing when there is none)."""
        def change(records: _Records) -> None:
            records.pop(experiment_id, None)

        self._mutate(change)

    def _mutate(self, change: Callable[[_Records], _T]) -> _T:
        """Apply ``change`` (idempotent) under the lock and write, then repair a lost update (see
        the module docstring). Returns what the first application returned."""
        result, suspect = self._apply(change, first=True)
        for _ in range(MAX_REAPPLY):
            if not suspect:
                break
            _, suspect = self._apply(change, first=False)
        return result  # type: ignore[return-value]

    def _apply(self, change: Callable[[_Records], _T], first: bool) -> Tuple[Optional[_T], bool]:
        """One locked read-change-write. Not ``first``: write only when the change is missing.
        Returns the change's result and whether another writer may have overwritten the write.

        Right before the rename the file is read again: if a writer that NNI's lock let in beside
        us changed it meanwhile, the change is made again on the new content (its records stay)."""
        with self._locked() as own:
            for _ in range(MAX_REAPPLY):
                records, raw = self._read_for_update()
                before = copy.deepcopy(records)
                result = change(records)
                if records == before and (not first or raw is not None):
                    return result, False
                if raw is not None and self._current_bytes() != raw:
                    continue  # changed while we worked on it
                text = json.dumps(records, indent=4)
                os.utime(own)  # a long write must not make our lock look stale
                self._write_text(text)
                self._last_seen = records
                return result, bool(self._fresh_locks(exclude=own)) or self._current_bytes() != text.encode()
        return result, True

    def _current_bytes(self) -> Optional[bytes]:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    def _write_text(self, text: str) -> None:
        self.home_directory.mkdir(parents=True, exist_ok=True)
        self._remove_leftover_temporaries()
        _replace_atomically(self.path, text)
        _replace_atomically(self.last_good_path, text)
        _fsync_directory(self.home_directory)

    def _remove_leftover_temporaries(self) -> None:
        """Temporary files of writers killed before their rename (their process is gone)."""
        now = time.time()
        pattern = glob.escape(str(self.home_directory)) + "/.experiment*.tmp"
        for name in glob.glob(pattern):
            base = os.path.basename(name)
            prefix = ".experiment" + LAST_GOOD_SUFFIX + "." if base.startswith(".experiment" + LAST_GOOD_SUFFIX) \
                else ".experiment."
            pid = _pid_suffix(base, prefix)
            try:
                old = now - os.stat(name).st_mtime > _TEMPORARY_STALE_SECONDS
                if pid is None or pid == os.getpid() or (_process_exists(pid) and not old):
                    continue
                os.remove(name)
            except OSError:
                continue

    # -- locking
    @contextmanager
    def locked(self, timeout: float = _TIMEOUT) -> Iterator[None]:
        """Hold NNI's manifest lock (and this process's thread lock for the file) for the block."""
        with self._locked(timeout):
            yield

    @contextmanager
    def _locked(self, timeout: float = _TIMEOUT) -> Iterator[str]:
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
                yield own
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

    def _fresh_locks(self, exclude: Optional[str]) -> List[str]:
        """Lock files younger than :data:`LOCK_STALE_SECONDS` whose process still exists."""
        now = time.time()
        prefix = self.path.name + ".lock."
        fresh = []
        for name in glob.glob(glob.escape(str(self.path)) + ".lock.*"):
            if name == exclude:
                continue
            try:
                if now - os.stat(name).st_mtime >= LOCK_STALE_SECONDS:
                    continue
            except OSError:
                continue
            pid = _pid_suffix(os.path.basename(name), prefix)
            if pid is not None and pid != os.getpid() and not _process_exists(pid):
                continue
            fresh.append(name)
        return fresh


def _replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, fsync it, rename it over ``path``."""
    temporary = f"{path}.{os.getpid()}.{random.getrandbits(48):012x}.tmp"
    data = text.encode("utf-8")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def _fsync_directory(directory: Path) -> None:
    """Make the renames durable (not possible on every platform: then nothing)."""
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
