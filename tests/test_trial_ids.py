"""Item 4 of issue 8: trial ids are checked and quoted before they go into a URL.

``kill_trial_job("kJqzO#x")`` cancelled trial ``kJqzO`` (``#`` cut the URL), ``get_trial_job("#")``
raised a bare TypeError and ``get_job_metrics("#")`` returned every trial's metrics. The same calls
are made on the in-memory fake and on the fake manager server driven through the real backend's
REST code (``tests/real/test_trial_ids.py``: on NNI 3.0's manager).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeManager
from nni_exp import Experiment
from nni_exp.errors import InvalidTrialIdError, NniExpError, TrialNotFoundError
from nni_exp.real import RealBackend
from nni_exp.testing.server import FakeServer
from nni_exp.trial_ids import MAX_TRIAL_ID_LENGTH, check_trial_id, is_valid_trial_id, trial_path

from .conftest import make_config

#: Ids that change the URL they are put in, or that no manager produces.
BAD_IDS = ["kJqzO#x", "#", ".", "..", "\n", "", "a/b", "a?b", "a b", "%23", "abc%2Fx", "ünï", "kJqz_", "kJq-z",
           "a" * (MAX_TRIAL_ID_LENGTH + 1)]


def _slow_trial(params: dict, trial: object) -> float:
    trial.sleep(1000)  # type: ignore[attr-defined]
    return float(params["x"])


def _running_experiment(fake: FakeManager) -> tuple[Experiment, str]:
    exp = Experiment(make_config(trial_concurrency=2, max_trial_number=2), backend=fake)
    exp.start(port=8080)
    fake.advance(5)
    jobs = exp.list_trial_jobs()
    assert [job.status for job in jobs] == ["RUNNING", "RUNNING"]
    return exp, jobs[0].trialJobId


@pytest.fixture
def in_memory() -> Iterator[tuple[Experiment, str, Callable[[], None]]]:
    fake = FakeManager(_slow_trial, seed=3)
    exp, trial_id = _running_experiment(fake)
    yield exp, trial_id, lambda: fake.advance(2)
    exp.stop()
    fake.close()


@pytest.fixture
def over_http(tmp_path: Path) -> Iterator[tuple[Experiment, str, Callable[[], None]]]:
    """The fake manager server, and a client on the real backend's REST code talking to it."""
    fake = FakeManager(_slow_trial, seed=3)
    with FakeServer() as server:
        server.serve(fake)
        owner = server.start_experiment(make_config(trial_concurrency=2, max_trial_number=2))
        fake.advance(5)
        backend = RealBackend(home=tmp_path / "home")
        client = Experiment(None, id=owner.id, backend=backend)
        client.port = server.port  # talk to it without owning it
        jobs = client.list_trial_jobs()
        assert [job.status for job in jobs] == ["RUNNING", "RUNNING"]
        yield client, jobs[0].trialJobId, lambda: fake.advance(2)
        backend.close()


@pytest.fixture(params=["in_memory", "over_http"])
def target(request: pytest.FixtureRequest) -> tuple[Experiment, str, Callable[[], None]]:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_a_fragment_in_the_id_cancels_nothing(target: tuple[Experiment, str, Callable[[], None]]) -> None:
    exp, trial_id, tick = target
    bad = f"{trial_id}#x"
    with pytest.raises(InvalidTrialIdError, match=repr(bad)) as info:
        exp.kill_trial_job(bad)
    assert (info.value.argument, info.value.value) == ("trial_job_id", bad)
    tick()
    assert exp.get_trial_job(trial_id).status == "RUNNING"  # before the fix: USER_CANCELED


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_are_refused_by_every_trial_method(target: tuple[Experiment, str, Callable[[], None]],
                                                  bad: str) -> None:
    exp, trial_id, _tick = target
    for call in (exp.get_trial_job, exp.kill_trial_job, exp.get_job_metrics):
        with pytest.raises(InvalidTrialIdError, match="trial_job_id must be an NNI trial job id") as info:
            call(bad)
        assert repr(bad)[:100] in str(info.value)
        assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert exp.get_trial_job(trial_id).status == "RUNNING"


def test_metrics_of_one_trial_only(target: tuple[Experiment, str, Callable[[], None]]) -> None:
    exp, trial_id, _tick = target
    assert set(exp.get_job_metrics(trial_id)) <= {trial_id}
    with pytest.raises(InvalidTrialIdError):
        exp.get_job_metrics("#")  # before the fix: every trial's metrics


def test_an_unknown_well_formed_id_is_still_not_found(target: tuple[Experiment, str, Callable[[], None]]) -> None:
    exp, _trial_id, _tick = target
    with pytest.raises(TrialNotFoundError, match="doesnotexist"):
        exp.get_trial_job("doesnotexist")
    with pytest.raises(TrialNotFoundError):
        exp.kill_trial_job("zzzzz")


def test_every_id_nni_generates_is_valid() -> None:
    # nni_node/common/utils.js uniqueString(5): a letter, then four letters or digits
    import random
    import string

    rng = random.Random(8)
    for _ in range(2000):
        trial_id = rng.choice(string.ascii_letters) + "".join(rng.choices(string.ascii_letters + string.digits, k=4))
        assert is_valid_trial_id(trial_id) and check_trial_id(trial_id) == trial_id
    fake = FakeManager(lambda params, trial: 0.0, seed=5)
    exp = Experiment(make_config(trial_concurrency=4, max_trial_number=40), backend=fake)
    exp.run(port=8080)
    ids = [job.trialJobId for job in exp.list_trial_jobs()]
    exp.stop()
    assert len(ids) == 40 and all(is_valid_trial_id(trial_id) for trial_id in ids)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=12), st.integers(), st.none(), st.binary(max_size=5), st.lists(st.text(max_size=2))))
def test_trial_path_quotes_or_refuses(value: object) -> None:
    try:
        path = trial_path("/trial-jobs", value)
    except InvalidTrialIdError as error:
        assert isinstance(error, NniExpError) and error.value is value
        assert not is_valid_trial_id(value)
        return
    assert path == f"/trial-jobs/{value}" and is_valid_trial_id(value)
