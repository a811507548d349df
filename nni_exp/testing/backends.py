"""Backends for the plugin's fixtures: the fake, the fake manager server process, the real manager.

* :func:`make_fake` builds the fake manager of a test from its ``nni_fake`` marker;
* :func:`make_server_backend` builds a :class:`~nni_exp.real.RealBackend` whose "manager" is
  ``python -m fakes.server`` (the real launch path, with an HTTP fake behind it);
* :func:`make_real_backend` builds a :class:`~nni_exp.real.RealBackend` for NNI's own manager, in
  a throw-away home;
* :class:`BoundExperiment` is an ``Experiment`` whose default port is the one reserved for the
  test, and :class:`RealManager` what ``nni_real_manager`` gives.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional

from nni_exp.backend import RunMode
from nni_exp.config import ExperimentConfig
from nni_exp.experiment import Experiment

from .options import FakeSpec

__all__ = [
    "BoundExperiment",
    "RealManager",
    "free_port",
    "make_fake",
    "make_server_backend",
    "make_real_backend",
    "nni_missing_reason",
    "trial_reference",
    "kill_leftover_managers",
    "child_pythonpath",
]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_fake(spec: FakeSpec) -> Any:
    """The fake manager of a test: an :class:`~nni_exp.testing.faults.InstrumentedFakeManager`
    configured from the marker (trial, seed, tuner, search, timing, faults; ``time_scale`` → a clock that
    follows real time; ``patch_time`` → the calling thread's ``time`` functions on its virtual clock
    until it is closed)."""
    from fakes import ScaledRealClock

    from .faults import InstrumentedFakeManager

    trial = spec.trial
    if isinstance(trial, str):
        from fakes.cli_args import load_trial_function

        trial = load_trial_function(trial)
    clock = ScaledRealClock(spec.time_scale) if spec.time_scale is not None else None
    return InstrumentedFakeManager(trial, seed=spec.seed, tuner=spec.tuner, timing=spec.timing, clock=clock,
                                   faults=spec.faults, search=spec.search or "auto", patch_time=spec.patch_time)


def trial_reference(trial: Any) -> Optional[str]:
    """``"module:function"`` for a trial that another process can import, else None.

    A string is returned as given; a function defined at the top level of an importable module
    (not ``__main__``, not a lambda or a nested function) gives its module and qualified name.
    """
    if trial is None:
        return None
    if isinstance(trial, str):
        return trial
    module = getattr(trial, "__module__", None)
    qualname = getattr(trial, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def child_pythonpath() -> str:
    """This process's import path, for a child that must import the same modules (trial functions
    defined in test files)."""
    entries = [entry for entry in sys.path if entry and Path(entry).exists()]
    inherited = os.environ.get("PYTHONPATH")
    if inherited:
        entries.append(inherited)
    return os.pathsep.join(dict.fromkeys(entries))


def make_server_backend(home: Path, *, trial: Optional[str], seed: Optional[int], time_scale: float,
                        search: Optional[str] = None) -> Any:
    """A ``RealBackend`` that launches ``python -m fakes.server`` (the fake manager's HTTP server)."""
    from nni_exp.real import RealBackend

    command = [sys.executable, "-m", "fakes.server", "--time-scale", f"{time_scale:g}"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if search is not None:
        command += ["--search", search]
    if trial is not None:
        command += ["--trial", trial]
    return RealBackend(home=home, manager_command=command, env={"PYTHONPATH": child_pythonpath()}, kill_grace=1.0)


def make_real_backend(home: Path) -> Any:
    """A ``RealBackend`` for NNI 3.0's manager with ``home`` as HOME (so its own manifest)."""
    from nni_exp.real import RealBackend

    return RealBackend(home=home, env={"PYTHONPATH": child_pythonpath()})


_nni_missing: Optional[List[Optional[str]]] = None


def nni_missing_reason() -> Optional[str]:
    """Why the real NNI 3.0 manager cannot run here (``nni`` or ``nni_node`` not importable, or not
    version 3.0), or None when it can. The answer is cached for the process."""
    global _nni_missing
    if _nni_missing is None:
        _nni_missing = [_check_nni()]
    return _nni_missing[0]


def _check_nni() -> Optional[str]:
    hint = "pip install 'nni-exp[nni]' (nni==3.0)"
    try:
        import nni
        import nni_node  # noqa: F401 - the manager's Node.js code and binary
    except ImportError as error:
        return f"the real NNI manager is not available: {error}; {hint}"
    version = str(getattr(nni, "__version__", ""))
    if not version.startswith("3.0"):
        return f"the real NNI manager needs nni 3.0, found nni {version or 'of unknown version'}; {hint}"
    return None


def kill_leftover_managers(backend: Any) -> None:
    """Kill every manager process that ``backend``'s manifest (a ``RealBackend``) still shows alive."""
    from nni_exp.real import ManagerHandle, pid_alive

    for record in backend.manifest_file.read().values():
        pid = int(record.get("pid") or 0)
        if pid_alive(pid):
            handle = ManagerHandle.attach(pid)
            if handle is not None:
                handle.kill()


class BoundExperiment(Experiment):
    """An :class:`~nni_exp.Experiment` whose port defaults to :attr:`default_port` instead of 8080.

    ``nni_experiment`` is one, with a port reserved for the test, so that ``nni_experiment.run()``
    works unchanged on the fake, on the fake server and on the real manager, also under xdist.
    """

    def __init__(self, config_or_platform: Any = None, id: Optional[str] = None, *,  # noqa: A002
                 backend: Any = None, default_port: int = 8080) -> None:
        super().__init__(config_or_platform, id, backend=backend)
        self.default_port = default_port

    def start(self, port: Optional[int] = None, debug: bool = False,
              run_mode: RunMode = RunMode.Background) -> None:
        """:meth:`Experiment.start` on ``port``, by default :attr:`default_port`."""
        super().start(self.default_port if port is None else port, debug, run_mode)

    def run(self, port: Optional[int] = None, wait_completion: bool = True,
            debug: bool = False) -> Optional[bool]:
        """:meth:`Experiment.run` on ``port``, by default :attr:`default_port`."""
        return super().run(self.default_port if port is None else port, wait_completion, debug)

    def run_or_resume(self, port: Optional[int] = None, wait_completion: bool = True,
                      debug: bool = False) -> Optional[bool]:
        """:meth:`Experiment.run_or_resume` on ``port``, by default :attr:`default_port`."""
        return super().run_or_resume(self.default_port if port is None else port, wait_completion, debug)

    def resume(self, port: Optional[int] = None, wait_completion: bool = True,
               debug: bool = False) -> Optional[bool]:
        """:meth:`Experiment.resume` on ``port``, by default :attr:`default_port`."""
        return super().resume(self.default_port if port is None else port, wait_completion, debug)

    def view(self, port: Optional[int] = None, non_blocking: bool = False) -> Experiment:
        """:meth:`Experiment.view` on ``port``, by default :attr:`default_port`."""
        return super().view(self.default_port if port is None else port, non_blocking)


@dataclass
class RealManager:
    """What ``nni_real_manager`` gives: a ``RealBackend`` for NNI 3.0's manager in a throw-away home.

    Attributes
    ----------
    backend
        The :class:`~nni_exp.real.RealBackend` (manifest under ``home``).
    port
        A free port reserved for the test.
    home
        The HOME of the managers it starts (``home/nni-experiments/.experiment`` is the manifest).
    working_directory
        Experiment working directory for configs (``experiment_working_directory``).
    """

    backend: Any
    port: int
    home: Path
    working_directory: Path
    _experiments: List[Experiment] = field(default_factory=list, repr=False)
    _config_factory: Optional[Callable[..., ExperimentConfig]] = field(default=None, repr=False)

    def experiment(self, config: Optional[ExperimentConfig] = None, **overrides: Any) -> BoundExperiment:
        """A :class:`BoundExperiment` on :attr:`backend` and :attr:`port`, stopped at teardown.

        Without ``config``: ``nni_config(**overrides)``, whose trials run on this manager.
        """
        if config is None:
            if self._config_factory is None:
                raise ValueError("pass a config")
            config = self._config_factory(**overrides)
        experiment = BoundExperiment(config, backend=self.backend, default_port=self.port)
        self._experiments.append(experiment)
        return experiment

    def close(self) -> None:
        """Stop the experiments made here, kill any manager still alive, close the HTTP session."""
        try:
            for experiment in self._experiments:
                try:
                    experiment.stop()
                except Exception:  # noqa: BLE001 - the kill below is the safety net
                    pass
        finally:
            kill_leftover_managers(self.backend)
            self.backend.close()
