"""What an embedded Chroma store's errors say about damaged files, as one line a user can act on.

Chroma reports a damaged database or vector index in its internal words (SQLite's codes, its HNSW loader's
messages); every command turns those into "the store is damaged: ...; run `papertrail ingest --check` to repair it"
(rag/repair.py is that repair).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import StoreError

DATABASE = "chroma.sqlite3"
DATABASE_WORDS = ("file is not a database", "database disk image is malformed", "(code: 11)", "(code: 26)")
INDEX_WORDS = ("hnsw", "pickle", "error getting embedding", "error loading index")


def damage(err: BaseException | str, folder: Path | None = None) -> str | None:
    """What a failure of an embedded Chroma store says is damaged, or None when it is not damage; given the store's
    `folder`, a failure in other words is checked against SQLite's own check of the database."""
    text = str(err).casefold()
    if any(word in text for word in DATABASE_WORDS):
        return f"its database {DATABASE} cannot be read"
    if any(word in text for word in INDEX_WORDS):
        return "its vector index (the HNSW files) cannot be read"
    return database_problem(folder / DATABASE) if folder is not None else None


def database_problem(path: Path) -> str | None:
    """What SQLite's own check finds wrong with the database at `path` (read only), or None."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = [row[0] for row in connection.execute("PRAGMA quick_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as err:
        return f"its database {DATABASE} cannot be read ({err})"
    if found != ["ok"]:
        first = " ".join(" ".join(found).split())
        return f"its database {DATABASE} is corrupt (SQLite's check: {first[:160]})"
    return None


def damaged_error(where: str, what: str) -> StoreError:
    """The one line every command gives for a damaged store."""
    return StoreError(f"the Chroma store at {where} is damaged: {what}; run `papertrail ingest --check` to repair it")
