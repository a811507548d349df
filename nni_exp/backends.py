"""Choosing a backend: ``backend=`` objects and names, and the ``NNI_EXP_BACKEND`` default.

With ``NNI_EXP_BACKEND=fake``, ``NNI_EXP_PATCH_TIME=sleep`` (or ``all``) also makes the shared fake
patch the ``time`` module (``FakeManager(patch_time=...)``, :mod:`fakes.time_patch`): ``time.sleep``
in the thread that first uses the default backend (usually the script's main thread) then moves the
fake's virtual clock, for the rest of the process, so an unmodified script that waits with
``time.sleep`` sees its trials progress at once.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional

from .backend import Backend
from .errors import UnknownBackendError
from .reprs import short_repr

__all__ = ["BACKEND_ENV_VAR", "BACKEND_NAMES", "PATCH_TIME_ENV_VAR", "resolve_backend", "default_backend_name",
           "shared_fake_patch_time"]

#: Environment variable naming the default backend (``nni`` or ``fake``).
BACKEND_ENV_VAR = "NNI_EXP_BACKEND"
BACKEND_NAMES = ("nni", "fake")
#: Environment variable: ``sleep`` or ``all`` makes the shared fake of ``NNI_EXP_BACKEND=fake`` patch ``time``.
PATCH_TIME_ENV_VAR = "NNI_EXP_PATCH_TIME"
_PATCH_TIME_VALUES = ("sleep", "all")

_shared_fake: Optional[Backend] = None
_shared_fake_lock = threading.Lock()


def default_backend_name() -> str:
    """``NNI_EXP_BACKEND`` when set, else ``'nni'`` (the real manager, as in NNI)."""
    name = os.environ.get(BACKEND_ENV_VAR, "").strip().lower() or "nni"
    if name not in BACKEND_NAMES:
        raise UnknownBackendError(
            f"{BACKEND_ENV_VAR}={os.environ[BACKEND_ENV_VAR]!r} names no backend; use one of {BACKEND_NAMES}"
        )
    return name


def shared_fake_patch_time() -> Optional[str]:
    """``NNI_EXP_PATCH_TIME`` (``sleep``, ``all``; unset or empty: None), for the shared fake.

    Raises :class:`UnknownBackendError` (a ``ValueError``) for any other value, naming the allowed ones.
    """
    raw = os.environ.get(PATCH_TIME_ENV_VAR, "")
    value = raw.strip().lower()
    if not value:
        return None
    if value not in _PATCH_TIME_VALUES:
        raise UnknownBackendError(f"{PATCH_TIME_ENV_VAR}={raw!r}: use {' or '.join(_PATCH_TIME_VALUES)} "
                                  "(or leave it unset)")
    return value


def resolve_backend(spec: Any = None) -> Backend:
    """The backend for ``spec``: a backend object, ``'nni'``, ``'fake'``, or None for the default.

    ``'fake'`` gives a fresh in-memory fake manager. The default chosen through
    ``NNI_EXP_BACKEND=fake`` is one fake shared by the whole process instead, so that an unmodified
    script can stop an experiment with one ``Experiment`` object and resume it with another, as it
    would on a real machine. ``NNI_EXP_PATCH_TIME`` (see :func:`shared_fake_patch_time`) makes
    that shared fake patch ``time.sleep`` in the thread that creates it.
    """
    if spec is None:
        name = default_backend_name()
        return _shared_fake_backend() if name == "fake" else _new_backend(name)
    if isinstance(spec, str):
        return _new_backend(spec.strip().lower(), original=spec)
    if isinstance(spec, Backend):
        return spec
    raise UnknownBackendError(
        f"backend={short_repr(spec)} is neither a backend object (see nni_exp.backend.Backend) "
        f"nor one of {BACKEND_NAMES}"
    )


def _new_backend(name: str, original: Optional[str] = None) -> Backend:
    if name == "fake":
        from fakes import FakeManager

        return FakeManager()
    if name == "nni":
        from .real import RealBackend

        return RealBackend()
    raise UnknownBackendError(f"backend={original or name!r} names no backend; use one of {BACKEND_NAMES}")


def _shared_fake_backend() -> Backend:
    global _shared_fake
    with _shared_fake_lock:
        if _shared_fake is None:
            from fakes import FakeManager

            _shared_fake = FakeManager(patch_time=shared_fake_patch_time())
        return _shared_fake
