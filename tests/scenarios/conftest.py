"""Fixtures of the scenario suite: the ``target`` (one per selected target) and cached scenario runs.

Targets: ``--nni-target=fake,server,nni`` (a comma-separated subset), else the environment variable
``NNI_EXP_TARGETS``, else all three. Tests on ``nni`` are marked ``real_nni``: they skip where
``nni==3.0`` is missing, and fail there under ``NNI_EXP_REQUIRE_REAL=1`` (the root ``conftest.py``).

pytest only accepts a command-line option from a conftest it loads before parsing the command line:
this file's ``pytest_addoption`` works when ``tests/scenarios`` is named on the command line
(``pytest tests/scenarios --nni-target=fake``); from the repository root (``pytest --nni-target=...``)
the option needs registering in the root ``conftest.py`` (see :data:`TARGET_OPTION_HELP`), and
``NNI_EXP_TARGETS=fake pytest`` works everywhere.

A scenario runs once per target and session (:func:`scenario`); every test reading it gets the same
:class:`~tests.scenarios.session.Session`. The targets are parametrized at session scope, so pytest
runs all tests of one target before the next one, and cleans each target up once.
"""

from __future__ import annotations

import os
from typing import Callable, Dict, Iterator, List, Tuple, Union

import pytest

from .scenarios import SCENARIOS, run_scenario
from .session import Session
from .targets import TARGET_NAMES, TargetKind, nni_missing_reason

#: Environment variable selecting targets when the command-line option is not available.
TARGETS_ENV = "NNI_EXP_TARGETS"
TARGET_OPTION_HELP = ("targets of the scenario suite (tests/scenarios): a comma-separated subset of "
                      f"{','.join(TARGET_NAMES)} (default: all; also ${TARGETS_ENV})")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--nni-target`` (ignored when the root conftest registered it already)."""
    try:
        parser.addoption("--nni-target", dest="nni_target", default=None, metavar="TARGETS", help=TARGET_OPTION_HELP)
    except ValueError:
        pass


def selected_targets(config: pytest.Config) -> List[str]:
    """The targets chosen for this run, in :data:`TARGET_NAMES` order."""
    value = config.getoption("nni_target", default=None) or os.environ.get(TARGETS_ENV, "")
    names = [name.strip().lower() for name in str(value).split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGET_NAMES]
    if unknown:
        raise pytest.UsageError(f"--nni-target / {TARGETS_ENV}: unknown target(s) {', '.join(unknown)}; "
                                f"choose among {', '.join(TARGET_NAMES)}")
    return [name for name in TARGET_NAMES if not names or name in names]


def pytest_configure(config: pytest.Config) -> None:
    """Refuse unknown target names at start-up."""
    selected_targets(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``target_name`` (hence ``target``) over the selected targets, at session scope."""
    if "target_name" in metafunc.fixturenames:
        params = [pytest.param(name, id=name, marks=[pytest.mark.real_nni] if name == "nni" else [])
                  for name in selected_targets(metafunc.config)]
        metafunc.parametrize("target_name", params, scope="session")


@pytest.fixture(scope="session")
def target(target_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetKind]:
    """The target of the test: ``fake``, ``server`` or ``nni`` (skipped without ``nni==3.0``)."""
    if target_name == "nni":
        reason = nni_missing_reason()
        if reason:
            pytest.skip(reason)
    kind = TargetKind(target_name, tmp_path_factory.mktemp(f"target-{target_name}"))
    yield kind
    kind.close()


_Runs = Dict[Tuple[str, str], Union[Session, Exception]]


@pytest.fixture(scope="session")
def _scenario_runs() -> _Runs:
    return {}


@pytest.fixture
def scenario(target: TargetKind, _scenario_runs: _Runs) -> Callable[[str], Session]:
    """``scenario(name)``: the run of scenario ``name`` on this target (run on first use)."""

    def get(name: str) -> Session:
        spec = SCENARIOS[name]
        if spec.nni_search and target.is_fake:
            from fakes.search import nni_missing_reason as search_missing

            reason = search_missing()
            if reason:
                pytest.skip(f"scenario {name} is about NNI's own algorithms, which the fakes run only with nni "
                            f"({reason}); without it they approximate them (README, 'The search')")
        key = (target.name, name)
        if key not in _scenario_runs:
            try:
                _scenario_runs[key] = run_scenario(target, name)
            except Exception as error:
                _scenario_runs[key] = error
                raise
        run = _scenario_runs[key]
        if isinstance(run, Exception):
            pytest.fail(f"scenario {name} failed on {target.name} (see the first test that ran it): {run}")
        return run

    return get
