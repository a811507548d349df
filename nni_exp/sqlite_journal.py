"""Finishing an SQLite write that a killed process left half done, before reading read-only.

A process killed inside an SQLite transaction (the NNI manager, or the fake manager server, under
``kill -9``) leaves a *hot journal* (``<database>-journal``) next to the database. Whoever opens the
database next must roll the transaction back first, which needs write access: a read-only
connection (``?mode=ro``) fails with "attempt to write a readonly database". NNI's own readers open
the database read-write and so recover silently; :func:`roll_back_interrupted_write` does the same
for readers that otherwise only read.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Union

__all__ = ["roll_back_interrupted_write", "has_hot_journal"]


def has_hot_journal(database: Union[str, Path]) -> bool:
    """Whether a rollback journal with content lies next to ``database`` (a write may be half done)."""
    journal = Path(f"{database}-journal")
    try:
        return journal.stat().st_size > 0
    except OSError:
        return False


def roll_back_interrupted_write(database: Union[str, Path], timeout: float = 10.0) -> None:
    """Roll back the transaction of a killed writer of the existing ``database`` (nothing when none).

    Opens the file read-write only when a journal is there; the first read does the rollback (SQLite
    ignores a journal that another live connection still holds). Never creates a database.
    """
    path = Path(database)
    if not path.is_file() or not has_hot_journal(path):
        return
    with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True, timeout=timeout)) as connection:
        connection.execute("select count(*) from sqlite_master").fetchone()
