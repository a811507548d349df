"""``FakeManager(patch_time=...)`` / ``fake.patch_time()``: the ``time`` module on the fake's virtual clock.

Nothing here really sleeps: where a call must reach the real ``time.sleep``, the module's
``real_sleep`` is replaced by a recorder.
"""

from __future__ import annotations

import math
import threading
import time
from fractions import Fraction
from time import sleep as sleep_imported_before_any_patch
from typing import Any, Dict, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes import PATCH_TIME_MODES, FakeManager, ScaledRealClock, TimePatch
from fakes import time_patch as tp
from nni_exp import Experiment, backends
from nni_exp.errors import ExperimentStalledError, TimePatchError, UnknownBackendError
from nni_exp.testing.options import PATCH_TIME_CHOICES

from .conftest import make_config, three_second_trial

ORIGINAL = {name: getattr(time, name) for name in ("sleep", "time", "time_ns", "monotonic", "monotonic_ns",
                                                     "perf_counter")}


@pytest.fixture(autouse=True)
def _time_is_restored() -> Any:
    """Every test starts and ends with the real ``time`` functions and no active patch."""
    assert all(getattr(time, name) is function for name, function in ORIGINAL.items())
    yield
    leaked = tp.active_patch()
    if leaked is not None:
        leaked.stop()
    assert leaked is None, f"a test left {leaked!r} active"
    assert all(getattr(time, name) is function for name, function in ORIGINAL.items())


@pytest.fixture
def real_sleeps(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    """The seconds passed to the real ``time.sleep`` by a patch's fallback (nothing really sleeps)."""
    calls: List[float] = []
    monkeypatch.setattr(tp, "real_sleep", calls.append)
    return calls


def patched(name: str) -> bool:
    return getattr(time, name) is not ORIGINAL[name]


# ---------------------------------------------------------------------- default and modes


def test_without_the_option_time_is_left_alone() -> None:
    fake = FakeManager()
    assert fake.time_patch is None
    assert not any(patched(name) for name in ORIGINAL)
    fake.close()


def test_sleep_mode_moves_the_clock_and_returns_at_once() -> None:
    fake = FakeManager(patch_time="sleep")
    try:
        assert patched("sleep") and not patched("time") and not patched("monotonic")
        began = time.perf_counter()
        time.sleep(30)
        time.sleep(2.5)
        assert fake.clock.monotonic() == 32.5
        assert time.perf_counter() - began < 5  # 32.5 real seconds otherwise
    finally:
        fake.close()
    assert not patched("sleep")


def test_all_mode_reads_the_virtual_clock_but_not_perf_counter() -> None:
    fake = FakeManager(patch_time="all")
    try:
        assert all(patched(name) for name in ("sleep", "time", "time_ns", "monotonic", "monotonic_ns"))
        assert not patched("perf_counter")
        assert time.time() == fake.clock.time()
        assert abs(time.monotonic() - tp.real_monotonic()) < 1  # continues from the real value
        wall, mono, wall_ns, mono_ns = time.time(), time.monotonic(), time.time_ns(), time.monotonic_ns()
        time.sleep(30)
        assert time.time() - wall == pytest.approx(30)
        assert time.monotonic() - mono == pytest.approx(30)
        assert time.time_ns() - wall_ns == pytest.approx(30e9, abs=1e3)
        assert time.monotonic_ns() - mono_ns == pytest.approx(30e9, abs=1e3)
        assert time.time() - tp.real_time() == pytest.approx(30, abs=2)
    finally:
        fake.close()


def test_an_nni_style_test_sees_trials_and_metrics_after_time_sleep() -> None:
    fake = FakeManager(three_second_trial, seed=1, patch_time="sleep")
    try:
        exp = Experiment(make_config(), backend=fake)
        exp.start(8080)
        assert exp.list_trial_jobs() == []
        time.sleep(30)
        jobs = exp.list_trial_jobs()
        assert len(jobs) == 4 and {job.status for job in jobs} == {"SUCCEEDED"}
        metrics = exp.get_job_metrics()
        assert sorted(metrics) == sorted(job.trialJobId for job in jobs)
        assert exp.get_status() == "DONE"
        exp.stop()
    finally:
        fake.close()


def test_run_under_the_patch_advances_the_clock_as_without_it() -> None:
    """run() / wait_completion() sleep on the backend's clock: the patch must not advance it twice."""
    results: Dict[bool, Any] = {}
    for patch in (False, True):
        fake = FakeManager(three_second_trial, seed=3, patch_time="all" if patch else None)
        try:
            exp = Experiment(make_config(max_trial_number=6), backend=fake)
            assert exp.run(8080) is True
            results[patch] = (fake.clock.monotonic(), sorted((r.parameter["x"], r.value) for r in exp.export_data()))
            exp.stop()
        finally:
            fake.close()
    assert results[True] == results[False]
    assert results[True][0] > 0


# ---------------------------------------------------------------------- scope: names, threads, the fake itself


def test_names_imported_after_install_are_patched_and_fall_back_once_it_is_undone(real_sleeps: List[float]) -> None:
    fake = FakeManager(patch_time="sleep")
    from time import sleep

    assert sleep_imported_before_any_patch is ORIGINAL["sleep"]  # not patched: the documented limit
    sleep(4)
    assert fake.clock.monotonic() == 4 and real_sleeps == []
    fake.close()
    sleep(0.5)  # still the nni-exp function, now a pass-through to the real sleep
    assert real_sleeps == [0.5] and fake.clock.monotonic() == 4


def test_other_threads_keep_real_time(real_sleeps: List[float]) -> None:
    fake = FakeManager(patch_time="all")
    seen: Dict[str, float] = {}

    def elsewhere() -> None:
        time.sleep(5)
        seen["time"], seen["real"] = time.time(), tp.real_time()

    try:
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join(10)
        assert real_sleeps == [5] and fake.clock.monotonic() == 0
        assert seen["time"] == pytest.approx(seen["real"], abs=1)
        time.sleep(5)
        assert real_sleeps == [5] and fake.clock.monotonic() == 5
    finally:
        fake.close()


def test_two_threads_may_each_patch_their_own_fake() -> None:
    mine = FakeManager(patch_time="sleep")
    theirs: Dict[str, Any] = {}

    def elsewhere() -> None:
        other = FakeManager(patch_time="all")
        time.sleep(7)
        theirs["clock"] = other.clock.monotonic()
        theirs["time_patched_while_active"] = patched("time")
        other.close()

    try:
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join(10)
        time.sleep(1)
        assert theirs == {"clock": 7, "time_patched_while_active": True}
        assert mine.clock.monotonic() == 1
        assert patched("sleep") and not patched("time")  # the other thread's "all" names are restored
    finally:
        mine.close()


def test_inside_the_fake_time_is_real(real_sleeps: List[float]) -> None:
    """A trial function runs while the fake syncs: its time.sleep/time.time are the real ones (no re-entry)."""
    stamps: List[float] = []

    def sleepy_trial(params: Dict[str, Any], trial: Any) -> float:
        time.sleep(0.25)
        stamps.append(time.time())
        trial.sleep(3)
        return float(params["x"])

    fake = FakeManager(sleepy_trial, seed=2, patch_time="all")
    try:
        exp = Experiment(make_config(max_trial_number=12), backend=fake)
        exp.start(8080)
        fake.advance(15)  # trials start while the fake syncs on its own
        started_by_advance = len(real_sleeps)
        time.sleep(45)  # ... and while the patched sleep advances the clock
        assert 0 < started_by_advance < 12
        assert [job.status for job in exp.list_trial_jobs()] == ["SUCCEEDED"] * 12
        assert real_sleeps == [0.25] * 12
        assert fake.clock.monotonic() == 60
        assert all(stamp == pytest.approx(tp.real_time(), abs=5) for stamp in stamps)
        assert time.time() - tp.real_time() == pytest.approx(60, abs=5)
        exp.stop()
    finally:
        fake.close()


def test_time_sleep_on_managers_that_can_never_change_ends_with_a_stall_error() -> None:
    fake = FakeManager(three_second_trial, seed=1, stall_after=100, patch_time="sleep")
    try:
        exp = Experiment(make_config(), backend=fake)
        exp.start(8080)
        time.sleep(50)
        assert exp.get_status() == "DONE"
        with pytest.raises(ExperimentStalledError, match="the experiment is DONE"):
            time.sleep(200)
        exp.stop()
    finally:
        fake.close()


# ---------------------------------------------------------------------- install and undo


def test_the_context_manager_undoes_the_patch_even_on_error() -> None:
    fake = FakeManager()
    with pytest.raises(KeyError), fake.patch_time("all") as patch:
        assert isinstance(patch, TimePatch) and patch.active and fake.time_patch is patch
        assert patch.thread_id == threading.get_ident() and patched("time")
        time.sleep(3)
        raise KeyError("boom")
    assert not patch.active and fake.time_patch is None and patch.thread_id is None
    assert not patched("sleep") and not patched("time")
    assert fake.clock.monotonic() == 3
    with fake.patch_time():  # a stopped patch does not block a new one
        assert fake.time_patch is not None and fake.time_patch.mode == "sleep"
    fake.close()


def test_stop_and_close_are_idempotent_and_work_from_another_thread() -> None:
    fake = FakeManager(patch_time="sleep")
    patch = fake.time_patch
    assert patch is not None
    closer = threading.Thread(target=fake.close)
    closer.start()
    closer.join(10)
    assert not patch.active and not patched("sleep")
    patch.stop()
    fake.close()
    assert "inactive" in repr(patch)


def test_a_second_patch_in_the_same_thread_is_refused(real_sleeps: List[float]) -> None:
    first = FakeManager(patch_time="sleep")
    try:
        with pytest.raises(TimePatchError, match="already patched in this thread") as info:
            FakeManager(patch_time="all")
        assert repr(first) in str(info.value)
        second = FakeManager()
        with pytest.raises(TimePatchError, match="one patch per thread"):
            second.patch_time("sleep")
        with pytest.raises(TimePatchError, match="already patches time"):
            first.patch_time("all")
        patch = first.time_patch
        assert patch is not None
        with pytest.raises(TimePatchError, match="already active"):
            patch.start()
        time.sleep(2)  # the first patch is intact
        assert first.clock.monotonic() == 2 and second.clock.monotonic() == 0 and not patched("time")
    finally:
        first.close()


def test_a_time_function_replaced_by_other_code_is_neither_hidden_nor_clobbered() -> None:
    def foreign_sleep(seconds: float) -> None:
        """Another library's fake sleep."""

    fake = FakeManager()
    try:
        time.sleep = foreign_sleep
        with pytest.raises(TimePatchError, match="already replaced by other code"):
            fake.patch_time("sleep")
        time.sleep = ORIGINAL["sleep"]
        patch = fake.patch_time("sleep")
        time.sleep = foreign_sleep  # someone patches on top of ours
        patch.stop()
        assert time.sleep is foreign_sleep  # left in place
    finally:
        time.sleep = ORIGINAL["sleep"]
        fake.close()


# ---------------------------------------------------------------------- bad values


@given(st.text().filter(lambda text: text not in PATCH_TIME_MODES))
def test_an_unknown_mode_is_a_value_error_naming_the_allowed_ones(mode: str) -> None:
    with pytest.raises(ValueError, match="'sleep', 'all'"):
        FakeManager(patch_time=mode)
    fake = FakeManager()
    with pytest.raises(ValueError, match="'sleep', 'all'"):
        fake.patch_time(mode)
    with pytest.raises(ValueError, match="'sleep', 'all'"):
        TimePatch(fake.clock, mode)


@given(st.one_of(st.booleans(), st.integers(), st.floats(), st.lists(st.text(max_size=3), max_size=2)))
def test_a_mode_that_is_not_a_string_is_a_type_error(mode: Any) -> None:
    with pytest.raises(TypeError, match="patch_time must be one of 'sleep', 'all' or None"):
        FakeManager(patch_time=mode)


def test_none_is_not_a_mode_to_install_and_a_real_time_clock_cannot_be_patched() -> None:
    fake = FakeManager()
    with pytest.raises(ValueError, match="stop\\(\\) it or close\\(\\)"):
        fake.patch_time(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a VirtualClock"):
        FakeManager(clock=ScaledRealClock(100), patch_time="sleep")
    scaled = FakeManager(clock=ScaledRealClock(100), search="own")
    with pytest.raises(ValueError, match="needs a VirtualClock; a ScaledRealClock"):
        scaled.patch_time("sleep")
    scaled.close()


#: Arguments ``time.sleep`` refuses at once (so calling the real one never waits).
INVALID_SLEEPS = st.one_of(
    st.floats(max_value=-1e-300),
    st.floats(min_value=1e10),
    st.just(math.nan),
    st.integers(max_value=-1),
    st.integers(min_value=10 ** 10),
    st.none(),
    st.text(max_size=4),
    st.complex_numbers(),
    st.fractions(),
    st.lists(st.integers(), max_size=2),
)


@given(INVALID_SLEEPS)
def test_bad_sleep_arguments_raise_what_time_sleep_raises(value: Any) -> None:
    with pytest.raises(Exception) as real:  # noqa: B017 - the type is what is compared
        ORIGINAL["sleep"](value)
    fake = FakeManager(patch_time="sleep")
    try:
        with pytest.raises(type(real.value)):
            time.sleep(value)
    finally:
        fake.close()
    assert fake.clock.monotonic() == 0


def test_sleep_accepts_what_time_sleep_accepts() -> None:
    class Index:
        def __index__(self) -> int:
            return 2

    fake = FakeManager(patch_time="sleep")
    try:
        for value in (1, 0.5, True, Index(), 0, -0.0):
            time.sleep(value)  # type: ignore[arg-type]
        assert fake.clock.monotonic() == 4.5
        with pytest.raises(TypeError, match="'Fraction' object cannot be interpreted as an integer"):
            time.sleep(Fraction(1, 2))  # type: ignore[arg-type]
    finally:
        fake.close()


def test_the_marker_choices_are_the_modes() -> None:
    assert PATCH_TIME_CHOICES == PATCH_TIME_MODES == tuple(tp.PATCHED_NAMES)


# ---------------------------------------------------------------------- NNI_EXP_BACKEND=fake


def test_nni_exp_patch_time_patches_the_shared_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_shared_fake", None)
    monkeypatch.setenv(backends.BACKEND_ENV_VAR, "fake")
    monkeypatch.setenv(backends.PATCH_TIME_ENV_VAR, " Sleep ")
    exp = Experiment(make_config())
    fake = exp.backend
    assert isinstance(fake, FakeManager)
    try:
        assert fake.time_patch is not None and fake.time_patch.mode == "sleep"
        exp.start(8080)
        time.sleep(60)
        assert len(exp.list_trial_jobs()) == 4
        exp.stop()
    finally:
        fake.close()


@pytest.mark.parametrize("value", ["freeze", "1", "true", "sleep,all"])
def test_a_bad_nni_exp_patch_time_names_the_allowed_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(backends, "_shared_fake", None)
    monkeypatch.setenv(backends.BACKEND_ENV_VAR, "fake")
    monkeypatch.setenv(backends.PATCH_TIME_ENV_VAR, value)
    with pytest.raises(UnknownBackendError, match=f"NNI_EXP_PATCH_TIME='{value}': use sleep or all"):
        Experiment(make_config())


def test_nni_exp_patch_time_is_ignored_unless_the_shared_fake_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.PATCH_TIME_ENV_VAR, "all")
    fake = Experiment(make_config(), backend="fake").backend
    assert isinstance(fake, FakeManager) and fake.time_patch is None and not patched("sleep")
