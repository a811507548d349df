"""Virtual time for the fake manager."""

from __future__ import annotations

import math
import time
from typing import Callable, List, Optional

__all__ = ["VirtualClock", "ScaledRealClock"]

#: The real clock, bound at import: a fake never reads a ``time`` module patched for a test
#: (:mod:`fakes.time_patch`), whatever thread it runs in.
_real_time, _real_monotonic, _real_sleep = time.time, time.monotonic, time.sleep


class VirtualClock:
    """A clock that moves only when told to: :meth:`advance` or :meth:`sleep`.

    ``time()`` is ``start_time`` (epoch seconds; the real time at creation by default) plus the
    virtual seconds elapsed; ``monotonic()`` is the virtual seconds elapsed. Listeners registered
    with :meth:`on_advance` run after every move (the fake manager plays its events there); those
    registered with :meth:`on_sleep` after every :meth:`sleep` (a client waiting), with the seconds
    slept: they may raise to end a wait that can never end.
    """

    def __init__(self, start_time: Optional[float] = None) -> None:
        self.start_time = _real_time() if start_time is None else float(start_time)
        self._elapsed = 0.0
        self._listeners: List[Callable[[], None]] = []
        self._sleep_listeners: List[Callable[[float], None]] = []

    def time(self) -> float:
        return self.start_time + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0) and let the simulation catch up."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
                or seconds < 0:
            raise ValueError(f"advance() takes a finite number of seconds >= 0, got {seconds!r}")
        self._elapsed += float(seconds)
        for listener in list(self._listeners):
            listener()

    def sleep(self, seconds: float) -> None:
        """Sleeping on a virtual clock advances it; nothing really waits."""
        slept = max(float(seconds), 0.0)
        self.advance(slept)
        for listener in list(self._sleep_listeners):
            listener(slept)

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def on_sleep(self, listener: Callable[[float], None]) -> None:
        self._sleep_listeners.append(listener)


class ScaledRealClock:
    """Virtual time that follows real time, ``scale`` virtual seconds per real second (server mode)."""

    def __init__(self, scale: float = 1.0, start_time: Optional[float] = None) -> None:
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"time scale must be a positive number, got {scale!r}")
        self.scale = float(scale)
        self.start_time = _real_time() if start_time is None else float(start_time)
        self._origin = _real_monotonic()
        self._listeners: List[Callable[[], None]] = []

    def time(self) -> float:
        return self.start_time + self.monotonic()

    def monotonic(self) -> float:
        return (_real_monotonic() - self._origin) * self.scale

    def at_real(self, real_monotonic: float) -> float:
        """This clock's ``monotonic()`` at ``time.monotonic()`` value ``real_monotonic``."""
        return (real_monotonic - self._origin) * self.scale

    def real_at(self, moment: float) -> float:
        """The ``time.monotonic()`` value at which this clock reads ``moment``."""
        return self._origin + moment / self.scale

    def advance(self, seconds: float) -> None:
        raise TypeError("a clock that follows real time cannot be advanced by hand")

    def sleep(self, seconds: float) -> None:
        _real_sleep(max(float(seconds), 0.0) / self.scale)
        for listener in list(self._listeners):
            listener()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
