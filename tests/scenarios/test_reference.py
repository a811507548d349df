"""Every scenario, on every target, step by step against the transcript recorded on the real manager.

For each step: HTTP status, content type, the shape of the answer (keys in order and value types,
recursively, JSON text decoded) and, unless the step says otherwise, the normalized answer; error
types of the client API; the experiment statuses seen by each wait and the trial counts at its end;
manifest records. On the fakes, the deliberate fixes of the README are checked against what the fakes
answer by design (:data:`tests.scenarios.session.FIXES`). This is the "three targets, one suite"
comparison: the recorded real answers are the reference every target must reproduce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.transcripts.replay import DATA_DIR, load_transcript

from .scenarios import SCENARIOS
from .session import Session, compare_steps
from .targets import TargetKind

Scenario = Callable[[str], Session]


def _transcript_path(name: str) -> Path:
    return DATA_DIR / f"{name}.json"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_matches_the_recorded_real_manager(scenario: Scenario, target: TargetKind, name: str) -> None:
    path = _transcript_path(name)
    if not path.exists():
        pytest.skip(f"no transcript for {name}: run tests/transcripts/record.py")
    recorded = load_transcript(path)["steps"]
    session = scenario(name)
    actual = session.steps
    labels = [f"{s['op']}:{s.get('name', '')}" for s in recorded]
    assert labels == [f"{s['op']}:{s.get('name', '')}" for s in actual], (
        f"scenario {name} changed since its transcript was recorded: re-run tests/transcripts/record.py {name}")
    problems = []
    for before, now in zip(recorded, actual):
        problems += compare_steps(before, now, target=target.name)
    assert not problems, f"{name} on {target.name} differs from the real manager:\n" + "\n".join(problems)
