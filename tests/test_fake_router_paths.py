"""How the fake router reads a request's path: as Express does in NNI 3.0's manager.

Checked on the real manager (``GET``/``DELETE`` on ``/api/v1/nni/...``, recorded in the comments):
routes match the path as sent (``/check%2Dstatus`` is not ``/check-status``) and only route
parameters are percent-decoded (``/trial-jobs/%71014t`` is trial ``q014t``; ``abc%23x`` is the id
``abc#x``, ``a%2Fb`` the id ``a/b``). A parameter ``decodeURIComponent`` cannot decode (``%zz``,
``%C3``, ``%FF``) makes the real manager never answer; the fake answers 400 instead (README,
fidelity table).
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Tuple

import pytest

from fakes import FakeManager
from fakes.router import decode_param
from nni_exp import Experiment

from .conftest import make_config

API = "/api/v1/nni"


def _slow_trial(params: dict, trial: Any) -> float:
    trial.sleep(1000)
    return float(params["x"])


@pytest.fixture
def running() -> Iterator[Tuple[FakeManager, str]]:
    fake = FakeManager(_slow_trial, seed=4)
    exp = Experiment(make_config(), backend=fake)
    exp.start(port=8080)
    fake.advance(5)
    trial_id = exp.list_trial_jobs()[0].trialJobId
    yield fake, trial_id
    exp.stop()
    fake.close()


def _escaped_first_char(trial_id: str) -> str:
    return f"%{ord(trial_id[0]):02X}{trial_id[1:]}"


def test_route_parameters_are_percent_decoded(running: Tuple[FakeManager, str]) -> None:
    fake, trial_id = running
    escaped = _escaped_first_char(trial_id)
    answer = fake.handle(8080, "GET", f"{API}/trial-jobs/{escaped}")  # real: 200, the trial
    assert answer.status == 200 and json.loads(answer.body)["trialJobId"] == trial_id
    metrics = fake.handle(8080, "GET", f"{API}/metric-data/{escaped}")  # real: 200, its metrics
    assert metrics.status == 200 and {m["trialJobId"] for m in json.loads(metrics.body)} <= {trial_id}
    assert fake.handle(8080, "DELETE", f"{API}/trial-jobs/{escaped}").status == 200  # real: 200, canceled
    fake.advance(1)
    status = json.loads(fake.handle(8080, "GET", f"{API}/trial-jobs/{trial_id}").body)["status"]
    assert status == "USER_CANCELED"


@pytest.mark.parametrize("raw, decoded", [("abc%23x", "abc#x"), ("a%2Fb", "a/b"), ("%2E", "."), ("%0A", "\n"),
                                          ("%C3%A9", "é"), ("%25", "%")])
def test_a_decoded_parameter_is_an_id_of_its_own(running: Tuple[FakeManager, str], raw: str, decoded: str) -> None:
    # real: 200 with an empty body (the fake's documented 404 for an unknown trial), never trial "abc"
    fake, _trial_id = running
    answer = fake.handle(8080, "GET", f"{API}/trial-jobs/{raw}")
    assert answer.status == 404 and f"trial job {decoded!r} not found" in json.loads(answer.body)["error"]
    assert json.loads(fake.handle(8080, "GET", f"{API}/metric-data/{raw}").body) == []  # real: []


def test_a_fragment_cut_id_reaches_the_trial_before_it(running: Tuple[FakeManager, str]) -> None:
    # what a client that does not quote sends for "kJqzO#x": the fragment is not part of the path
    fake, trial_id = running
    answer = fake.handle(8080, "GET", f"{API}/trial-jobs/{trial_id}#x")
    assert answer.status == 200 and json.loads(answer.body)["trialJobId"] == trial_id


def test_routes_match_the_path_as_sent(running: Tuple[FakeManager, str]) -> None:
    fake, _trial_id = running
    for target in ("/check%2Dstatus", "/experiment%2Fimported-data"):  # real: the web UI's index.html
        answer = fake.handle(8080, "GET", API + target)
        assert answer.status == 404 and "no such route" in json.loads(answer.body)["error"]
    assert fake.handle(8080, "GET", "/api/v1/nn%69/check-status").status == 404  # real: the web UI too


@pytest.mark.parametrize("method, path", [
    ("GET", "/trial-jobs/%zz"), ("GET", "/trial-jobs/a%"), ("GET", "/trial-jobs/%C3"), ("GET", "/trial-jobs/%FF"),
    ("DELETE", "/trial-jobs/%zz"), ("GET", "/metric-data/%zz"), ("GET", "/metric-data-range/%zz/1"),
    ("GET", "/trial-file/%zz/trial.log"), ("GET", "/tensorboard/%zz"), ("OPTIONS", "/trial-jobs/%zz"),
    ("HEAD", "/trial-jobs/%zz"),
])
def test_an_undecodable_parameter_is_a_400(running: Tuple[FakeManager, str], method: str, path: str) -> None:
    # real: never answers (Express's URIError reaches an error handler that only answers Boom errors)
    fake, trial_id = running
    answer = fake.handle(8080, method, API + path)
    assert answer.status == 400, answer.body
    assert "Failed to decode param" in json.loads(answer.body)["error"]
    assert json.loads(fake.handle(8080, "GET", f"{API}/trial-jobs/{trial_id}").body)["status"] == "RUNNING"


def test_decode_param_is_decode_uri_component() -> None:
    assert decode_param("a+b%20c%2B") == "a+b c+"
    assert decode_param("%E2%82%AC") == "€"
    for bad in ("%", "%2", "%zz", "%C3", "%ED%A0%80", "%FF"):  # decodeURIComponent throws URIError
        with pytest.raises(ValueError, match="escape"):
            decode_param(bad)
