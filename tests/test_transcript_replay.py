"""The transcripts recorded on the real NNI 3.0 manager, replayed on the in-memory fake.

``tests/transcripts/data/<scenario>.json`` holds every step of a scenario run on the real manager
(``tests/transcripts/record.py``) with its normalized answer. Each test here performs the same steps
on a fresh :class:`fakes.FakeManager`: a wait drives the fake's virtual clock to the same logical
point ("trial 0 RUNNING", "DONE and 5 trials" ...), requests and client calls are sent as recorded
(ids resolved to the fake's own), and each answer must match the recorded one: HTTP status, content
type, shape with key order, the normalized body (except where a step says ``sorted``, ``shape`` or
``status``), error types, the statuses each wait saw and the trial counts at its end.

Documented exceptions: steps marked ``fix`` are the README's deliberate fixes; there the fake must give
the answer listed in :data:`tests.scenarios.session.FIXES` instead of the real one.

Needs only the JSON files: this runs where ``nni`` is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from tests.scenarios.session import FIXES
from tests.scenarios.targets import TargetKind
from tests.transcripts.replay import DATA_DIR, load_transcripts, replay

TRANSCRIPTS: Dict[str, Dict[str, Any]] = load_transcripts(DATA_DIR)


def test_transcripts_are_recorded() -> None:
    from tests.scenarios.scenarios import SCENARIOS

    assert sorted(TRANSCRIPTS) == sorted(SCENARIOS), "re-run tests/transcripts/record.py"
    for name, transcript in TRANSCRIPTS.items():
        assert transcript["recorded_with"] == {"nni": "3.0", "target": "nni"}, name


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_replay_on_the_fake(name: str, tmp_path: Path) -> None:
    from fakes.search import nni_missing_reason
    from tests.scenarios.scenarios import SCENARIOS

    reason = nni_missing_reason()
    if SCENARIOS[name].nni_search and reason:
        pytest.skip(f"{name} is about NNI's own algorithms, which the fake runs only with nni ({reason}); "
                    "without it the fake approximates them (README, 'The search')")
    session, problems = replay(TRANSCRIPTS[name], TargetKind("fake", tmp_path))
    assert len(session.steps) == len(TRANSCRIPTS[name]["steps"])
    assert not problems, f"the fake differs from the real manager in {name}:\n" + "\n".join(problems)


def test_every_deliberate_fix_is_recorded() -> None:
    """Each README row of :data:`FIXES` is backed by a recorded real answer (and thus checked above)."""
    used = {step["fix"]: step["result"] for transcript in TRANSCRIPTS.values() for step in transcript["steps"]
            if step.get("fix")}
    assert sorted(used) == sorted(FIXES)
    # what the real manager did, as the README says
    assert used["unknown-update-type"] == {"timeout": True}
    assert used["search-space-before-tuner"] == {"timeout": True}
    assert used["import-data-before-tuner"] == {"timeout": True}
    assert used["metadata-without-record"] == {"timeout": True}
    assert (used["unknown-trial-get"]["status"], used["unknown-trial-get"]["body"]) == (200, "")
    assert used["unknown-trial-delete"]["status"] == 500
    assert "isEarlyStopped" in used["unknown-trial-delete"]["body"]["error"]
    assert used["unknown-route"]["status"] == 200 and used["unknown-route"]["kind"] == "text"
    assert used["malformed-json"]["status"] == 400 and used["malformed-json"]["content_type"].startswith("text/html")
    assert used["import-data-not-list"]["status"] == 200
    assert used["concurrency-not-number"]["status"] == 200


def test_a_changed_answer_is_reported(tmp_path: Path) -> None:
    """The replay does compare: a transcript edited to expect another status fails it."""
    transcript = {**TRANSCRIPTS["url_prefix"]}
    steps = [dict(step) for step in transcript["steps"]]
    inside = next(step for step in steps if step.get("name") == "inside")
    inside["result"] = {**inside["result"], "body": {"status": "RUNNING", "errors": []}}
    transcript["steps"] = steps
    _, problems = replay(transcript, TargetKind("fake", tmp_path))
    assert len(problems) == 1 and "inside" in problems[0] and "body differs" in problems[0]
