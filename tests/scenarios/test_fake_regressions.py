"""Regression tests of the fidelity bugs this suite found in the fake (in memory, no target needed).

Both were differences from the real NNI 3.0 manager that are not deliberate fixes:

* ``GET /trial-file/<id>/<name>``: only ``trial.log``, ``stdout`` and ``stderr`` are read as text
  (``text/plain``, an empty file reads ``<name> is empty.``); any other name (``trial.stderr`` ...) is
  a file of the trial directory sent as bytes (``application/octet-stream``, empty when empty). The
  fake served every name as text.
* outside the URL prefix the answer is Express's ``res.send(string)``: ``text/html``, not
  ``text/plain``.
"""

from __future__ import annotations

from typing import Any

from fakes import FakeManager
from nni_exp import Experiment

from .targets import SEARCH_SPACE

API = "/api/v1/nni"


def _failing(params: dict, trial: Any) -> float:
    trial.sleep(1)
    raise RuntimeError("boom")


def _config() -> Any:
    from nni_exp import ExperimentConfig

    return ExperimentConfig(search_space=SEARCH_SPACE, trial_command="python3 trial.py", trial_concurrency=1,
                            max_trial_number=1, tuner={"name": "Random"}, training_service={"platform": "local"})


def test_trial_files_by_name() -> None:
    fake = FakeManager(_failing, seed=1)
    exp = Experiment(_config(), backend=fake)
    assert exp.run(8080) is True
    trial_id = exp.list_trial_jobs()[0].trialJobId
    answers = {name: fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/{name}")
               for name in ("trial.log", "stdout", "stderr", "trial.stdout", "trial.stderr")}
    assert {name: a.content_type for name, a in answers.items()} == {
        "trial.log": "text/plain; charset=utf-8", "stdout": "text/plain; charset=utf-8",
        "stderr": "text/plain; charset=utf-8", "trial.stdout": "application/octet-stream",
        "trial.stderr": "application/octet-stream"}
    assert answers["stdout"].body == "stdout is empty." and answers["trial.stdout"].body == ""
    assert "RuntimeError: boom" in answers["stderr"].body
    assert answers["trial.stderr"].body == answers["stderr"].body
    assert fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/model.bin").status == 500
    exp.stop()


def test_outside_the_url_prefix_is_html() -> None:
    fake = FakeManager(seed=1)
    exp = Experiment(_config(), backend=fake)
    exp.url_prefix = "pre"
    exp.start(8080)
    outside = fake.handle(8080, "GET", f"{API}/check-status")
    assert (outside.status, outside.body, outside.content_type) == (404, 'Outside prefix "/pre"',
                                                                   "text/html; charset=utf-8")
    exp.stop()
