"""``time.sleep`` (and optionally ``time.time`` / ``time.monotonic``) on a fake's virtual clock.

A test written for NNI's client waits with the ``time`` module::

    exp.start(8080)
    time.sleep(30)
    assert exp.list_trial_jobs()

On :class:`fakes.FakeManager` nothing moves until its virtual clock does, so such a test sees no
trial. A :class:`TimePatch` (in the spirit of freezegun and time-machine, but moving time instead of
freezing it) makes ``time.sleep(s)`` in the test's thread advance the fake's clock by ``s`` virtual
seconds and return at once. Get one with ``FakeManager(patch_time="sleep")`` (until ``close()``),
``with fake.patch_time("sleep"):``, ``@pytest.mark.nni_fake(patch_time="sleep")`` or the
``nni_fake_time`` fixture.

Modes (:data:`PATCH_TIME_MODES`):

* ``"sleep"``: ``time.sleep`` only;
* ``"all"``: also ``time.time`` / ``time.time_ns``, which read the fake's ``clock.time()`` (the
  epoch seconds the fake stamps its data with), and ``time.monotonic`` / ``time.monotonic_ns``, which
  continue from their real value at install and then move with the virtual clock only.

Not patched: ``time.perf_counter`` and ``time.process_time`` (they measure real work: pytest's
durations, hypothesis deadlines, benchmarks), ``datetime.datetime.now()`` and the C-level clocks that
``threading`` and ``queue`` timeouts use.

Rules:

* **One thread.** Only calls from the thread that installed the patch (the test's thread) use the
  virtual clock; every other thread (the fake manager server, NNI's tuner threads, a pytest-timeout
  thread) keeps the real functions. A thread has at most one patch: a second install in the same
  thread, or a second patch of the same fake, raises :class:`~nni_exp.errors.TimePatchError`
  instead of mixing two clocks.
* **Not inside the fake.** Calls made while the fake is at work in that thread (a trial function or
  NNI's tuner code running during a sync, a sleep already advancing the clock) keep the real
  functions, as without the patch: the simulation is never re-entered. Trial functions should use
  ``trial.sleep(seconds)`` for virtual time.
* **Module attributes.** The patch replaces the attributes of the ``time`` module, so
  ``time.sleep(...)`` and ``from time import sleep`` executed *after* install both use it; a name
  imported *before* install (``from time import sleep`` at the top of a module imported earlier)
  still holds the real function, as with freezegun's and time-machine's own limits. After the patch
  is stopped, a name imported while it was active still works: it falls back to the real function.
* **Everything else in that thread.** Other code the test thread runs outside the fake reads the
  patched functions too, as with freezegun: a ``requests`` retry, a log record's timestamp
  (``"all"``), the polls of a real backend (``nni_exp.real.RealBackend``) used in the same test.
  The fakes' own clocks never do: they hold the real functions.
* **Stalls.** ``time.sleep`` is a client waiting on the fake's clock, like ``Experiment.run()``: the
  fake's ``stall_after`` applies (a poll loop on managers that can never change again ends with
  :class:`~nni_exp.errors.ExperimentStalledError` instead of spinning for ever).
* A patch is undone by :meth:`TimePatch.stop` (idempotent; from any thread), by leaving its ``with``
  block, or by the fake's ``close()``. If other code replaced a ``time`` attribute on top of the
  patch in the meantime, that replacement is left in place.

:data:`real_sleep`, :data:`real_time` and :data:`real_monotonic` are the real functions, for code
that must really wait while a patch is active.
"""

from __future__ import annotations

import math
import operator
import threading
import time
from types import TracebackType
from typing import Any, Callable, Dict, FrozenSet, Optional, Protocol, Tuple, Type

from nni_exp.errors import TimePatchError

__all__ = [
    "PATCH_TIME_MODES",
    "PATCHED_NAMES",
    "TimePatch",
    "TimePatchError",
    "VirtualTimeSource",
    "active_patch",
    "check_mode",
    "real_monotonic",
    "real_sleep",
    "real_time",
]

#: Values of ``patch_time`` (None: no patch).
PATCH_TIME_MODES: Tuple[str, ...] = ("sleep", "all")
#: The ``time`` module attributes each mode replaces.
PATCHED_NAMES: Dict[str, FrozenSet[str]] = {
    "sleep": frozenset({"sleep"}),
    "all": frozenset({"sleep", "time", "time_ns", "monotonic", "monotonic_ns"}),
}
_ALL_NAMES = ("sleep", "time", "time_ns", "monotonic", "monotonic_ns")
#: The ``time`` functions as they were when this module was imported (restored at uninstall).
_ORIGINALS: Dict[str, Callable[..., Any]] = {name: getattr(time, name) for name in _ALL_NAMES}

#: The real ``time.sleep``, whatever a patch does (calls outside a patch's scope fall back to these).
real_sleep: Callable[[float], None] = time.sleep
#: The real ``time.time``.
real_time: Callable[[], float] = time.time
#: The real ``time.monotonic``.
real_monotonic: Callable[[], float] = time.monotonic
real_time_ns: Callable[[], int] = time.time_ns
real_monotonic_ns: Callable[[], int] = time.monotonic_ns

#: Limit of ``time.sleep``: its argument in nanoseconds must fit a signed 64-bit integer.
_MAX_SLEEP_NS = 2 ** 63


class VirtualTimeSource(Protocol):
    """What a patch needs of a clock (a :class:`fakes.VirtualClock`)."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


def check_mode(mode: Any, what: str = "patch_time") -> Optional[str]:
    """``mode`` if it is None or one of :data:`PATCH_TIME_MODES`.

    Raises ``TypeError`` for a value that is not a string and ``ValueError`` for an unknown string,
    both naming the allowed values.
    """
    if mode is None:
        return None
    allowed = ", ".join(map(repr, PATCH_TIME_MODES))
    if not isinstance(mode, str):
        raise TypeError(f"{what} must be one of {allowed} or None, not {type(mode).__name__} {mode!r}")
    if mode not in PATCH_TIME_MODES:
        raise ValueError(f"{what} must be one of {allowed} or None, got {mode!r}")
    return mode


def sleep_seconds(value: Any) -> float:
    """``value`` as ``time.sleep`` reads it, with the errors ``time.sleep`` raises for bad values.

    A float, or an object with ``__index__`` (int); ``TypeError`` otherwise. ``ValueError`` for NaN
    and negative values, ``OverflowError`` for values out of the platform's range (infinities).
    """
    if isinstance(value, float):
        seconds = value
    else:
        try:
            seconds = float(operator.index(value))
        except TypeError:
            raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer") from None
    if math.isnan(seconds):
        raise ValueError("Invalid value NaN (not a number)")
    if not -_MAX_SLEEP_NS <= seconds * 1e9 < _MAX_SLEEP_NS:
        raise OverflowError("timestamp out of range for platform time_t")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    return seconds


# ---------------------------------------------------------------------- the registry

_registry_lock = threading.Lock()
#: Active patches by the ident of the thread they serve.
_active: Dict[int, TimePatch] = {}


def active_patch(thread_id: Optional[int] = None) -> Optional[TimePatch]:
    """The patch active for ``thread_id`` (default: the calling thread), or None."""
    return _active.get(threading.get_ident() if thread_id is None else thread_id)


def _patch_for(name: str) -> Optional[TimePatch]:
    """The calling thread's patch, if it applies to ``time.<name>`` right now."""
    patch = _active.get(threading.get_ident())
    if patch is None or name not in patch.names or patch.inside_fake():
        return None
    return patch


def _sleep(seconds: float) -> None:
    patch = _patch_for("sleep")
    if patch is None:
        real_sleep(seconds)
    else:
        patch.sleep(seconds)


def _time() -> float:
    patch = _patch_for("time")
    return real_time() if patch is None else patch.time()


def _time_ns() -> int:
    patch = _patch_for("time_ns")
    return real_time_ns() if patch is None else patch.time_ns()


def _monotonic() -> float:
    patch = _patch_for("monotonic")
    return real_monotonic() if patch is None else patch.monotonic()


def _monotonic_ns() -> int:
    patch = _patch_for("monotonic_ns")
    return real_monotonic_ns() if patch is None else patch.monotonic_ns()


_REPLACEMENTS: Dict[str, Callable[..., Any]] = {
    "sleep": _sleep,
    "time": _time,
    "time_ns": _time_ns,
    "monotonic": _monotonic,
    "monotonic_ns": _monotonic_ns,
}
for _name, _replacement in _REPLACEMENTS.items():
    _replacement.__name__ = _replacement.__qualname__ = _name
    _replacement.__doc__ = (f"time.{_name}, patched by nni-exp (fakes.time_patch): on a fake's virtual clock in "
                            f"the thread that installed a patch, else the real time.{_name}.\n\n"
                            f"{_ORIGINALS[_name].__doc__}")


def _foreign_replacements(names: FrozenSet[str]) -> Dict[str, Any]:
    """Attributes among ``names`` that someone other than nni-exp replaced (freezegun, a mock ...)."""
    return {name: getattr(time, name) for name in sorted(names)
            if getattr(time, name) is not _ORIGINALS[name] and getattr(time, name) is not _REPLACEMENTS[name]}


def _refresh_module() -> None:
    """Make the ``time`` module's attributes match the active patches (called with the registry lock)."""
    needed = set().union(*(patch.names for patch in _active.values())) if _active else set()
    for name in _ALL_NAMES:
        current = getattr(time, name)
        if name in needed and current is _ORIGINALS[name]:
            setattr(time, name, _REPLACEMENTS[name])
        elif name not in needed and current is _REPLACEMENTS[name]:
            setattr(time, name, _ORIGINALS[name])


# ---------------------------------------------------------------------- TimePatch


class TimePatch:
    """``time`` functions on a virtual clock for one thread; a context manager.

    Parameters
    ----------
    clock
        The virtual clock (``fake.clock``): ``time.sleep(s)`` becomes ``clock.sleep(s)``.
    mode
        ``"sleep"`` or ``"all"`` (see the module docstring).
    owner
        Who the patch is for (the fake manager), shown in errors.
    inside_fake
        ``() -> bool``: True while the fake is at work in the calling thread; the real functions
        are used then. Default: never.

    The patch is not active until :meth:`start` (``with`` starts it too); :meth:`stop` undoes it.
    ``FakeManager.patch_time(mode)`` builds and starts one.
    """

    def __init__(self, clock: VirtualTimeSource, mode: str = "sleep", *, owner: Any = None,
                 inside_fake: Optional[Callable[[], bool]] = None) -> None:
        checked = check_mode(mode, "mode")
        if checked is None:
            raise ValueError(f"mode must be one of {', '.join(map(repr, PATCH_TIME_MODES))}, got None")
        self.clock = clock
        self.mode = checked
        self.names = PATCHED_NAMES[checked]
        self.owner = owner
        self._inside_fake = inside_fake
        self._thread_id: Optional[int] = None
        self._thread_name = ""
        self._sleeping = False
        self._monotonic_offset = 0.0

    def __repr__(self) -> str:
        state = f"active in thread {self._thread_name!r}" if self.active else "inactive"
        return f"<TimePatch mode={self.mode!r} {state} for {self.owner!r}>"

    @property
    def active(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread_id is not None and _active.get(self._thread_id) is self

    @property
    def thread_id(self) -> Optional[int]:
        """Ident of the thread the patch serves (None when inactive)."""
        return self._thread_id if self.active else None

    def start(self) -> TimePatch:
        """Install the patch for the calling thread and return it.

        Raises :class:`~nni_exp.errors.TimePatchError` when this thread already has a patch, when
        this one is already active, or when a ``time`` function it needs was replaced by someone
        else (another time-mocking library, a mock) — two clocks would silently mix.
        """
        thread_id = threading.get_ident()
        with _registry_lock:
            if self.active:
                raise TimePatchError(f"{self!r} is already active; stop() it before starting it again")
            current = _active.get(thread_id)
            if current is not None:
                raise TimePatchError(
                    f"time is already patched in this thread ({threading.current_thread().name!r}) by {current!r}; "
                    "one patch per thread: stop that one first (fake.close(), leave its with block) or use it")
            foreign = _foreign_replacements(self.names)
            if foreign:
                shown = ", ".join(f"time.{name} = {value!r}" for name, value in foreign.items())
                raise TimePatchError(
                    f"cannot patch time for {self.owner!r}: {shown} was already replaced by other code "
                    "(freezegun, time-machine, a mock?); nni-exp would hide it or mix two clocks")
            self._thread_id = thread_id
            self._thread_name = threading.current_thread().name
            self._monotonic_offset = real_monotonic() - self.clock.monotonic()
            _active[thread_id] = self
            _refresh_module()
        return self

    def stop(self) -> None:
        """Undo the patch (nothing to do when it is not active). Any thread may call it."""
        with _registry_lock:
            if self._thread_id is not None and _active.get(self._thread_id) is self:
                del _active[self._thread_id]
                _refresh_module()
            self._thread_id = None

    def __enter__(self) -> TimePatch:
        return self if self.active else self.start()

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.stop()

    # ------------------------------------------------------------------ the patched functions

    def inside_fake(self) -> bool:
        """True while the fake works in the calling thread (a sleep advancing the clock included)."""
        return self._sleeping or (self._inside_fake is not None and self._inside_fake())

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` on the clock: validate as ``time.sleep`` does, then ``clock.sleep(seconds)``."""
        value = sleep_seconds(seconds)
        self._sleeping = True
        try:
            self.clock.sleep(value)
        finally:
            self._sleeping = False

    def time(self) -> float:
        """``time.time``: the clock's epoch seconds."""
        return self.clock.time()

    def time_ns(self) -> int:
        """``time.time_ns``: the clock's epoch nanoseconds."""
        return int(round(self.clock.time() * 1e9))

    def monotonic(self) -> float:
        """``time.monotonic``: the real value at install plus the virtual seconds elapsed since."""
        return self._monotonic_offset + self.clock.monotonic()

    def monotonic_ns(self) -> int:
        """``time.monotonic_ns``: :meth:`monotonic` in nanoseconds."""
        return int(round(self.monotonic() * 1e9))
