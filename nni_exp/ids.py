"""Experiment ids: NNI's validation rule and generator."""

from __future__ import annotations

import random
import re
import string

from .errors import InvalidExperimentIdError
from .reprs import short_repr

__all__ = ["is_valid_experiment_id", "generate_experiment_id", "check_experiment_id"]

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def is_valid_experiment_id(experiment_id: object) -> bool:
    """True when ``experiment_id`` is 1-32 letters, digits, hyphens or underscores."""
    return isinstance(experiment_id, str) and _ID_PATTERN.match(experiment_id) is not None


def check_experiment_id(experiment_id: object) -> str:
    """Return ``experiment_id`` or raise :class:`InvalidExperimentIdError` with NNI's message."""
    if not is_valid_experiment_id(experiment_id):
        short = isinstance(experiment_id, str) and len(experiment_id) <= 100
        shown = experiment_id if short else short_repr(experiment_id)
        raise InvalidExperimentIdError(
            f"Invalid experiment ID: {shown}. Experiment ID should only contain digits, "
            "alphanumeric characters, hyphens, and underscores, and should be no longer than 32 characters."
        )
    assert isinstance(experiment_id, str)
    return experiment_id


def generate_experiment_id(rng: random.Random | None = None) -> str:
    """Eight distinct characters from ``[a-z0-9]``, as NNI generates them."""
    return "".join((rng or random.Random()).sample(_ID_ALPHABET, 8))
