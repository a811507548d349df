"""pytest plugin of nni-exp, registered through the ``pytest11`` entry point (nothing to configure).

Fixtures (see :mod:`nni_exp.testing.fixtures`): ``nni_fake_manager``, ``nni_fake_time``, ``nni_config``,
``nni_backend``, ``nni_backend_kind``, ``nni_port``, ``nni_experiment``, ``nni_fake_server``
(and its session listener ``nni_fake_server_listener``), ``nni_real_manager``; ``nni_responses``
(:mod:`nni_exp.testing.responses_fixture`) and ``nni_trial`` (:mod:`nni_exp.testing.trial_fixture`).

Marker: ``@pytest.mark.nni_fake(trial=, seed=, tuner=, search=, faults=, timing=, time_scale=,
patch_time=)`` configures the test's fake manager (faults: :mod:`nni_exp.testing.faults`;
``patch_time="sleep" | "all"``: the test's ``time.sleep`` moves the fake's virtual clock,
:mod:`fakes.time_patch`).

Options: ``--nni-backend=fake|server|nni`` (ini ``nni_backend``), ``--nni-require-real`` (or
``NNI_EXP_REQUIRE_REAL=1``), ini ``nni_time_scale`` (see :mod:`nni_exp.testing.options`).

Ctrl-C: ``Experiment.run()`` and ``view()`` stop the experiment, then re-raise ``KeyboardInterrupt``
so the session ends as interrupted instead of failing an ``assert exp.run()`` (:mod:`nni_exp.interrupts`).

Failure report: when a test that used these fixtures fails, its report gets a section
``nni-exp: experiment state`` with each experiment's status, a trial table and the manager's last
log lines (:mod:`nni_exp.testing.report`).

This module stays light: at start-up it imports pytest and the two small modules below, never the
fake, ``nni`` or the real backend, which the fixtures import when a test uses them. Fixtures of
other modules are added by importing them here (pytest collects the fixture functions found in a
plugin module's namespace).
"""

from __future__ import annotations

from typing import Any, Generator

import pytest

from nni_exp.interrupts import set_reraise_keyboard_interrupts
from nni_exp.testing.fixtures import (
    close_listeners,
    nni_backend,
    nni_backend_kind,
    nni_config,
    nni_experiment,
    nni_fake_manager,
    nni_fake_server,
    nni_fake_server_listener,
    nni_fake_time,
    nni_port,
    nni_real_manager,
    tracked,
)
from nni_exp.testing.options import MARKER_HELP, add_options, backend_choice, real_required
from nni_exp.testing.responses_fixture import MARKER_HELP as NNI_RESPONSES_MARKER_HELP
from nni_exp.testing.responses_fixture import nni_responses
from nni_exp.testing.trial_fixture import nni_trial

__all__ = [
    "nni_backend",
    "nni_backend_kind",
    "nni_config",
    "nni_experiment",
    "nni_fake_manager",
    "nni_fake_server",
    "nni_fake_server_listener",
    "nni_fake_time",
    "nni_port",
    "nni_real_manager",
    "nni_responses",
    "nni_trial",
]

#: Whether Ctrl-C was re-raised before this session switched it on (:mod:`nni_exp.interrupts`).
_PREVIOUS_RERAISE = pytest.StashKey[bool]()
#: Title of the report section added to failed tests.
REPORT_SECTION = "nni-exp: experiment state"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", NNI_RESPONSES_MARKER_HELP)
    backend_choice(config)  # a bad ini value is a usage error at start-up, not in every test
    config.stash[_PREVIOUS_RERAISE] = set_reraise_keyboard_interrupts(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PREVIOUS_RERAISE in config.stash:
        set_reraise_keyboard_interrupts(config.stash[_PREVIOUS_RERAISE])


def pytest_report_header(config: pytest.Config) -> str:
    required = ", real manager required" if real_required(config) else ""
    return f"nni-exp: backend {backend_choice(config)}{required}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    """Add the experiment state to the report of a failed test that used the plugin's fixtures."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.failed:
        return
    objects = tracked(item)
    if not objects:
        return
    try:
        from nni_exp.testing.report import describe

        text = describe(objects)
    except Exception as error:  # noqa: BLE001 - the report must never hide the test's own failure
        text = f"cannot describe the experiment state: {type(error).__name__}: {error}"
    if text:
        report.sections.append((REPORT_SECTION, text))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Safety net: close fake server listeners that a session fixture did not close."""
    close_listeners()
