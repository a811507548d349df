"""What :meth:`Experiment.run` and :meth:`Experiment.view` do with Ctrl-C once the experiment is stopped.

NNI's ``run()`` catches ``KeyboardInterrupt``, logs "KeyboardInterrupt detected", stops the experiment
and returns None; nni-exp does the same by default. Inside a test session that swallowed Ctrl-C
would turn into an ``assert exp.run()`` failure and the session would go on, so the pytest plugin
switches on *re-raising*: the experiment is still stopped first, then the ``KeyboardInterrupt``
goes on to pytest, which ends the session as interrupted (exit code 2).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["reraise_keyboard_interrupts", "reraises_keyboard_interrupts", "set_reraise_keyboard_interrupts"]

_reraise = False


def reraises_keyboard_interrupts() -> bool:
    """True when ``run()``/``view()`` re-raise Ctrl-C after stopping the experiment."""
    return _reraise


def set_reraise_keyboard_interrupts(enabled: bool) -> bool:
    """Switch re-raising on or off for the whole process; returns the previous setting."""
    global _reraise
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {enabled!r}")
    previous, _reraise = _reraise, enabled
    return previous


@contextmanager
def reraise_keyboard_interrupts(enabled: bool = True) -> Iterator[None]:
    """Re-raise Ctrl-C (or keep NNI's behaviour, with ``enabled=False``) inside the ``with`` block."""
    previous = set_reraise_keyboard_interrupts(enabled)
    try:
        yield
    finally:
        set_reraise_keyboard_interrupts(previous)
