"""One differential run: a seed's scenario on NNI 3.0's manager and on the fake, compared
(:func:`run_differential`).

The fake is deterministic and runs once. The real run is replayed (up to ``attempts`` times) when it
diverged *and* either its trials say they could not keep their plan's times
(:func:`.behaviour.late_trials`: the machine was too busy) or NNI's parameter race hit it (README,
"Not reproduced": trials run with each other's parameters, and what follows no longer follows the
plan: in seed 1012 of a long run, of two trials with the same plan duration the one submitted later
finished first). A divergence that stays after a race in every replay is reported as explained by
the race (a note listing it; the test passes); any other divergence fails.

``NNI_EXP_DIFFERENTIAL_KEEP=<dir>`` keeps every run's transcripts there (``<seed>-nni.json``,
``<seed>-fake.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, List, Union

from tests.scenarios.targets import TargetKind

from .behaviour import late_trials
from .compare import Comparison, compare_runs, report
from .driver import play
from .generator import GeneratedScenario, scenario_from_seed
from .session import DifferentialSession

__all__ = ["Outcome", "run_differential", "compare_kept", "KEEP_ENV"]

#: A directory where each run's two transcripts are written.
KEEP_ENV = "NNI_EXP_DIFFERENTIAL_KEEP"


@dataclass
class Outcome:
    """What :func:`run_differential` found: the comparison, the report ('' when matched), how many real
    runs it took, and what late trials said."""

    scenario: GeneratedScenario
    comparison: Comparison
    report: str
    attempts: int
    late: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """One JSON line for logs (``DIFFERENTIAL {...}``)."""
        return "DIFFERENTIAL " + json.dumps({
            "seed": self.scenario.seed, "matched": self.comparison.matched, "attempts": self.attempts,
            "actions": [action.kind for action in self.scenario.actions], "late": self.late[:3],
            "notes": self.comparison.notes, "problems": self.comparison.problems,
            "explained": self.comparison.explained})


def _keep(session: DifferentialSession) -> None:
    keep = os.environ.get(KEEP_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        path = Path(keep) / f"{session.generated.seed}-{session.target.name}.json"
        path.write_text(json.dumps(session.transcript(), indent=1))


def _play(scenario: GeneratedScenario, kind: TargetKind) -> DifferentialSession:
    try:
        return play(scenario, kind)
    finally:
        kind.close()


def run_differential(scenario: Union[int, GeneratedScenario], root: Path, attempts: int = 2) -> Outcome:
    """Play ``scenario`` (or the scenario of a seed) on the fake and on the real manager, under ``root``."""
    if isinstance(scenario, int):
        scenario = scenario_from_seed(scenario)
    fake = _play(scenario, TargetKind("fake", _fresh(root / "fake")))
    _keep(fake)
    attempt = 0
    while True:
        attempt += 1
        real = _play(scenario, TargetKind("nni", _fresh(root / f"nni-{attempt}")))
        _keep(real)
        late = late_trials(real.target.code)
        comparison = compare_runs(real, fake)
        if comparison.matched or not (late or comparison.raced) or attempt >= attempts:
            break
    if late:
        comparison.notes.append(f"the real trials could not keep their plan's times ({len(late)} late moment(s), "
                                f"e.g. {late[0]}): the machine was busy; real runs: {attempt}")
    if comparison.problems and comparison.raced:
        # after NNI's race the real run no longer follows the plan (not just its metric values):
        # what follows cannot be compared, and the fake does not reproduce the race.
        comparison.notes.append(f"explained by NNI's parameter race (README, 'Not reproduced'), in each of {attempt} "
                                f"real run(s): " + "; ".join(p.split("\n")[0] for p in comparison.problems))
        comparison.explained, comparison.problems = comparison.problems, []
    text = "" if comparison.matched else report(scenario.describe(), comparison, real, fake)
    return Outcome(scenario, comparison, text, attempt, late)


def compare_kept(directory: Path, seed: int) -> Comparison:
    """Compare again the transcripts a run kept in ``directory`` (:data:`KEEP_ENV`), with this
    checkout's comparison (e.g. after teaching it a documented difference)."""
    def load(target: str) -> Any:
        transcript = json.loads((directory / f"{seed}-{target}.json").read_text())
        return SimpleNamespace(steps=transcript["steps"], generated=scenario_from_seed(seed))

    return compare_runs(load("nni"), load("fake"))


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=False)
    return path
