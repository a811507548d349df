"""``RealBackend``: NNI managers as real processes on this machine, talked to over HTTP.

Launch: the command NNI 3.0 runs (``<nni_node>/node --max-old-space-size=4096 --trace-uncaught
<nni_node>/main.js`` + :meth:`~nni_exp.backend.ManagerArgs.to_argv`, in the ``nni_node`` directory)
or any program given as ``manager_command`` that speaks the same command line and REST API. The
process leads a session (hence a process group) of its own, as NNI's ``setpgrp`` makes it, so a
Ctrl-C in the terminal does not reach it and :meth:`ManagerHandle.kill` can find all it started.

Home: the manifest is ``<home>/nni-experiments/.experiment``, and Node reads it from
``os.homedir()/nni-experiments``, so with ``RealBackend(home=...)`` the manager (and therefore its
tuner and trials) runs with ``HOME=<home>``. Without ``home``:

* ``NNI_EXP_HOME`` (the *manifest directory*, see :mod:`nni_exp.manifest_file`) when set. When
  its last component is ``nni-experiments`` the manager gets ``HOME=<its parent>``; otherwise it
  gets ``HOME=<NNI_EXP_HOME>/.nni-exp-home``, a directory whose ``nni-experiments`` entry is a
  symlink back to ``NNI_EXP_HOME`` — so that Node writes the same manifest either way;
* else the user's home, and the environment is passed on unchanged, as NNI does.

The home only moves the manifest: ``experiment_working_directory`` (default
``~/nni-experiments``) is expanded by the Python process, with its own ``HOME``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Union

import psutil
import requests

from ..backend import ManagerArgs, Manifest, RunMode
from ..errors import ManagerStartError, ManagerTimeoutError, ManagerUnreachableError
from ..manifest_file import HOME_ENV_VAR, ManifestFile
from ..rest import DEFAULT_TIMEOUT, build_url, decode_answer
from .checkpoint import load_stopped_config
from .process import KILL_GRACE, ManagerHandle, pid_alive, spawn

__all__ = ["RealBackend", "RealClock", "is_port_idle", "nni_manager_command", "MANAGER_STDERR_LOG"]

_logger = logging.getLogger("nni_exp.real")

#: File (under ``<dir>/<id>/log/``) that receives a Background/Foreground manager's stderr.
MANAGER_STDERR_LOG = "manager_stderr.log"
#: Files of a detached manager, as NNI names them.
DETACH_STDOUT_LOG = "nnictl_stdout.log"
DETACH_STDERR_LOG = "nnictl_stderr.log"
_SHIM_HOME = ".nni-exp-home"


class RealClock:
    """Real time: ``time.time``, ``time.monotonic`` and ``time.sleep``."""

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """A monotonic clock, in seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds``."""
        time.sleep(seconds)


def nni_manager_command() -> tuple[list[str], str]:
    """NNI 3.0's manager command (without arguments) and the directory it runs in (``nni_node``).

    Raises :class:`~nni_exp.errors.ManagerStartError` when the ``nni_node`` package (part of
    ``nni``) is not installed.
    """
    spec = importlib.util.find_spec("nni_node")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ManagerStartError("Cannot find the NNI manager: package nni_node is missing "
                                "(pip install nni==3.0)")
    node_dir = Path(locations[0])
    command = [str(node_dir / "node"), "--max-old-space-size=4096", "--trace-uncaught",
               str(node_dir / "main.js")]
    return command, str(node_dir)


def is_port_idle(port: int, timeout: float = 1.0) -> bool:
    """False when something accepts TCP connections on ``port`` of localhost (IPv4 or IPv6)."""
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 on this machine
            continue
        with sock:
            sock.settimeout(timeout)
            try:
                if sock.connect_ex((address, port)) == 0:
                    return False
            except OSError:
                continue
    return True


class RealBackend:
    """A :class:`~nni_exp.backend.Backend` that runs real manager processes (``backend='nni'``).

    Parameters (all optional, keyword-only)
    ----------
    home
        A directory used as the home directory: the manifest is
        ``<home>/nni-experiments/.experiment`` and spawned managers get ``HOME=<home>``. Default:
        see the module docstring.
    manager_command
        The program (and its first arguments) to launch instead of NNI's Node manager; the
        manager arguments are appended. E.g. ``[sys.executable, '-m', 'fakes.server']``.
    cwd
        Working directory of the manager: default ``nni_node``'s directory for NNI's command, the
        current directory for a ``manager_command``.
    env
        Extra environment variables for the manager (on top of this process's environment).
    kill_grace
        Seconds between SIGTERM and SIGKILL when a manager has to be killed.

    Output of a manager, by :class:`~nni_exp.backend.RunMode`:

    * ``Background`` / ``Foreground``: stdout is inherited, as in NNI (with ``Foreground`` the
      manager also prints its log there). NNI lets stderr be inherited too; here it goes through
      a pipe that a daemon thread copies *both* to this process's stderr and to
      ``<dir>/<id>/log/manager_stderr.log``. The terminal sees what it sees with NNI (tuner
      tracebacks, Node errors), and a manager that dies during start-up leaves its last words
      in a file, which :class:`~nni_exp.errors.ManagerStartError` quotes. Redirecting stderr to
      the file only would hide those messages from the terminal; inheriting it only would leave
      nothing to quote.
    * ``Detach``: stdout and stderr are appended to ``nnictl_stdout.log`` / ``nnictl_stderr.log``
      in ``<dir>/<id>/log/``, each after NNI's header, and the manager outlives this process.

    Background and Foreground managers still running when the interpreter exits are killed, with
    everything they started, after ``Experiment``'s own exit hooks have had their chance to stop
    them gracefully.
    """

    name = "nni"
    #: The manager's own tick: status changes appear on REST within it.
    poll_interval = 0.5
    startup_timeout = 30.0

    def __init__(self, *, home: Union[str, os.PathLike[str], None] = None,
                 manager_command: Optional[Sequence[str]] = None,
                 cwd: Union[str, os.PathLike[str], None] = None, env: Optional[Mapping[str, str]] = None,
                 kill_grace: float = KILL_GRACE) -> None:
        if manager_command is not None and not list(manager_command):
            raise ValueError("manager_command must not be empty")
        self.manager_command: Optional[list[str]] = None if manager_command is None else [
            str(part) for part in manager_command]
        self.cwd: Optional[str] = None if cwd is None else str(cwd)
        self.env: dict[str, str] = dict(env or {})
        self.kill_grace = kill_grace
        self.manifest_directory, self.manager_home = _resolve_home(home)
        #: The manifest, with its full API (``read``, ``remove``, ``locked`` ...).
        self.manifest_file = ManifestFile(self.manifest_directory, is_alive=pid_alive)
        self._clock = RealClock()
        self._session = requests.Session()
        self._session.trust_env = False  # the manager is on localhost: no proxy, no .netrc

    def __repr__(self) -> str:
        return f"<RealBackend manifest={self.manifest_file.path}>"

    # ------------------------------------------------------------------ Backend properties

    @property
    def clock(self) -> RealClock:
        """Real time."""
        return self._clock

    @property
    def manifest(self) -> Manifest:
        """:attr:`manifest_file`, with crash detection by pid (a dead manager's record reads STOPPED)."""
        return self.manifest_file

    # ------------------------------------------------------------------ lifecycle

    def spawn_manager(self, args: ManagerArgs, run_mode: RunMode) -> ManagerHandle:
        """Start a manager for ``args`` as described in the class docstring; it is not ready yet.

        Creates ``<dir>/<id>/log/`` and points ``<dir>/_latest`` at the experiment (a failure to
        link only warns, as in NNI). Raises :class:`~nni_exp.errors.ManagerStartError` when the
        command cannot be run at all.
        """
        if self.manager_command is not None:
            command, default_cwd = self.manager_command, None
        else:
            command, default_cwd = nni_manager_command()
        argv = command + args.to_argv()
        experiments_directory = Path(args.experiments_directory)
        log_dir = experiments_directory / args.experiment_id / "log"
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ManagerStartError(f"Cannot create the experiment's log directory {log_dir}: {error}") from error
        _link_latest(experiments_directory, args.experiment_id)
        detach = run_mode is RunMode.Detach
        line = "-" * 80
        header = f"{line}\nExperiment {args.experiment_id} start: {datetime.now()}\n{line}\n"
        try:
            return spawn(
                argv,
                cwd=self.cwd if self.cwd is not None else default_cwd,
                env=self._manager_env(),
                stdout_log=log_dir / DETACH_STDOUT_LOG if detach else None,
                stderr_log=log_dir / (DETACH_STDERR_LOG if detach else MANAGER_STDERR_LOG),
                header=header,
                copy_stderr=not detach,
                kill_at_exit=not detach,
                grace=self.kill_grace,
            )
        except OSError as error:
            raise ManagerStartError(f"Cannot run the NNI manager {argv[0]!r}: {error}") from error

    def attach(self, pid: int) -> Optional[ManagerHandle]:
        """A handle on the running process ``pid`` (started by anyone), or None when there is none."""
        return ManagerHandle.attach(pid, grace=self.kill_grace)

    def kill_running_managers(self) -> list[int]:
        """Kill every manager that this backend's manifest shows alive, with all it started.

        A clean-up for throw-away homes (tests): on the user's own home it would end every NNI
        experiment running on the machine. Only a process whose command line is a manager of the
        record's experiment (``--experiment-id <id>``, as NNI's and the fake's managers are started)
        is killed: a stale or made-up record can name any pid. Returns the pids of the managers it killed.
        """
        killed = []
        for experiment_id, record in self.manifest_file.read().items():
            try:
                pid = int(record.get("pid") or 0)
            except (TypeError, ValueError):
                continue
            handle = self.attach(pid)
            if handle is not None and _runs_experiment(pid, experiment_id):
                handle.kill()
                killed.append(handle.pid)
        return killed

    def is_port_idle(self, port: int) -> bool:
        """False when something accepts TCP connections on ``port`` of localhost."""
        return is_port_idle(port)

    def _manager_env(self) -> Optional[dict[str, str]]:
        if self.manager_home is None and not self.env:
            return None  # inherit, as NNI does
        env = dict(os.environ)
        if self.manager_home is not None:
            if self.manager_home.name == _SHIM_HOME:
                _make_shim_home(self.manager_home, self.manifest_directory)
            env["HOME"] = str(self.manager_home)
        env.update(self.env)
        return env

    # ------------------------------------------------------------------ REST

    def request(self, method: str, port: int, path: str, body: Any = None, *,
                url_prefix: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """One REST call to the manager on ``port`` of localhost (see ``Backend.request``).

        Each call uses a fresh connection (``Connection: close``), as NNI's client does: a kept-alive
        connection that the manager closes between two polls would otherwise fail the next call.
        """
        url = build_url(port, path, url_prefix)
        try:
            response = self._session.request(
                method.upper(), url, json=body, headers={"Connection": "close"},
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            )
        except requests.exceptions.ConnectTimeout as error:
            raise ManagerUnreachableError(f"{method.upper()} {url}: connect timed out ({error})") from error
        except requests.exceptions.ConnectionError as error:
            raise ManagerUnreachableError(f"{method.upper()} {url}: cannot connect ({error})") from error
        except requests.exceptions.Timeout as error:
            raise ManagerTimeoutError(f"{method.upper()} {url}: no answer within "
                                      f"{DEFAULT_TIMEOUT if timeout is None else timeout:g} s") from error
        return decode_answer(method, url, response.status_code, response.text, response)

    def close(self) -> None:
        """Close the HTTP session (managers are not affected)."""
        self._session.close()

    # ------------------------------------------------------------------ stored configs

    def load_stopped_config(self, experiment_id: str,
                            experiments_directory: Optional[str]) -> Optional[dict[str, Any]]:
        """The stored config of a stopped experiment; see :mod:`nni_exp.real.checkpoint`."""
        return load_stopped_config(self.manifest_file, experiment_id, experiments_directory)


def _resolve_home(home: Union[str, os.PathLike[str], None]) -> tuple[Path, Optional[Path]]:
    """(manifest directory, HOME for spawned managers or None to leave the environment alone)."""
    if home is not None:
        root = Path(home).expanduser().absolute()
        return root / "nni-experiments", root
    override = os.environ.get(HOME_ENV_VAR)
    if override:
        directory = Path(override).expanduser().absolute()
        if directory.name == "nni-experiments":
            return directory, directory.parent
        return directory, directory / _SHIM_HOME
    return Path.home() / "nni-experiments", None


def _make_shim_home(shim: Path, manifest_directory: Path) -> None:
    """``<shim>/nni-experiments`` → ``manifest_directory``, so Node finds the manifest under ``<shim>``."""
    link = shim / "nni-experiments"
    if link.is_symlink() or link.exists():
        return
    shim.mkdir(parents=True, exist_ok=True)
    try:
        link.symlink_to(os.path.relpath(manifest_directory, shim), target_is_directory=True)
    except FileExistsError:
        pass


def _link_latest(experiments_directory: Path, experiment_id: str) -> None:
    """Point ``<experiments_directory>/_latest`` at ``experiment_id`` (relative), or warn.

    Unlike NNI, a dangling old link is replaced too (NNI's ``exists()`` test misses it, and the
    new link then fails).
    """
    link = experiments_directory / "_latest"
    try:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(experiment_id, target_is_directory=True)
    except OSError:
        _logger.warning("Failed to create link %s", link)


def _runs_experiment(pid: int, experiment_id: str) -> bool:
    """Whether process ``pid`` was started with ``--experiment-id <experiment_id>`` (a manager of it)."""
    try:
        argv = psutil.Process(pid).cmdline()
    except (psutil.Error, ValueError):
        return False
    return any(word == "--experiment-id" and value == experiment_id for word, value in zip(argv, argv[1:]))
