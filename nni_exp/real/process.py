"""Manager processes on this machine: spawn one in a session of its own, watch it, kill it and all
it started.

A manager started by NNI 3.0 spawns its tuner through ``/bin/sh -c`` and every local trial through
``/bin/bash``; all of them stay in the manager's process group unless they leave it themselves.
:meth:`ManagerHandle.kill` therefore signals, with ``psutil`` (which checks a process's identity
before signalling, so a reused pid is never hit):

* the manager itself;
* every descendant seen while the manager was alive (the handle refreshes that set each time
  :meth:`~ManagerHandle.is_alive` finds it running, so processes that were re-parented to init
  when the manager exited are still known);
* every current descendant, and every process still in the manager's process group.

SIGTERM first; whatever remains after a grace period gets SIGKILL (the group as a whole with
``killpg`` too, when it is provably the manager's group).

Output of a spawned manager: stdout is inherited or goes to a file; stderr always ends up in a log
file (see :func:`spawn`), so that :meth:`ManagerHandle.log_tail` can explain a failed start-up.

POSIX only (sessions and process groups), as is the rest of the real backend.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Optional

import psutil

__all__ = ["ManagerHandle", "spawn", "pid_alive", "KILL_GRACE", "LOG_TAIL_LINES", "LOG_LINE_MAX"]

_logger = logging.getLogger("nni_exp.real")

#: Seconds between SIGTERM and SIGKILL in :meth:`ManagerHandle.kill`.
KILL_GRACE = 3.0
#: How many lines :meth:`ManagerHandle.log_tail` returns.
LOG_TAIL_LINES = 40
#: Longest line :meth:`ManagerHandle.log_tail` shows in full.
LOG_LINE_MAX = 300
#: How long ``kill`` waits for SIGKILLed processes to disappear.
_KILL_WAIT = 5.0
#: How long ``log_tail`` waits for the stderr copier to drain the pipe of an exited manager.
_DRAIN_TIMEOUT = 2.0
_POLL = 0.02
#: Longest timeout ``poll`` takes (milliseconds in a C int), in seconds.
_LONGEST_POLL = (2**31 - 1) // 1000


def _wait_child(popen: subprocess.Popen, timeout: Optional[float]) -> Optional[int]:
    """``popen.wait(timeout)``, None on timeout, returning as soon as the child exits.

    ``Popen.wait`` with a timeout polls, sleeping up to 50 ms between looks (``stop()`` took that much
    longer than NNI's, which waits without a timeout); a pidfd (Linux 5.3+) wakes up at the exit.
    """
    if timeout is not None and 0 <= timeout <= _LONGEST_POLL and popen.returncode is None \
            and hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(popen.pid)
        except OSError:  # already reaped, or no pidfd here: Popen.wait finds out
            pidfd = None
        if pidfd is not None:
            try:
                poller = select.poll()
                poller.register(pidfd, select.POLLIN)
                if not poller.poll(math.ceil(timeout * 1000)):
                    return None
            finally:
                os.close(pidfd)
    try:
        return popen.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return psutil.pid_exists(pid)


def _running(process: psutil.Process) -> bool:
    """``process`` (this very process, not a reuse of its pid) still runs and is not a zombie."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


class _StderrCopier(threading.Thread):
    """Copies a manager's stderr pipe to this process's fd 2 *and* to a log file, until EOF."""

    def __init__(self, pipe: IO[bytes], log: IO[bytes], pid: int) -> None:
        super().__init__(name=f"nni-exp-manager-{pid}-stderr", daemon=True)
        self._pipe = pipe
        self._log = log

    def run(self) -> None:
        fd = self._pipe.fileno()
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                try:
                    self._log.write(chunk)
                    self._log.flush()
                except (OSError, ValueError):
                    pass
                _write_all(2, chunk)
        finally:
            for stream in (self._pipe, self._log):
                try:
                    stream.close()
                except OSError:
                    pass


def _shorten(line: str) -> str:
    line = line.rstrip()
    if len(line) <= LOG_LINE_MAX:
        return line
    return f"{line[:LOG_LINE_MAX]}... [{len(line) - LOG_LINE_MAX} more characters]"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError:
            return
        view = view[written:]


class ManagerHandle:
    """A manager process: spawned here (:func:`spawn`) or found by pid (:meth:`attach`).

    Implements :class:`nni_exp.backend.ManagerProcess`. Zombies count as dead.
    """

    def __init__(self, process: psutil.Process, *, popen: Optional[subprocess.Popen] = None,
                 stderr_log: Optional[Path] = None, log_offset: int = 0,
                 copier: Optional[threading.Thread] = None, grace: float = KILL_GRACE) -> None:
        self._process = process
        self._popen = popen
        self._stderr_log = stderr_log
        self._log_offset = log_offset
        self._copier = copier
        self.grace = grace
        self._known: set[psutil.Process] = set()
        self._known_lock = threading.Lock()
        self._kill_lock = threading.Lock()
        self._pgid = self._own_group(process)
        self._exit_code: Optional[int] = None

    def __repr__(self) -> str:
        return f"<ManagerHandle pid={self.pid} {'alive' if self.is_alive() else 'dead'}>"

    @classmethod
    def attach(cls, pid: int, grace: float = KILL_GRACE) -> Optional[ManagerHandle]:
        """A handle on the running process ``pid`` (not necessarily a child of this one), or None.

        None too for pids that cannot be a manager: 0 and below (``kill(0)`` would signal our own
        process group) and this very process.
        """
        if pid <= 0 or pid == os.getpid():
            return None
        try:
            process = psutil.Process(pid)
        except (psutil.NoSuchProcess, ValueError):
            return None
        if not _running(process):
            return None
        handle = cls(process, grace=grace)
        handle.is_alive()  # remember its descendants right away
        return handle

    @staticmethod
    def _own_group(process: psutil.Process) -> Optional[int]:
        """The process group led by ``process``, when it leads one and it is not ours."""
        try:
            pgid = os.getpgid(process.pid)
        except OSError:
            return None
        return pgid if pgid == process.pid and pgid != os.getpgrp() else None

    # ------------------------------------------------------------------ state

    @property
    def pid(self) -> int:
        """The manager's pid."""
        return self._process.pid

    def is_alive(self) -> bool:
        """True while the manager runs; also records its current descendants for :meth:`kill`."""
        if self._popen is not None:
            alive = self._popen.poll() is None
        else:
            alive = _running(self._process)
        if alive:
            self._remember_descendants()
        return alive

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait up to ``timeout`` seconds (forever with None) for the manager to exit.

        Returns its exit code (negative: killed by that signal), or None when it still runs. A
        process that is not a child of this one has an unknowable exit status: 0 is returned once
        it is gone.
        """
        if self._popen is not None:
            return _wait_child(self._popen, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while _running(self._process):
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(_POLL)
        if self._exit_code is None:
            try:
                code = self._process.wait(0)  # reaps it when it happens to be our child
            except (psutil.TimeoutExpired, psutil.NoSuchProcess):
                code = None
            self._exit_code = code if code is not None else 0
        return self._exit_code

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines its stderr wrote since it was spawned ('' without a log).

        Lines longer than :data:`LOG_LINE_MAX` characters are cut (Node's ``--trace-uncaught``
        quotes whole minified source lines).
        """
        if self._stderr_log is None:
            return ""
        if self._copier is not None and not self.is_alive():
            self._copier.join(_DRAIN_TIMEOUT)
        try:
            with open(self._stderr_log, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(_shorten(line) for line in text.rstrip().splitlines()[-lines:])

    # ------------------------------------------------------------------ killing

    def kill(self) -> None:
        """Terminate, then kill, the manager and every process it started. Idempotent.

        Returns once they are all gone (or after SIGKILL could not finish them within a few
        seconds, which only happens to processes stuck in the kernel).
        """
        with self._kill_lock:
            self._terminate_then_kill()
            self._reap()
            with self._known_lock:
                self._known.clear()
            _spawned.discard(self)  # only once done: an interrupted kill is retried at exit

    def _terminate_then_kill(self) -> None:
        targets = self._collect()
        if not targets:
            return
        self._signal(targets, signal.SIGTERM)
        survivors = self._wait_gone(targets, self.grace)
        survivors |= self._collect()  # anything started since, or missed
        if not survivors:
            return
        self._signal(survivors, signal.SIGKILL)
        if self._pgid is not None and self._group_is_ours():
            try:
                os.killpg(self._pgid, signal.SIGKILL)
            except OSError:
                pass
        left = self._wait_gone(survivors | self._collect(), _KILL_WAIT)
        if left:
            _logger.warning("Processes of NNI manager %d survived SIGKILL: %s", self.pid, sorted(p.pid for p in left))

    def _remember_descendants(self) -> None:
        try:
            descendants = self._process.children(recursive=True)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        with self._known_lock:
            self._known.update(descendants)

    def _collect(self) -> set[psutil.Process]:
        """Every running process to kill: manager, remembered and current descendants, group members."""
        found: set[psutil.Process] = set()
        if not self._root_gone():
            found.add(self._process)
            self._remember_descendants()
        with self._known_lock:
            found |= self._known
        for process in list(found):
            try:
                found.update(process.children(recursive=True))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        found |= self._group_members()
        me = os.getpid()
        return {p for p in found if p.pid != me and not self._gone(p)}

    def _group_members(self) -> set[psutil.Process]:
        if not self._group_is_ours():
            return set()
        members: set[psutil.Process] = set()
        for process in psutil.process_iter():
            try:
                if os.getpgid(process.pid) == self._pgid:
                    members.add(process)
            except OSError:
                continue
        return members

    def _group_is_ours(self) -> bool:
        """The manager's process group still exists and its pgid was not reused by another process."""
        if self._pgid is None:
            return False
        try:
            leader = psutil.Process(self._pgid)
        except psutil.NoSuchProcess:
            return True  # leader gone: the pgid stays reserved while members exist
        if leader == self._process:
            return True
        self._pgid = None  # the pid was reused by an unrelated process
        return False

    def _root_gone(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is not None
        return not _running(self._process)

    def _signal(self, processes: Iterable[psutil.Process], signum: int) -> None:
        for process in processes:
            try:
                if process == self._process and self._popen is not None:
                    if self._popen.poll() is None:
                        self._popen.send_signal(signum)
                else:
                    process.send_signal(signum)
            except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                pass

    def _wait_gone(self, processes: set[psutil.Process], timeout: float) -> set[psutil.Process]:
        """Wait until all ``processes`` are gone (zombies count as gone); those left after ``timeout``."""
        deadline = time.monotonic() + timeout
        left = set(processes)
        while True:
            left = {p for p in left if not self._gone(p)}
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(_POLL)

    def _gone(self, process: psutil.Process) -> bool:
        return self._root_gone() if process == self._process else not _running(process)

    def _reap(self) -> None:
        if self._popen is not None:
            try:
                self._popen.wait(_KILL_WAIT)
            except subprocess.TimeoutExpired:
                pass


# ---------------------------------------------------------------------- spawning

#: Handles of spawned managers to kill at interpreter exit (strong references: a manager whose
#: handle was dropped without being killed must not escape).
_spawned: set[ManagerHandle] = set()


def _kill_leftovers() -> None:
    """At interpreter exit, kill the managers spawned with ``kill_at_exit`` that are still running.

    Registered when this module is imported, so it runs *after* the ``atexit`` hooks that
    ``Experiment.start`` registers later (``atexit`` is LIFO) and only mops up what they left.
    """
    for handle in list(_spawned):  # kill() removes the handle from the set
        try:
            handle.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_kill_leftovers)


def spawn(argv: Sequence[str], *, cwd: Optional[str], env: Optional[Mapping[str, str]], stderr_log: Path,
          stdout_log: Optional[Path] = None, header: str = "", copy_stderr: bool = True,
          kill_at_exit: bool = True, grace: float = KILL_GRACE) -> ManagerHandle:
    """Start ``argv`` as the leader of a new session (so a new process group) and return its handle.

    * stdout: appended to ``stdout_log`` when given, else inherited from this process;
    * stderr: appended to ``stderr_log``; with ``copy_stderr`` it goes through a pipe that a
      daemon thread copies both to this process's stderr (fd 2) and to the log;
    * ``header`` is written to each log file first;
    * stdin: ``/dev/null`` (NNI leaves it inherited; a manager never reads it, and without a
      controlling terminal a read could only fail).

    With ``kill_at_exit`` the process (and everything it started) is killed when the interpreter
    exits, if nothing stopped it before. Raises :class:`OSError` when ``argv[0]`` cannot be run.
    """
    files: list[IO[bytes]] = []
    try:
        stdout: Optional[IO[bytes]] = None
        if stdout_log is not None:
            stdout = open(stdout_log, "ab")
            files.append(stdout)
            stdout.write(header.encode())
            stdout.flush()
        log = open(stderr_log, "ab")
        files.append(log)
        log.write(header.encode())
        log.flush()
        log_offset = log.tell()  # the tail shows what the process wrote, not the header
        popen = subprocess.Popen(
            list(argv), cwd=cwd, env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
            stdout=stdout, stderr=subprocess.PIPE if copy_stderr else log, start_new_session=True,
        )
    except BaseException:
        for file in files:
            file.close()
        raise
    if stdout is not None:
        stdout.close()
    copier: Optional[threading.Thread] = None
    if copy_stderr:
        assert popen.stderr is not None
        copier = _StderrCopier(popen.stderr, log, popen.pid)  # the copier closes the log
        copier.start()
    else:
        log.close()
    handle = ManagerHandle(psutil.Process(popen.pid), popen=popen, stderr_log=stderr_log,
                           log_offset=log_offset, copier=copier, grace=grace)
    if kill_at_exit:
        _spawned.add(handle)
    return handle
