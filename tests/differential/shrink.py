"""Make a diverging scenario smaller (:func:`shrink`): drop actions, then trials, while it still diverges.

Each candidate is replayed on both targets (real time), so shrinking is opt-in
(``--nni-differential-shrink``). A candidate must keep the generator's timing rules
(:class:`~.generator.Schedule`); one that does not is skipped, not run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterator, List

from .generator import Action, GeneratedScenario, Schedule
from .run import Outcome, run_differential

__all__ = ["shrink", "candidates", "keeps_timing_rules"]


def keeps_timing_rules(scenario: GeneratedScenario) -> bool:
    """Whether every action of ``scenario`` is still away from other trials' events."""
    schedule = Schedule(list(scenario.trials), scenario.concurrency, scenario.max_trials)
    for action in scenario.actions:
        if action.trial >= schedule.limit - 1 or not schedule.quiet(action):
            return False
        schedule.apply(action)
    return True


def candidates(scenario: GeneratedScenario) -> Iterator[GeneratedScenario]:
    """Smaller variants of ``scenario``, smallest change first: without one action, then with one
    trial fewer (``maxTrialNumber`` - 1)."""
    actions: List[Action] = list(scenario.actions)
    for index in range(len(actions)):
        yield dataclasses.replace(scenario, actions=tuple(actions[:index] + actions[index + 1:]))
    if scenario.max_trials > 2:
        yield dataclasses.replace(scenario, max_trials=scenario.max_trials - 1)


def shrink(outcome: Outcome, root: Path,
           play: Callable[[GeneratedScenario, Path], Outcome] = run_differential) -> Outcome:
    """The smallest diverging variant of ``outcome``'s scenario that could be found (``outcome`` itself
    when no smaller one diverges)."""
    best = outcome
    step = 0
    improved = True
    while improved:
        improved = False
        for candidate in candidates(best.scenario):
            if not keeps_timing_rules(candidate):
                continue
            step += 1
            tried = play(candidate, root / f"shrink-{step}")
            if not tried.comparison.matched:
                best, improved = tried, True
                break
    return best
