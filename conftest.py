"""Suite-wide pytest settings.

Tests marked ``real_nni`` need the real NNI 3.0 manager and skip where ``nni`` is not installed. With
``NNI_EXP_REQUIRE_REAL=1`` (set by ``.ci/run``) such a skip is a failure instead, so CI cannot pass
without really running them.
"""

from __future__ import annotations

import os
from typing import Any, Generator

import pytest

REQUIRE_REAL_ENV = "NNI_EXP_REQUIRE_REAL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--nni-target", dest="nni_target", default=None, metavar="TARGETS",
                     help="targets of the scenario suite (tests/scenarios): a comma-separated subset of "
                          "fake,server,nni (default: all; also $NNI_EXP_TARGETS)")
    parser.addoption("--nni-differential", dest="nni_differential", type=int, default=0, metavar="N",
                     help="tests/differential: run N generated seeds (from --nni-differential-start) against "
                          "the real NNI manager instead of the fixed CI seeds")
    parser.addoption("--nni-differential-start", dest="nni_differential_start", type=int, default=1000,
                     metavar="SEED", help="tests/differential: the first seed of --nni-differential (default 1000)")
    parser.addoption("--nni-differential-shrink", dest="nni_differential_shrink", action="store_true",
                     help="tests/differential: on a divergence, replay smaller variants of the scenario and "
                          "report the smallest that still diverges (real time)")
    parser.addoption("--nni-differential-seed", dest="nni_differential_seed", type=int, action="append",
                     default=[], metavar="SEED", help="tests/differential: run just this seed (repeatable)")


def _real_required() -> bool:
    return os.environ.get(REQUIRE_REAL_ENV, "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _real_required() and item.get_closest_marker("real_nni") is not None:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"real-manager test skipped while {REQUIRE_REAL_ENV}=1: {reason}"
