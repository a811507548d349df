"""Limits that JavaScript reads as infinities or NaN (issue 8, item 1), on the fake manager's router.

Checked on NNI 3.0's manager (raw ``PUT /experiment`` with ``requests``, 2026-12):

* ``maxExperimentDuration`` ``"1e400s"`` (``Number("1e400")`` is Infinity), ``1e400`` (``JSON.parse``
  reads Infinity, ``GET /experiment`` then shows ``null``) and ``"Infinityh"`` (lower-cased first:
  ``Number("infinity")`` is NaN) are stored, answered 200 and mean no limit; ``"0x10s"`` is 16 s;
* ``maxTrialNumber`` ``1e400`` and ``"1e400"`` mean no limit, ``-1e400`` stops at once (NO_MORE_TRIAL);
* ``trialConcurrency`` ``1e400`` is answered 200, then the manager sends ``GE Infinity`` (later ``GE
  NaN``) to its tuner, whose dispatcher dies on ``range(inf)``; the experiment stays RUNNING with no
  new trial and the manager logs an error every tick: the fake answers 400 instead (README);
* ``NaN`` / ``Infinity`` literals are not JSON: 400 from the body parser;
* a JSON ``null`` is stored as ``null``: ``maxExperimentDuration`` ``null`` puts the manager in ERROR at
  the next tick ("Cannot read properties of null (reading 'toLowerCase')"), ``maxTrialNumber`` ``null``
  compares as 0 (DONE once the running trials end, no new trial).

The fake process used to die in the next simulation step (``OverflowError``) on each of these.
The HTTP server goes through the same router: ``tests/test_fake_server_http.py`` checks it there.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterator

import pytest

from fakes import FakeManager
from fakes.js_numbers import DurationError, js_to_number, js_to_seconds
from nni_exp import Experiment
from nni_exp.backend import ManagerArgs, RunMode

from .conftest import make_config

API = "/api/v1/nni"
PORT = 8080


def ten_second_trial(params: dict, trial: Any) -> float:
    trial.sleep(10)
    return float(params["x"])


@pytest.fixture
def running() -> Iterator[tuple[FakeManager, Experiment]]:
    """An experiment of 10-second trials, 2 at a time, up to 1000: RUNNING for a long while."""
    fake = FakeManager(ten_second_trial, seed=5)
    exp = Experiment(make_config(max_trial_number=1000), backend=fake)
    exp.start(PORT)
    fake.advance(15)
    assert status(fake) == "RUNNING"
    yield fake, exp
    exp.stop()
    fake.close()


def status(fake: FakeManager) -> str:
    return str(json.loads(fake.handle(PORT, "GET", API + "/check-status").body)["status"])


def profile(fake: FakeManager) -> dict[str, Any]:
    return json.loads(fake.handle(PORT, "GET", API + "/experiment").body)  # type: ignore[no-any-return]


def put(fake: FakeManager, update_type: str, key: str, raw_value: str) -> Any:
    """``PUT /experiment?update_type=...`` with the current profile, ``params[key]`` written as ``raw_value``
    (JSON text, as a client such as Python's ``json.dumps(float("inf"))`` would write it)."""
    current = profile(fake)
    current["params"][key] = "__RAW__"
    body = json.dumps(current).replace('"__RAW__"', raw_value)
    return fake.handle(PORT, "PUT", f"{API}/experiment?update_type={update_type}", body)


@pytest.mark.parametrize("raw_value", ["1e400", "-1e400", '"1e400"', '"Infinity"', '" -Infinity "', "1" + "0" * 400])
def test_an_infinite_concurrency_is_refused_and_changes_nothing(running, raw_value):
    fake, _ = running
    before = profile(fake)
    answer = put(fake, "TRIAL_CONCURRENCY", "trialConcurrency", raw_value)
    assert answer.status == 400
    assert "trialConcurrency must be a finite number" in json.loads(answer.body)["error"]
    assert profile(fake) == before
    fake.advance(60)  # the next ticks used to raise OverflowError
    assert status(fake) == "RUNNING"
    assert profile(fake)["params"]["trialConcurrency"] == 2
    jobs = json.loads(fake.handle(PORT, "GET", API + "/trial-jobs").body)
    assert sum(job["status"] == "RUNNING" for job in jobs) == 2


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN"])
def test_nan_and_infinity_literals_are_not_json(running, literal):
    fake, _ = running
    before = profile(fake)
    for update_type, key in (("TRIAL_CONCURRENCY", "trialConcurrency"), ("MAX_EXEC_DURATION", "maxExperimentDuration"),
                             ("MAX_TRIAL_NUM", "maxTrialNumber")):
        answer = put(fake, update_type, key, literal)
        assert answer.status == 400 and "malformed JSON body" in json.loads(answer.body)["error"], answer.body
    assert profile(fake) == before
    fake.advance(30)
    assert status(fake) == "RUNNING"


@pytest.mark.parametrize(("raw_value", "shown"), [('"1e400s"', "1e400s"), ('"Infinityh"', "Infinityh"),
                                                  ('"1e305d"', "1e305d"), ("1e400", None)])
def test_an_infinite_or_nan_duration_means_no_limit(running, raw_value, shown):
    fake, _ = running
    answer = put(fake, "MAX_EXEC_DURATION", "maxExperimentDuration", raw_value)
    assert answer.status == 200, answer.body
    assert profile(fake)["params"]["maxExperimentDuration"] == shown  # JSON.stringify(Infinity) is null
    fake.advance(300)
    assert status(fake) == "RUNNING"
    assert len(json.loads(fake.handle(PORT, "GET", API + "/trial-jobs").body)) > 40


def test_a_hexadecimal_duration_is_read_as_javascript_reads_it(running):
    fake, _ = running
    assert put(fake, "MAX_EXEC_DURATION", "maxExperimentDuration", '"0x10s"').status == 200  # 16 s
    fake.advance(5)
    assert status(fake) in ("NO_MORE_TRIAL", "DONE")


@pytest.mark.parametrize(("raw_value", "running_after"), [("1e400", True), ('"1e400"', True), ("-1e400", False)])
def test_an_infinite_trial_number_limit(running, raw_value, running_after):
    fake, _ = running
    assert put(fake, "MAX_TRIAL_NUM", "maxTrialNumber", raw_value).status == 200
    fake.advance(60)
    assert (status(fake) == "RUNNING") is running_after


def test_a_duration_of_the_wrong_type_fails_the_next_tick_as_in_node(running):
    fake, _ = running
    assert put(fake, "MAX_EXEC_DURATION", "maxExperimentDuration", "true").status == 200
    fake.advance(2)
    answer = json.loads(fake.handle(PORT, "GET", API + "/check-status").body)
    assert answer == {"status": "ERROR", "errors": ["Job management error: value.toLowerCase is not a function"]}


def test_a_null_duration_is_stored_and_fails_the_next_tick_as_in_node(running):
    fake, _ = running
    assert put(fake, "MAX_EXEC_DURATION", "maxExperimentDuration", "null").status == 200
    assert profile(fake)["params"]["maxExperimentDuration"] is None  # GET /experiment shows null
    fake.advance(2)
    answer = json.loads(fake.handle(PORT, "GET", API + "/check-status").body)
    assert answer == {"status": "ERROR",
                      "errors": ["Job management error: Cannot read properties of null (reading 'toLowerCase')"]}


def test_a_null_trial_number_limit_is_zero_as_in_javascript(running):
    fake, exp = running
    started = len(exp.list_trial_jobs())
    assert put(fake, "MAX_TRIAL_NUM", "maxTrialNumber", "null").status == 200
    assert profile(fake)["params"]["maxTrialNumber"] is None
    fake.advance(60)
    assert status(fake) == "DONE" and len(exp.list_trial_jobs()) == started


def test_a_missing_limit_is_removed_as_json_stringify_drops_undefined(running):
    fake, _ = running
    current = profile(fake)
    del current["params"]["maxTrialNumber"]
    assert fake.handle(PORT, "PUT", f"{API}/experiment?update_type=MAX_TRIAL_NUM", json.dumps(current)).status == 200
    assert "maxTrialNumber" not in profile(fake)["params"]
    fake.advance(60)
    assert status(fake) == "RUNNING"


def spawned(fake: FakeManager) -> Any:
    args = ManagerArgs(port=PORT, experiment_id="limits1", action="create", mode="local",
                       experiments_directory="/tmp/nni-exp-unused", log_level="info")
    return fake.spawn_manager(args, RunMode.Background)


def test_posting_an_infinite_concurrency_is_refused():
    fake = FakeManager(ten_second_trial, seed=5)
    process = spawned(fake)
    config = make_config().json()
    body = json.dumps({**config, "trialConcurrency": "__RAW__"}).replace('"__RAW__"', "1e400")
    answer = fake.handle(PORT, "POST", API + "/experiment", body)
    assert answer.status == 400 and "1e400" not in answer.body and "inf" in answer.body
    assert fake.handle(PORT, "GET", API + "/check-status").json() == {"status": "INITIALIZED", "errors": []}
    fake.advance(30)
    assert fake.handle(PORT, "POST", API + "/experiment", json.dumps(config)).status == 200
    fake.advance(15)
    assert status(fake) in ("RUNNING", "NO_MORE_TRIAL")
    assert json.loads(fake.handle(PORT, "GET", API + "/trial-jobs").body)
    process.kill()
    fake.close()


def test_an_infinite_trial_duration_in_the_config_means_no_limit():
    fake = FakeManager(ten_second_trial, seed=5)
    process = spawned(fake)
    config = make_config(max_trial_number=2).json()
    body = json.dumps({**config, "maxTrialDuration": "1e400s"})
    assert fake.handle(PORT, "POST", API + "/experiment", body).status == 200
    fake.advance(60)  # used to raise OverflowError in the first tick
    jobs = json.loads(fake.handle(PORT, "GET", API + "/trial-jobs").body)
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    process.kill()
    fake.close()


@pytest.mark.parametrize(("value", "number"), [
    (" 12 ", 12.0), ("", 0.0), ("\u00a03\n", 3.0), ("0x10", 16.0), ("0b101", 5.0), ("0o17", 15.0), (".5", 0.5),
    ("5.", 5.0), ("1e400", math.inf), ("-Infinity", -math.inf), ("+Infinity", math.inf), (True, 1.0),
    (10 ** 400, math.inf),
])
def test_js_to_number_reads_as_javascript(value, number):
    assert js_to_number(value, missing=math.nan) == number


@pytest.mark.parametrize("value", ["inf", "infinity", "nan", "1_000", "0x", "-0x10", "1e", ".", "abc", [], {}])
def test_js_to_number_is_nan_where_javascript_is(value):
    assert math.isnan(js_to_number(value, missing=0.0))


@pytest.mark.parametrize(("value", "seconds"), [
    ("10m", 600.0), ("1.5S", 2.0), ("1e400s", math.inf), ("-1e400s", -math.inf), ("1e305d", math.inf),
    (1e400, math.inf), (30, 30.0), (None, math.inf), ("s", 0.0),
])
def test_js_to_seconds(value, seconds):
    assert js_to_seconds(value) == seconds


def test_js_to_seconds_errors():
    assert math.isnan(js_to_seconds("Infinityh"))
    with pytest.raises(DurationError, match='Bad unit in "10"'):
        js_to_seconds("10")
    with pytest.raises(DurationError, match="toLowerCase is not a function"):
        js_to_seconds(False)
