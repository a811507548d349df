"""Random differential runs: each seed's generated scenario on NNI 3.0's manager and on the fake.

The fixed CI seeds run every time (marked ``real_nni``); ``--nni-differential=N`` runs N seeds,
``--nni-differential-seed=S`` one (the command a divergence prints).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.scenarios.targets import nni_missing_reason

from .compare import replay_command
from .generator import scenario_from_seed
from .run import run_differential
from .shrink import shrink

pytestmark = pytest.mark.real_nni


@pytest.fixture(autouse=True)
def _needs_nni() -> None:
    reason = nni_missing_reason()
    if reason:
        pytest.skip(reason)


def test_fake_matches_real_manager(differential_seed: int, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The generated scenario of the seed: the fake observes what NNI 3.0's manager observes."""
    outcome = run_differential(differential_seed, tmp_path)
    print(outcome.summary())
    if outcome.report:
        text = outcome.report
        if request.config.getoption("nni_differential_shrink", default=False):
            smallest = shrink(outcome, tmp_path)
            if smallest is not outcome:
                text += "\n\nthe smallest variant that still diverges:\n" + smallest.report
        pytest.fail(text, pytrace=False)


#: The seed of the planted-bug check: two trials, one at a time (about 20 s on the real manager).
PLANTED_SEED = 3


def test_planted_fake_bug_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake that runs one trial more than maxTrialNumber: the harness reports the divergence with the
    seed, the scenario, both runs side by side and the command replaying the seed."""
    from fakes import simulator

    limit = simulator.SimulatedManager._max_trial_number
    monkeypatch.setattr(simulator.SimulatedManager, "_max_trial_number", lambda self: limit(self) + 1)
    outcome = run_differential(PLANTED_SEED, tmp_path, attempts=1)
    divergence = outcome.report
    print(divergence)
    assert divergence.startswith(f"differential seed {PLANTED_SEED}: the fake diverged")
    assert scenario_from_seed(PLANTED_SEED).describe() in divergence
    assert "step end (" in divergence and "trial counts differs" in divergence
    assert '    real:     {"SUCCEEDED": 2}' in divergence
    assert re.search(r"^!! +\d+ final\.trial-jobs\n      real: .*\n      fake: ", divergence, re.MULTILINE)
    assert divergence.endswith(f"replay: {replay_command(PLANTED_SEED)}")
