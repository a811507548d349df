"""Command-line options, ini settings and the ``nni_fake`` marker of the pytest plugin.

Everything here is cheap to import (standard library and pytest only): the plugin module imports
it at start-up, before any test runs.

* ``--nni-backend=fake|server|nni`` (ini ``nni_backend``, default ``fake``): the backend of the
  ``nni_backend`` / ``nni_experiment`` fixtures for the whole run;
* ``--nni-require-real`` (or ``NNI_EXP_REQUIRE_REAL=1``): a test that needs the real NNI manager
  fails instead of skipping where ``nni`` is not importable;
* ini ``nni_time_scale`` (default 100): virtual seconds per real second where a trial function
  runs in real time (the fake manager server of ``--nni-backend=server``, trials on the real
  manager).

The marker's ``patch_time="sleep" | "all"`` puts the test thread's ``time.sleep`` (and, with
``"all"``, ``time.time`` / ``time.monotonic``) on the in-memory fake's virtual clock
(:mod:`fakes.time_patch`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

import pytest

__all__ = [
    "BACKEND_CHOICES",
    "PATCH_TIME_CHOICES",
    "DEFAULT_TIME_SCALE",
    "MARKER_NAME",
    "MARKER_HELP",
    "REQUIRE_REAL_ENV",
    "FakeSpec",
    "add_options",
    "backend_choice",
    "real_required",
    "time_scale",
    "fake_spec",
]

#: Values of ``--nni-backend``.
BACKEND_CHOICES = ("fake", "server", "nni")
#: Values of the marker's ``patch_time`` (besides None); :data:`fakes.time_patch.PATCH_TIME_MODES`,
#: repeated here so that the plugin does not import the fake at start-up.
PATCH_TIME_CHOICES = ("sleep", "all")
#: Default of the ``nni_time_scale`` ini setting.
DEFAULT_TIME_SCALE = 100.0
#: Name of the marker that configures the fake manager of one test.
MARKER_NAME = "nni_fake"
MARKER_HELP = (
    "nni_fake(trial=None, seed=None, tuner=None, search=None, faults=None, timing=None, time_scale=None, "
    "patch_time=None): configure the fake NNI manager of nni_fake_manager / nni_experiment / nni_fake_server "
    "for this test; patch_time='sleep' or 'all' puts the test's time.sleep (and time.time, time.monotonic) "
    "on the fake's virtual clock"
)
#: Environment variable that turns a skip for a missing ``nni`` into a failure.
REQUIRE_REAL_ENV = "NNI_EXP_REQUIRE_REAL"

_BACKEND_OPTION = "nni_backend"
_REQUIRE_OPTION = "nni_require_real"
_TIME_SCALE_INI = "nni_time_scale"
_MARKER_KEYS = ("trial", "seed", "tuner", "search", "faults", "timing", "time_scale", "patch_time")


def add_options(parser: pytest.Parser) -> None:
    """Register the plugin's command-line options and ini settings (``pytest_addoption``)."""
    group = parser.getgroup("nni-exp", "nni-exp: NNI experiments against a fake or the real manager")
    group.addoption(
        "--nni-backend", dest=_BACKEND_OPTION, choices=BACKEND_CHOICES, default=None,
        help="backend of the nni_backend / nni_experiment fixtures: fake (in-memory, default), server "
             "(the fake manager as an HTTP server process, launched like the real one) or nni (the real "
             "NNI 3.0 manager; needs nni installed). Default: the nni_backend ini setting, else fake.",
    )
    group.addoption(
        "--nni-require-real", dest=_REQUIRE_OPTION, action="store_true", default=False,
        help=f"fail, instead of skipping, tests that need the real NNI manager when nni is not importable "
             f"(also {REQUIRE_REAL_ENV}=1)",
    )
    parser.addini(_BACKEND_OPTION, "default of --nni-backend (fake, server or nni)", default="fake")
    parser.addini(_TIME_SCALE_INI, "virtual seconds per real second for trial functions that run in real "
                                   "time (--nni-backend=server or nni)", default=str(DEFAULT_TIME_SCALE))


def backend_choice(config: pytest.Config) -> str:
    """The backend chosen for the run: ``--nni-backend``, else the ``nni_backend`` ini value, else ``fake``."""
    value = config.getoption(_BACKEND_OPTION, default=None)
    if value is None:
        value = str(config.getini(_BACKEND_OPTION) or "fake").strip().lower()
    if value not in BACKEND_CHOICES:
        raise pytest.UsageError(f"nni_backend = {value!r}: use one of {', '.join(BACKEND_CHOICES)}")
    return str(value)


def real_required(config: pytest.Config) -> bool:
    """True under ``--nni-require-real`` or ``NNI_EXP_REQUIRE_REAL=1`` (``true``/``yes`` too)."""
    if config.getoption(_REQUIRE_OPTION, default=False):
        return True
    return os.environ.get(REQUIRE_REAL_ENV, "").strip().lower() in ("1", "true", "yes")


def time_scale(config: pytest.Config) -> float:
    """The ``nni_time_scale`` ini value (a positive number)."""
    raw = config.getini(_TIME_SCALE_INI)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"nni_time_scale = {raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise pytest.UsageError(f"nni_time_scale must be a positive number, got {raw!r}")
    return value


@dataclass(frozen=True)
class FakeSpec:
    """What ``@pytest.mark.nni_fake(...)`` asks of the test's fake manager (all optional).

    ``trial``: a trial function ``fn(params, trial)`` or a ``"module:function"`` string; ``seed``: an
    int; ``tuner``: a tuner object or callable (see :class:`fakes.FakeManager`); ``search``:
    ``"auto"``, ``"nni"`` or ``"own"``, who runs the search (see :mod:`fakes.search`); ``faults``: a
    mapping of faults (see :mod:`nni_exp.testing.faults`); ``timing``: a
    :class:`fakes.ManagerTiming`; ``time_scale``: make the fake follow real time at this many virtual
    seconds per real second instead of its virtual clock; ``patch_time``: ``"sleep"`` or ``"all"``,
    while the in-memory fake lives, ``time.sleep`` in the test's thread advances its virtual clock
    (``"all"``: ``time.time`` and ``time.monotonic`` read it too; see :mod:`fakes.time_patch`).
    Backends that run in real time (``--nni-backend=server|nni``) ignore ``patch_time``: there the
    test's sleeps really wait.
    """

    trial: Any = None
    seed: Optional[int] = None
    tuner: Any = None
    search: Optional[str] = None
    faults: Mapping[str, Any] = field(default_factory=dict)
    timing: Any = None
    time_scale: Optional[float] = None
    patch_time: Optional[str] = None

    def given(self) -> Dict[str, Any]:
        """The settings the marker gave (those not at their default)."""
        values = {key: getattr(self, key) for key in _MARKER_KEYS}
        return {key: value for key, value in values.items()
                if value is not None and not (key == "faults" and not value)}


def fake_spec(node: pytest.Item) -> FakeSpec:
    """The closest ``nni_fake`` marker of ``node`` as a validated :class:`FakeSpec` (defaults when none).

    Raises ``TypeError`` with a clear message for positional arguments, unknown keywords or values
    of the wrong type (the test then errors at set-up).
    """
    marker = node.get_closest_marker(MARKER_NAME)
    if marker is None:
        return FakeSpec()
    if marker.args:
        raise TypeError(f"@pytest.mark.{MARKER_NAME} takes keyword arguments only "
                        f"({', '.join(_MARKER_KEYS)}), got positional {marker.args!r}")
    unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
    if unknown:
        raise TypeError(f"@pytest.mark.{MARKER_NAME}: unknown argument(s) {', '.join(unknown)}; "
                        f"known: {', '.join(_MARKER_KEYS)}")
    kwargs = dict(marker.kwargs)
    trial = kwargs.get("trial")
    if trial is not None and not callable(trial) and not (isinstance(trial, str) and ":" in trial):
        raise TypeError(f"@pytest.mark.{MARKER_NAME}(trial=...) must be a function fn(params, trial) or a "
                        f"'module:function' string, got {trial!r}")
    seed = kwargs.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"@pytest.mark.{MARKER_NAME}(seed=...) must be an int, got {seed!r}")
    faults = kwargs.get("faults")
    if faults is None:
        faults = {}
    if not isinstance(faults, Mapping):
        raise TypeError(f"@pytest.mark.{MARKER_NAME}(faults=...) must be a dict, got {type(faults).__name__}")
    scale = kwargs.get("time_scale")
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < float("inf"):
            raise TypeError(f"@pytest.mark.{MARKER_NAME}(time_scale=...) must be a positive number, got {scale!r}")
        scale = float(scale)
    search = kwargs.get("search")
    if search is not None and search not in ("auto", "nni", "own"):
        raise TypeError(f"@pytest.mark.{MARKER_NAME}(search=...) must be 'auto', 'nni' or 'own', got {search!r}")
    patch_time = kwargs.get("patch_time")
    if patch_time is not None and (not isinstance(patch_time, str) or patch_time not in PATCH_TIME_CHOICES):
        raise TypeError(f"@pytest.mark.{MARKER_NAME}(patch_time=...) must be "
                        f"{' or '.join(map(repr, PATCH_TIME_CHOICES))} (or None), got {patch_time!r}")
    if patch_time is not None and scale is not None:
        raise TypeError(f"@pytest.mark.{MARKER_NAME}: patch_time={patch_time!r} needs the fake's virtual clock, "
                        f"time_scale={scale:g} makes it follow real time; give one or the other")
    return FakeSpec(trial=trial, seed=seed, tuner=kwargs.get("tuner"), search=search, faults=dict(faults),
                    timing=kwargs.get("timing"), time_scale=scale, patch_time=patch_time)
