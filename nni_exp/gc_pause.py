"""Keep the garbage collector out of bulk decodes.

Decoding a large answer (``list_trial_jobs()`` of 100,000 trials) allocates millions of containers;
each allocation counts towards a collection, and every full collection walks all live objects, the
decoded ones included, so the decode gets slower the more the process holds. Nothing decoded here
can form a reference cycle, so pausing the collector while it runs loses nothing.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable automatic garbage collection inside the block (nested and concurrent blocks share one
    pause); the collector is enabled again when the last block ends, if it was enabled before the first."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
