"""Replay a recorded transcript on a target and list where the answers differ.

A transcript (``data/<scenario>.json``, written by ``record.py`` on the real manager) is a list of
steps with their normalized results. :func:`replay` performs the same steps on another target (the
in-memory fake by default), each wait driving the target to the same logical point (e.g. "trial 1
is RUNNING"), and compares every result with :func:`tests.scenarios.session.compare_steps`:
HTTP status, content type, shape (with key order), and the normalized body unless the step says
otherwise; the deliberate fixes of the README are checked against what the fakes answer instead.

Needs only the JSON files (``nni`` need not be installed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from tests.scenarios.behaviours import BEHAVIOURS
from tests.scenarios.scenarios import SCENARIOS
from tests.scenarios.session import TRANSCRIPT_FORMAT, ScenarioError, Session, compare_steps
from tests.scenarios.targets import TargetKind

__all__ = ["DATA_DIR", "load_transcripts", "load_transcript", "replay"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_transcript(path: Path) -> Dict[str, Any]:
    """One transcript file, checked for its format."""
    transcript: Dict[str, Any] = json.loads(path.read_text())
    if transcript.get("format") != TRANSCRIPT_FORMAT:
        raise ValueError(f"{path}: transcript format {transcript.get('format')!r}, expected {TRANSCRIPT_FORMAT}")
    return transcript


def load_transcripts(directory: Path = DATA_DIR) -> Dict[str, Dict[str, Any]]:
    """Every transcript under ``directory``, by scenario name."""
    return {path.stem: load_transcript(path) for path in sorted(directory.glob("*.json"))}


def replay(transcript: Dict[str, Any], kind: TargetKind,
           time_scale: Optional[float] = None) -> Tuple[Session, List[str]]:
    """Perform ``transcript``'s steps on a fresh machine of ``kind``; the session and the differences.

    A step that cannot be performed (a wait that times out) ends the replay with that difference.
    """
    scenario = transcript["scenario"]
    if time_scale is None and scenario in SCENARIOS:
        time_scale = SCENARIOS[scenario].time_scale
    real_trials = scenario in SCENARIOS and SCENARIOS[scenario].real_trials
    session = Session(kind, scenario, BEHAVIOURS[transcript["behaviour"]], time_scale,
                      exact=bool(transcript.get("exact_values")), real_trials=real_trials)
    problems: List[str] = []
    try:
        for recorded in transcript["steps"]:
            step = {key: value for key, value in recorded.items() if key != "result"}
            try:
                actual = session.execute(step)
            except ScenarioError as error:
                problems.append(f"step {recorded.get('name') or recorded['op']}: {error}")
                break
            problems += compare_steps(recorded, actual, target=kind.name)
    finally:
        session.close()
    return session, problems
