"""The three targets a scenario runs on, behind one interface.

=========  ==========================================================================================
``fake``   :class:`fakes.FakeManager` in memory; time is virtual (waiting advances the clock)
``server`` ``python -m fakes.server`` launched through the real backend (``RealBackend(manager_command=
           ...)``), real HTTP, time scaled (``--time-scale``)
``nni``    the real NNI 3.0 manager (``RealBackend``), real trial processes, real time
=========  ==========================================================================================

A :class:`TargetKind` (what the pytest ``target`` fixture gives) opens one :class:`Target` per scenario
run: a machine (the backend: one fake world, or one throw-away ``HOME``), its experiment configs, raw
HTTP access, waiting and cleanup. Times given to a target are *scenario seconds*: real seconds of the
real manager, virtual seconds of the fakes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests

from nni_exp import Experiment, ExperimentConfig
from nni_exp.errors import ManagerUnreachableError
from nni_exp.rest import API_ROOT, build_url
from nni_exp.testing.backends import free_port, nni_missing_reason

from .behaviours import TrialBehaviour

__all__ = [
    "TARGET_NAMES",
    "TargetKind",
    "Target",
    "RawAnswer",
    "free_port",
    "nni_missing_reason",
    "SEARCH_SPACE",
    "SEED",
    "REPO_DIR",
    "CODE_PLACEHOLDER",
]

TARGET_NAMES = ("fake", "server", "nni")
#: ``x`` uniform in [0, 1]: what every scenario's trials get unless it says otherwise.
SEARCH_SPACE: Dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}
#: Seed of the tuners (``classArgs.seed``) and of the fakes.
SEED = 42
REPO_DIR = Path(__file__).resolve().parents[2]
#: Virtual seconds per real second of the fake manager server, unless a scenario asks otherwise.
DEFAULT_TIME_SCALE = 20.0
#: Stands for the machine's trial code directory in config overrides (``"<code>/tuner_code"``).
CODE_PLACEHOLDER = "<code>"




@dataclass
class RawAnswer:
    """An HTTP answer as it arrived: status, content type and body text.

    ``timed_out``: the manager accepted the request and never answered; ``unreachable``: nothing
    listens on the port. ``status`` is None in both cases.
    """

    status: Optional[int]
    content_type: str = ""
    text: str = ""
    timed_out: bool = False
    unreachable: bool = False

    def json(self) -> Any:
        """The body decoded as JSON (None when empty or not JSON)."""
        if not self.text.strip():
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class TargetKind:
    """A target as the ``target`` fixture gives it: its name and a place for its files."""

    def __init__(self, name: str, root: Path) -> None:
        if name not in TARGET_NAMES:
            raise ValueError(f"unknown target {name!r}; choose from {', '.join(TARGET_NAMES)}")
        self.name = name
        self.root = root
        self._opened: List[Target] = []

    def __repr__(self) -> str:
        return f"<TargetKind {self.name}>"

    @property
    def is_fake(self) -> bool:
        """True for the two fakes (they answer the deliberate fixes of the README)."""
        return self.name != "nni"

    @property
    def realtime(self) -> bool:
        """True when time passes by itself (the server and the real manager)."""
        return self.name != "fake"

    def open(self, scenario: str, behaviour: TrialBehaviour, time_scale: Optional[float] = None, *,
             real_trials: bool = False) -> Target:
        """A fresh machine for one run of ``scenario`` whose trials behave as ``behaviour``
        (``real_trials``: the fakes run its ``trial.py`` for real, as the real manager does)."""
        directory = self.root / f"{scenario}-{len(self._opened)}"
        directory.mkdir(parents=True, exist_ok=False)
        cls = {"fake": FakeTarget, "server": ServerTarget, "nni": NniTarget}[self.name]
        target = cls(self, directory, behaviour, time_scale or DEFAULT_TIME_SCALE, real_trials)
        self._opened.append(target)
        return target

    def close(self) -> None:
        """Close every target opened (kill what they left running)."""
        for target in self._opened:
            target.close()


class Target:
    """One machine of a target, for one scenario run (see the module docstring).

    Attributes: ``kind`` (the :class:`TargetKind`), ``name``, ``directory`` (a throw-away directory
    holding ``home/``, ``work/`` and ``code/``), ``behaviour`` and ``backend``.
    """

    #: Real seconds between two polls of :meth:`wait_until`.
    poll_interval = 0.1

    def __init__(self, kind: TargetKind, directory: Path, behaviour: TrialBehaviour, time_scale: float,
                 real_trials: bool = False) -> None:
        self.kind = kind
        self.real_trials = real_trials
        self.name = kind.name
        self.directory = directory
        self.behaviour = behaviour
        self.time_scale = time_scale
        self.home = directory / "home"
        self.work = directory / "work"
        self.code = directory / "code"
        for path in (self.home, self.work, self.code):
            path.mkdir()
        (self.code / "trial.py").write_text(behaviour.script())
        for name, text in behaviour.files:
            (self.code / name).parent.mkdir(parents=True, exist_ok=True)
            (self.code / name).write_text(text)
        self.backend: Any = self._make_backend()
        self._closed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.directory}>"

    def _make_backend(self) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ experiments

    def config(self, **overrides: Any) -> ExperimentConfig:
        """The config of a scenario experiment: ``python trial.py`` of the behaviour, Random tuner
        seeded with :data:`SEED`, ``x`` uniform in [0, 1], concurrency 2, 4 trials, working directory
        under :attr:`directory`; ``overrides`` are ``ExperimentConfig`` fields (None removes one).
        ``"<code>/..."`` in an override is a path in this machine's trial code directory."""
        overrides = self._resolve_code(overrides)
        fields: Dict[str, Any] = {
            "experiment_name": "scenario",
            "search_space": SEARCH_SPACE,
            "trial_command": f"{sys.executable} trial.py",
            "trial_code_directory": str(self.code),
            "trial_concurrency": 2,
            "max_trial_number": 4,
            "tuner": {"name": "Random", "class_args": {"seed": SEED}},
            "training_service": {"platform": "local"},
            "experiment_working_directory": str(self.work),
        }
        fields.update(overrides)
        return ExperimentConfig(**{k: v for k, v in fields.items() if v is not None})

    def _resolve_code(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(CODE_PLACEHOLDER):
            return str(self.code) + value[len(CODE_PLACEHOLDER):]
        if isinstance(value, dict):
            return {key: self._resolve_code(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve_code(item) for item in value]
        return value

    def dispatcher_log(self, experiment: Experiment) -> str:
        """The experiment's ``dispatcher.log`` as it is now ('' when there is none)."""
        config = experiment.config
        assert config is not None
        work = Path(str(config.canonical_copy().experiment_working_directory))
        path = work / experiment.id / "log" / "dispatcher.log"
        return path.read_text() if path.exists() else ""

    def experiment(self, config: Optional[ExperimentConfig], experiment_id: Optional[str] = None) -> Experiment:
        """``Experiment(config, id=..., backend=<this machine>)``."""
        return Experiment(config, experiment_id, backend=self.backend)

    def free_port(self) -> int:
        """A port for a manager of this machine."""
        return free_port()

    # ------------------------------------------------------------------ raw access

    def raw(self, port: int, method: str, path: str, text: Optional[str] = None, *,
            url_prefix: Optional[str] = None, timeout: float = 20.0) -> RawAnswer:
        """Send one HTTP request to the manager on ``port`` (``path`` relative to the API root)."""
        url = build_url(port, path, url_prefix)
        try:
            response = requests.request(
                method, url, data=None if text is None else text.encode("utf-8"),
                headers={"Content-Type": "application/json", "Connection": "close"}, timeout=timeout,
            )
        except requests.exceptions.ConnectTimeout:
            return RawAnswer(None, unreachable=True)
        except requests.exceptions.ConnectionError:
            return RawAnswer(None, unreachable=True)
        except requests.exceptions.Timeout:
            return RawAnswer(None, timed_out=True)
        return RawAnswer(response.status_code, response.headers.get("Content-Type", ""), response.text)

    def manifest(self) -> Dict[str, Dict[str, Any]]:
        """The manifest records as stored (no crash detection)."""
        return dict(self.backend.manifest_file.read())

    def remove_record(self, experiment_id: str) -> None:
        """Delete an experiment's manifest record."""
        self.backend.manifest_file.remove(experiment_id)

    def add_record(self, record: Dict[str, Any]) -> None:
        """Add (or replace) a manifest record."""
        self.backend.manifest_file.add(record)

    # ------------------------------------------------------------------ time

    def real_seconds(self, seconds: float) -> float:
        """How many real seconds ``seconds`` scenario seconds take on this target."""
        return seconds

    def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Check ``predicate`` until it returns something truthy (returned); None after ``timeout``
        scenario seconds."""
        deadline = time.monotonic() + self.real_seconds(timeout) + 5.0
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                return None
            time.sleep(self.poll_interval)

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` scenario seconds pass."""
        time.sleep(self.real_seconds(seconds))

    # ------------------------------------------------------------------ cleanup

    def close(self) -> None:
        """Kill every manager this machine still runs (its files stay, under pytest's ``tmp_path``)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.backend.kill_running_managers()
        finally:
            self.backend.close()


class FakeTarget(Target):
    """The in-memory fake: one :class:`fakes.FakeManager` whose trial is the behaviour's fake trial."""

    #: Virtual seconds between two polls of :meth:`wait_until`.
    step = 0.1

    def _make_backend(self) -> Any:
        from fakes import FakeManager

        if self.real_trials:
            return FakeManager(seed=SEED, real_trials=True)
        return FakeManager(self.behaviour.fake_trial, seed=SEED)

    def raw(self, port: int, method: str, path: str, text: Optional[str] = None, *,
            url_prefix: Optional[str] = None, timeout: float = 20.0) -> RawAnswer:
        """The router's answer, as the HTTP server would send it."""
        target = ("/" + url_prefix.strip("/") if url_prefix else "") + "/" + API_ROOT + "/" + path.lstrip("/")
        try:
            answer = self.backend.handle(port, method, target, text)
        except ManagerUnreachableError:
            return RawAnswer(None, unreachable=True)
        return RawAnswer(answer.status, answer.content_type, answer.body)

    def manifest(self) -> Dict[str, Dict[str, Any]]:
        return dict(self.backend.manifest.read())

    def dispatcher_log(self, experiment: Experiment) -> str:
        """The simulated dispatcher's log (the experiment must be running)."""
        return str(self.backend.manager_at(experiment.port).dispatcher_log.text)

    def remove_record(self, experiment_id: str) -> None:
        self.backend.manifest.remove(experiment_id)

    def add_record(self, record: Dict[str, Any]) -> None:
        self.backend.manifest.add(record)

    def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Check ``predicate``, advancing the virtual clock by :attr:`step` between checks."""
        elapsed = 0.0
        while True:
            value = predicate()
            if value:
                return value
            if elapsed >= timeout - 1e-9:
                return None
            self.backend.advance(self.step)
            elapsed += self.step

    def sleep(self, seconds: float) -> None:
        self.backend.advance(seconds)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.backend.close()


class ServerTarget(Target):
    """``python -m fakes.server`` through the real backend, at :attr:`time_scale` virtual s per real s."""

    poll_interval = 0.02

    def _make_backend(self) -> Any:
        from nni_exp.real import RealBackend

        trials = ["--real-trials"] if self.real_trials else ["--trial", self.behaviour.reference]
        command = [sys.executable, "-m", "fakes.server", "--time-scale", f"{self.time_scale:g}", *trials,
                   "--seed", str(SEED)]
        pythonpath = os.pathsep.join(p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if p)
        return RealBackend(home=self.home, manager_command=command, env={"PYTHONPATH": pythonpath}, kill_grace=1.0)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.time_scale


class NniTarget(Target):
    """The real NNI 3.0 manager, in a throw-away ``HOME``."""

    def _make_backend(self) -> Any:
        from nni_exp.real import RealBackend

        return RealBackend(home=self.home)
