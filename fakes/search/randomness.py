"""Reproducible randomness for algorithms that do not take a seed (``FakeManager(seed=N)``).

Some of NNI's algorithms draw from generators they create without a seed (Evolution's and
Hyperband's ``numpy.random.RandomState()``, TPE's and Random's ``numpy.random.default_rng()`` when
``classArgs`` has no ``seed``) or from the process-wide ``random`` and ``numpy.random`` states
(Evolution, PBT, Metis, ...). In the real manager each experiment's dispatcher is a fresh process,
so these are fresh per experiment; two runs differ. While a seeded fake experiment's dispatcher
works (from :meth:`SeededRandomness.enter` to :meth:`SeededRandomness.exit`), the fake

* makes ``numpy.random.RandomState()`` and ``numpy.random.default_rng()`` called *without* a seed
  use one drawn from the experiment's seed (with a seed they are untouched, so a ``classArgs.seed``
  gives NNI's own numbers), and
* when the algorithm uses the process-wide states, swaps in the experiment's own ``random`` and
  ``numpy.random`` states (and swaps them back afterwards), so experiments do not draw from each
  other's streams.

Swapping the process-wide states costs about 0.15 ms a call, so it is done only for algorithms that
use them (:data:`SELF_CONTAINED` lists those that do not).
"""

from __future__ import annotations

import random
import threading
from typing import Any, Optional

__all__ = ["SeededRandomness", "SELF_CONTAINED"]

#: NNI algorithm classes that draw only from generators they own (checked by reading their
#: source): no process-wide state to swap for them.
SELF_CONTAINED = frozenset({
    "nni.algorithms.hpo.random_tuner.RandomTuner",
    "nni.algorithms.hpo.tpe_tuner.TpeTuner",
    "nni.algorithms.hpo.gridsearch_tuner.GridSearchTuner",
    "nni.algorithms.hpo.batch_tuner.BatchTuner",
    "nni.algorithms.hpo.hyperband_advisor.Hyperband",
    "nni.algorithms.hpo.medianstop_assessor.MedianstopAssessor",
})

_local = threading.local()


def _current() -> Optional[SeededRandomness]:
    return getattr(_local, "active", None)


class SeededRandomness:
    """An experiment's randomness (see the module docstring); ``swap_global_state``: the algorithm
    uses the process-wide ``random`` / ``numpy.random`` states."""

    def __init__(self, seed: int, swap_global_state: bool) -> None:
        self.seed = seed
        self.swap_global_state = swap_global_state
        self._seeds = random.Random(seed)
        # drawn now (the order of draws from _seeds fixes every stream), made into a state when first swapped in
        self._python_seed = self._seeds.randrange(2 ** 32)
        self._python_state: Any = None
        self._numpy_state: Any = None

    def next_seed(self) -> int:
        """A seed for a generator the algorithm creates without one."""
        return self._seeds.randrange(2 ** 32)

    def enter(self) -> Any:
        """Start drawing from this experiment's randomness; pass the result to :meth:`exit`."""
        import numpy

        previous = _current()
        _local.active = self
        _patch_numpy(numpy)
        swap = self.swap_global_state  # may change meanwhile: it applies from the next call
        saved: Any = None
        if swap:
            if self._python_state is None:
                self._python_state = random.Random(self._python_seed).getstate()
            if self._numpy_state is None:
                self._numpy_state = _ORIGINALS["RandomState"](self.next_seed()).get_state()
            saved = (random.getstate(), numpy.random.get_state())
            random.setstate(self._python_state)
            numpy.random.set_state(self._numpy_state)
        return previous, swap, saved

    def exit(self, token: Any) -> None:
        """Stop drawing from this experiment's randomness (``token``: what :meth:`enter` returned)."""
        import numpy

        previous, swap, saved = token
        if swap:
            self._python_state, self._numpy_state = random.getstate(), numpy.random.get_state()
            random.setstate(saved[0])
            numpy.random.set_state(saved[1])
        _unpatch_numpy(numpy)
        _local.active = previous


_ORIGINALS: dict = {}
_patch_depth = 0
_patch_lock = threading.Lock()


def _patch_numpy(numpy: Any) -> None:
    """Install the seeding stand-ins for ``RandomState`` / ``default_rng`` (reference counted)."""
    global _patch_depth
    with _patch_lock:
        if not _ORIGINALS:
            _ORIGINALS["RandomState"] = numpy.random.RandomState
            _ORIGINALS["default_rng"] = numpy.random.default_rng
            _ORIGINALS["stand_ins"] = _make_stand_ins(numpy)
        _patch_depth += 1
        if _patch_depth == 1:
            random_state, default_rng = _ORIGINALS["stand_ins"]
            numpy.random.RandomState = random_state
            numpy.random.default_rng = default_rng


def _unpatch_numpy(numpy: Any) -> None:
    global _patch_depth
    with _patch_lock:
        _patch_depth -= 1
        if _patch_depth == 0:
            numpy.random.RandomState = _ORIGINALS["RandomState"]
            numpy.random.default_rng = _ORIGINALS["default_rng"]


def _make_stand_ins(numpy: Any) -> Any:
    original_state = numpy.random.RandomState
    original_default_rng = numpy.random.default_rng

    class _RandomStateType(type):
        """``isinstance(x, numpy.random.RandomState)`` keeps working while the stand-in is installed."""

        def __instancecheck__(cls, instance: Any) -> bool:
            return isinstance(instance, original_state)

        def __subclasscheck__(cls, subclass: Any) -> bool:
            return issubclass(subclass, original_state)

    class RandomState(original_state, metaclass=_RandomStateType):  # type: ignore[misc,valid-type]
        """``numpy.random.RandomState`` whose unseeded instances take the fake experiment's seed."""

        def __new__(cls, seed: Any = None) -> Any:
            active = _current()
            if seed is None and active is not None:
                seed = active.next_seed()
            return original_state(seed)

    def default_rng(seed: Any = None) -> Any:
        """``numpy.random.default_rng`` whose unseeded generators take the fake experiment's seed."""
        active = _current()
        if seed is None and active is not None:
            seed = active.next_seed()
        return original_default_rng(seed)

    return RandomState, default_rng
