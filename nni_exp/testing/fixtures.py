"""The pytest fixtures of nni-exp (the plugin module :mod:`nni_exp.pytest_plugin` re-exports them).

Importing this module is cheap (pytest and the standard library): the fake, ``requests`` and
``nni`` are imported inside the fixtures, when a test uses them.

* ``nni_fake_manager``: a fresh :class:`~nni_exp.testing.faults.InstrumentedFakeManager` (a
  ``fakes.FakeManager``), configured by ``@pytest.mark.nni_fake``;
* ``nni_fake_time``: the test thread's ``time.sleep`` (the marker's ``patch_time="all"``: also
  ``time.time``, ``time.monotonic``) on that fake's virtual clock, a :class:`fakes.TimePatch`;
* ``nni_config``: ``nni_config(**overrides) -> ExperimentConfig``, a valid local config (Random
  tuner, ``x`` uniform in [0, 1], 2 trials at a time, 4 trials) whose directories are the test's own;
* ``nni_backend_kind``: ``"fake"``, ``"server"`` or ``"nni"`` (``--nni-backend``);
* ``nni_backend``: the backend of that kind, for this test: the fake (``nni_fake_manager``), the
  fake manager server process, or NNI's real manager, in a throw-away home;
* ``nni_port``: the port for the test's manager (a free one for real processes);
* ``nni_experiment``: a :class:`~nni_exp.testing.backends.BoundExperiment` of ``nni_config()`` on
  ``nni_backend`` and ``nni_port``, stopped at teardown;
* ``nni_fake_server``: a :class:`~nni_exp.testing.server.FakeServer` (``.port``, ``.url``,
  ``.manager``, ``.experiment``) with an experiment of ``nni_config()`` running, cleared at
  teardown; ``nni_fake_server_listener`` (session scope) is the listener behind it, one per worker;
* ``nni_real_manager``: a :class:`~nni_exp.testing.backends.RealManager` for NNI 3.0's manager;
  skips where ``nni`` is missing, fails instead under ``--nni-require-real`` /
  ``NNI_EXP_REQUIRE_REAL=1``.

Nothing outlives a test: fake managers are closed, experiments stopped, manager processes still
alive in a test's manifest are killed (with their tuners and trials), and all files go under
pytest's ``tmp_path_factory``. Ports are chosen by the kernel, homes are per test, so the fixtures
are safe under pytest-xdist.
"""

from __future__ import annotations

import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional

import pytest

from .options import BACKEND_CHOICES, FakeSpec, backend_choice, fake_spec, real_required, time_scale

if TYPE_CHECKING:
    from fakes import TimePatch
    from nni_exp.config import ExperimentConfig

    from .backends import BoundExperiment, RealManager
    from .faults import InstrumentedFakeManager
    from .server import FakeServer

__all__ = [
    "nni_fake_manager",
    "nni_fake_time",
    "nni_config",
    "nni_backend",
    "nni_backend_kind",
    "nni_port",
    "nni_experiment",
    "nni_fake_server",
    "nni_fake_server_listener",
    "nni_real_manager",
    "track",
    "tracked",
    "close_listeners",
    "SEARCH_SPACE",
]

#: The search space of ``nni_config()``.
SEARCH_SPACE: Dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}

_TRACKED = pytest.StashKey[List[Any]]()
_LISTENERS: weakref.WeakSet[FakeServer] = weakref.WeakSet()
_FAKE_ONLY = ("tuner", "faults", "timing")


# ---------------------------------------------------------------------- bookkeeping


def track(request: pytest.FixtureRequest, obj: Any) -> None:
    """Remember ``obj`` (a fake manager, an experiment, a server ...) for the failure report of the test."""
    request.node.stash.setdefault(_TRACKED, []).append(obj)


def tracked(item: pytest.Item) -> List[Any]:
    """What the fixtures of ``item`` remembered with :func:`track`."""
    found: List[Any] = item.stash.get(_TRACKED, [])
    return list(found)


def close_listeners() -> None:
    """Close every fake server listener still open (the plugin's end-of-session safety net)."""
    for server in list(_LISTENERS):
        server.close()


def _need_real_manager(config: pytest.Config, what: str) -> None:
    """Skip (or fail when the real manager is required) if NNI 3.0 is not usable here."""
    from .backends import nni_missing_reason

    reason = nni_missing_reason()
    if reason is None:
        return
    if real_required(config):
        pytest.fail(f"{what}: {reason} (and the run requires the real manager: --nni-require-real or "
                    f"NNI_EXP_REQUIRE_REAL=1)", pytrace=False)
    pytest.skip(f"{what}: {reason}")


def _skip_unsupported(spec: FakeSpec, kind: str) -> None:
    """Skip a test whose ``nni_fake`` marker asks for what the ``kind`` backend cannot do."""
    from .backends import trial_reference

    given = spec.given()
    unsupported = [name for name in _FAKE_ONLY if name in given]
    if kind == "nni" and "time_scale" in given:
        unsupported.append("time_scale")
    if unsupported:
        pytest.skip(f"@pytest.mark.nni_fake({', '.join(f'{name}=...' for name in unsupported)}) needs the in-memory "
                    f"fake; --nni-backend={kind} cannot apply it")
    if spec.trial is not None and trial_reference(spec.trial) is None:
        pytest.skip(f"--nni-backend={kind} runs the trial in another process, which needs a module-level "
                    f"function or a 'module:function' string, not {spec.trial!r}")


# ---------------------------------------------------------------------- configs


def _config_factory(request: pytest.FixtureRequest, kind: str, tmp_path_factory: pytest.TempPathFactory,
                    spec: FakeSpec, root: Optional[Callable[[], Path]] = None) -> Callable[..., ExperimentConfig]:
    """``factory(**overrides) -> ExperimentConfig`` for a backend kind.

    ``root()`` gives the test's directory for working files (default: a new directory of
    ``tmp_path_factory``, made on first use); it is called only for backends that write files. The
    in-memory fake gets a path under pytest's base temporary directory that nothing creates.
    """
    from nni_exp.config import ExperimentConfig

    from .backends import trial_reference

    name = request.node.name[:60]
    directory = root if root is not None else _lazy_directory(tmp_path_factory, "nni-exp")
    scale = spec.time_scale if spec.time_scale is not None else time_scale(request.config)
    reference = trial_reference(spec.trial)
    command = f"{sys.executable} -m nni_exp.testing.bridge --time-scale {scale:g}"
    if reference is not None:
        command += f" --trial {reference}"
    tuner: Dict[str, Any] = {"name": "Random"}
    if spec.seed is not None:
        tuner["class_args"] = {"seed": spec.seed}

    def factory(**overrides: Any) -> ExperimentConfig:
        if kind == "fake":
            workdir = str(tmp_path_factory.getbasetemp() / "nni-fake" / "experiments")
            code = "."
        else:
            base = directory()
            workdir, code = str(base / "experiments"), str(base)
        kwargs: Dict[str, Any] = {
            "experiment_name": name,
            "search_space": SEARCH_SPACE,
            "trial_command": command,
            "trial_code_directory": code,
            "trial_concurrency": 2,
            "max_trial_number": 4,
            "tuner": dict(tuner),
            "training_service": {"platform": "local"},
            "experiment_working_directory": workdir,
        }
        kwargs.update(overrides)
        return ExperimentConfig(**kwargs)

    return factory


def _lazy_directory(factory: pytest.TempPathFactory, basename: str) -> Callable[[], Path]:
    made: List[Path] = []

    def root() -> Path:
        if not made:
            made.append(factory.mktemp(basename))
        return made[0]

    return root


# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def nni_fake_manager(request: pytest.FixtureRequest) -> Iterator[InstrumentedFakeManager]:
    """A fresh fake NNI manager (an :class:`~nni_exp.testing.faults.InstrumentedFakeManager`).

    ``@pytest.mark.nni_fake(trial=, seed=, tuner=, faults=, timing=, time_scale=, patch_time=)``
    configures it (``patch_time``: see ``nni_fake_time``). Every manager it still runs is killed at
    teardown, and its time patch undone.
    """
    from .backends import make_fake

    fake = make_fake(fake_spec(request.node))
    track(request, fake)
    yield fake
    fake.close()


@pytest.fixture
def nni_fake_time(request: pytest.FixtureRequest, nni_backend_kind: str) -> Iterator[Optional[TimePatch]]:
    """The test's ``time`` functions on the in-memory fake's virtual clock (a :class:`fakes.TimePatch`).

    ``time.sleep(s)`` in the test's thread advances ``nni_fake_manager``'s clock by ``s`` virtual
    seconds (trials run) and returns at once; with ``@pytest.mark.nni_fake(patch_time="all")``,
    ``time.time`` and ``time.monotonic`` read that clock too. The mode is the marker's
    ``patch_time``, else ``"sleep"``. Other threads keep real time; names imported from ``time``
    before the test started keep the real functions (see :mod:`fakes.time_patch`). Undone at
    teardown.

    Gives None, and leaves time alone, where the test's backend runs in real time
    (``--nni-backend=server|nni``, for a test that does not use ``nni_fake_manager`` itself): there
    the test's sleeps really wait, as they would with NNI.
    """
    if nni_backend_kind != "fake" and "nni_fake_manager" not in request.fixturenames:
        yield None
        return
    fake = request.getfixturevalue("nni_fake_manager")
    existing: Optional[TimePatch] = fake.time_patch
    if existing is not None:  # the marker's patch_time: undone when the fake is closed
        yield existing
        return
    patch: TimePatch = fake.patch_time(fake_spec(request.node).patch_time or "sleep")
    try:
        yield patch
    finally:
        patch.stop()


@pytest.fixture
def nni_backend_kind(request: pytest.FixtureRequest) -> str:
    """The backend kind of the run: ``"fake"`` (default), ``"server"`` or ``"nni"`` (``--nni-backend``)."""
    return backend_choice(request.config)


@pytest.fixture
def nni_config(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               nni_backend_kind: str) -> Callable[..., ExperimentConfig]:
    """A factory of valid configs: ``nni_config(**overrides) -> ExperimentConfig``.

    Defaults: local platform, Random tuner (seeded by the marker's ``seed``), search space ``x``
    uniform in [0, 1], ``trial_concurrency=2``, ``max_trial_number=4``, a trial command that runs
    the marker's trial function under the real manager (:mod:`nni_exp.testing.bridge`). The working
    directory is the test's own (under ``tmp_path_factory``) where a real process writes files; the
    in-memory fake writes nothing. Keyword overrides are ``ExperimentConfig`` fields.
    """
    spec = fake_spec(request.node)
    return _config_factory(request, nni_backend_kind, tmp_path_factory, spec)


@pytest.fixture
def nni_port(nni_backend_kind: str) -> int:
    """The port for the test's manager: 8080 on the in-memory fake (it has no real ports), else a
    port that is free right now."""
    if nni_backend_kind == "fake":
        return 8080
    from .backends import free_port

    return free_port()


@pytest.fixture
def nni_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                nni_backend_kind: str) -> Iterator[Any]:
    """The backend of the run (``--nni-backend``), for the test alone.

    * ``fake``: ``nni_fake_manager``;
    * ``server``: a ``RealBackend`` that launches ``python -m fakes.server`` (marker ``trial`` as a
      ``module:function``, ``seed``, ``time_scale`` or the ``nni_time_scale`` ini value);
    * ``nni``: a ``RealBackend`` for NNI 3.0's manager (skipped, or failed when required, where
      ``nni`` is missing).

    On ``server`` and ``nni`` a test whose marker asks for fake-only settings (``tuner``,
    ``faults``, ``timing``, a trial that is not importable) is skipped with the reason. Managers
    the test left alive are killed at teardown.
    """
    if nni_backend_kind == "fake":
        yield request.getfixturevalue("nni_fake_manager")
        return
    assert nni_backend_kind in BACKEND_CHOICES
    from .backends import kill_leftover_managers, make_real_backend, make_server_backend, trial_reference

    spec = fake_spec(request.node)
    _skip_unsupported(spec, nni_backend_kind)
    home = tmp_path_factory.mktemp("nni-home")
    if nni_backend_kind == "nni":
        _need_real_manager(request.config, "--nni-backend=nni")
        backend = make_real_backend(home)
    else:
        scale = spec.time_scale if spec.time_scale is not None else time_scale(request.config)
        backend = make_server_backend(home, trial=trial_reference(spec.trial), seed=spec.seed, time_scale=scale,
                                      search=spec.search)
    track(request, backend)
    try:
        yield backend
    finally:
        try:
            kill_leftover_managers(backend)
        finally:
            backend.close()


@pytest.fixture
def nni_experiment(request: pytest.FixtureRequest, nni_backend: Any, nni_config: Callable[..., ExperimentConfig],
                   nni_port: int) -> Iterator[BoundExperiment]:
    """An experiment of ``nni_config()`` on the run's backend; ``run()``/``start()`` default to ``nni_port``.

    Not started. Stopped at teardown (on the fake, with its faults suspended).
    """
    from .backends import BoundExperiment
    from .faults import InstrumentedFakeManager

    experiment = BoundExperiment(nni_config(), backend=nni_backend, default_port=nni_port)
    track(request, experiment)
    yield experiment
    if isinstance(nni_backend, InstrumentedFakeManager):
        with nni_backend.faults_suspended():
            experiment.stop()
    else:
        experiment.stop()


@pytest.fixture(scope="session")
def nni_fake_server_listener() -> Iterator[FakeServer]:
    """The HTTP listener behind ``nni_fake_server``: one per session (per xdist worker), on
    ``127.0.0.1`` and a port chosen by the kernel; closed at the end of the session."""
    from .server import FakeServer

    server = FakeServer()
    _LISTENERS.add(server)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def nni_fake_server(request: pytest.FixtureRequest, nni_fake_server_listener: FakeServer,
                    nni_fake_manager: InstrumentedFakeManager, tmp_path_factory: pytest.TempPathFactory,
                    ) -> Iterator[FakeServer]:
    """The test's fake manager served over HTTP, with an experiment of ``nni_config()`` running.

    ``.url`` is the REST API root (``http://127.0.0.1:<port>/api/v1/nni``); ``.manager`` the fake
    (``.manager.advance(60)`` lets virtual time pass; or use ``@pytest.mark.nni_fake(time_scale=...)``
    for a clock that follows real time, for clients that sleep); ``.experiment`` the running
    experiment; ``.start_experiment(config)`` replaces it; ``.log`` the requests received. Faults of
    the marker apply to HTTP requests (not to the launch). At teardown the experiment is stopped and
    the fake dropped: the port stays, the state does not.
    """
    spec = fake_spec(request.node)
    factory = _config_factory(request, "fake", tmp_path_factory, spec)
    server = nni_fake_server_listener
    server.serve(nni_fake_manager)
    try:
        server.start_experiment(factory())
        yield server
    finally:
        server.clear()


@pytest.fixture
def nni_real_manager(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                     ) -> Iterator[RealManager]:
    """NNI 3.0's real manager, ready to start: a ``RealBackend`` with its own home, a free port, a
    working directory, and ``.experiment(config=None, **overrides)`` to make experiments on it.

    Skips with the reason where ``nni`` (or ``nni_node``) is not importable; fails instead under
    ``--nni-require-real`` or ``NNI_EXP_REQUIRE_REAL=1``. At teardown, experiments made with
    ``.experiment()`` are stopped and any manager of its manifest still alive is killed.
    """
    _need_real_manager(request.config, "nni_real_manager")
    from .backends import RealManager, free_port, make_real_backend

    root = tmp_path_factory.mktemp("nni-real")
    home = root / "home"
    spec = fake_spec(request.node)
    manager = RealManager(make_real_backend(home), free_port(), home, root / "experiments",
                          _config_factory=_config_factory(request, "nni", tmp_path_factory, spec, lambda: root))
    track(request, manager)
    try:
        yield manager
    finally:
        manager.close()
