"""The base class of nni-exp's errors, on its own so that :mod:`nni_exp.errors` and
:mod:`nni_exp.http_errors` share it without importing each other."""

from __future__ import annotations

__all__ = ["NniExpError"]


class NniExpError(Exception):
    """Base class of every error raised by nni-exp."""

    __module__ = "nni_exp.errors"
