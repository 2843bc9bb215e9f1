"""Watches, the papers they have looked at and their matches, in SQLite under PAPERTRAIL_HOME (beside the feedback).

A match is recorded in the same transaction that marks its paper seen, so a kill leaves both or neither: the
next run looks at the paper again, and the UNIQUE (watch, paper) key keeps a second look from adding it twice.
Delivery is claimed first (by process id), then marked done once the front end has sent it: a sender killed
between sending and marking leaves a claim whose process is gone, and the match is sent again (at least once,
never lost); two live senders never both send it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .types import Paper, Watch, WatchMatch

FILE = "watches.sqlite3"
LEASE_S = 600.0
"""A claim older than this is taken over even if its process still runs (a sender stuck on a dead connection)."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    question TEXT NOT NULL,
    owner TEXT NOT NULL,
    channel TEXT
);
CREATE TABLE IF NOT EXISTS checked (
    collection TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
    collection TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    looked REAL NOT NULL,
    PRIMARY KEY (collection, paper_id)
);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    watch_id INTEGER NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    paper_id TEXT NOT NULL,
    paper TEXT NOT NULL,
    sentence TEXT NOT NULL,
    dense_score REAL NOT NULL,
    coverage REAL NOT NULL,
    background REAL NOT NULL,
    found REAL NOT NULL,
    claimed_by INTEGER,
    claimed REAL,
    delivered REAL,
    UNIQUE (watch_id, paper_id)
);
"""


@dataclass(frozen=True)
class Found:
    """A match about to be recorded."""

    watch_id: int
    paper: Paper
    sentence: str
    dense_score: float
    coverage: float
    background: float


def exists(home: Path) -> bool:
    """Whether any watch was ever added under `home` (without one, writes skip matching altogether)."""
    return (home / FILE).is_file()


@contextmanager
def opened(home: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the watches database (created with its tables when missing), closed after the block."""
    home.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(home / FILE, timeout=30, isolation_level=None)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(_SCHEMA)
        yield db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), committed at the end or rolled back on error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def add(db: sqlite3.Connection, question: str, owner: str, channel: str | None) -> Watch:
    """Store a new watch and return it."""
    created = time.time()
    cursor = db.execute(
        "INSERT INTO watches (created, question, owner, channel) VALUES (?, ?, ?, ?)", (created, question, owner, channel)
    )
    return Watch(id=int(cursor.lastrowid), question=question, owner=owner, channel=channel, created=_time(created))


def watches(db: sqlite3.Connection, owner: str | None = None) -> list[Watch]:
    """Every watch (or `owner`'s), oldest first."""
    rows = db.execute(
        "SELECT id, question, owner, channel, created FROM watches WHERE ? IS NULL OR owner = ? ORDER BY id", (owner, owner)
    )
    return [_watch(row) for row in rows]


def remove(db: sqlite3.Connection, watch_id: int, owner: str | None) -> Watch | None:
    """Delete a watch (only `owner`'s, when given) and its matches; the watch removed, or None."""
    with transaction(db):
        found = [watch for watch in watches(db, owner) if watch.id == watch_id]
        if found:
            db.execute("DELETE FROM watches WHERE id = ?", (watch_id,))
    return found[0] if found else None


def checked(db: sqlite3.Connection, collection: str) -> int | None:
    """The store generation the watches last looked at (None: never, so nothing in the store is new to them)."""
    row = db.execute("SELECT generation FROM checked WHERE collection = ?", (collection,)).fetchone()
    return None if row is None else int(row[0])


def seen(db: sqlite3.Connection, collection: str) -> set[str]:
    """The ids of the papers the watches have looked at."""
    return {row[0] for row in db.execute("SELECT paper_id FROM seen WHERE collection = ?", (collection,))}


def latest_seen(db: sqlite3.Connection, collection: str, limit: int) -> list[str]:
    """The ids of the `limit` papers the watches looked at last."""
    rows = db.execute(
        "SELECT paper_id FROM seen WHERE collection = ? ORDER BY looked DESC, rowid DESC LIMIT ?", (collection, limit)
    )
    return [row[0] for row in rows]


def record(db: sqlite3.Connection, collection: str, generation: int, looked_at: Sequence[str], found: Sequence[Found]) -> int:
    """In one transaction: the matches (a (watch, paper) already recorded is kept as it was), the papers as seen,
    the generation looked at. Returns how many matches were new."""
    now = time.time()
    with transaction(db):
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO matches (watch_id, paper_id, paper, sentence, dense_score, coverage, background, found) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM watches WHERE id = ?)",
            [
                (f.watch_id, f.paper.paper_id, f.paper.model_dump_json(), f.sentence, f.dense_score, f.coverage,
                 f.background, now, f.watch_id)
                for f in found
            ],
        )
        added = db.total_changes - before
        db.executemany(
            "INSERT OR IGNORE INTO seen (collection, paper_id, looked) VALUES (?, ?, ?)", [(collection, p, now) for p in looked_at]
        )
        db.execute(
            "INSERT INTO checked (collection, generation) VALUES (?, ?) "
            "ON CONFLICT (collection) DO UPDATE SET generation = excluded.generation",
            (collection, generation),
        )
    return added


def claim(db: sqlite3.Connection, owner: str | None = None, owner_prefix: str | None = None) -> list[WatchMatch]:
    """Claim the undelivered matches of `owner` (or of every owner starting with `owner_prefix`) for this process:
    those no one claimed, claimed by a process that is gone, or claimed longer than LEASE_S ago."""
    now, pid = time.time(), os.getpid()
    with transaction(db):
        rows = db.execute(
            f"SELECT m.id, m.claimed_by, m.claimed, {_MATCH_COLUMNS} FROM matches m JOIN watches w ON w.id = m.watch_id "
            "WHERE m.delivered IS NULL AND (? IS NULL OR w.owner = ?) AND (? IS NULL OR substr(w.owner, 1, length(?)) = ?) "
            "ORDER BY m.id",
            (owner, owner, owner_prefix, owner_prefix, owner_prefix),
        ).fetchall()
        taken = [row for row in rows if row[1] is None or not _alive(row[1]) or now - row[2] > LEASE_S]
        db.executemany("UPDATE matches SET claimed_by = ?, claimed = ? WHERE id = ?", [(pid, now, row[0]) for row in taken])
    return [_match(row[3:]) for row in taken]


def release(db: sqlite3.Connection, match_id: int) -> None:
    """Give a claim back (its sending failed): the next delivery tries it again."""
    db.execute("UPDATE matches SET claimed_by = NULL, claimed = NULL WHERE id = ? AND delivered IS NULL", (match_id,))


def delivered(db: sqlite3.Connection, match_id: int) -> None:
    """Mark a claimed match as sent: it is never claimed again."""
    db.execute("UPDATE matches SET delivered = ? WHERE id = ?", (time.time(), match_id))


def waiting(db: sqlite3.Connection, owner: str) -> int:
    """How many of `owner`'s matches are not delivered yet."""
    row = db.execute(
        "SELECT count(*) FROM matches m JOIN watches w ON w.id = m.watch_id WHERE w.owner = ? AND m.delivered IS NULL",
        (owner,),
    ).fetchone()
    return int(row[0])


def recent(db: sqlite3.Connection, owner: str, limit: int) -> list[WatchMatch]:
    """`owner`'s latest matches, delivered or not, newest first."""
    rows = db.execute(
        f"SELECT {_MATCH_COLUMNS} FROM matches m JOIN watches w ON w.id = m.watch_id WHERE w.owner = ? "
        "ORDER BY m.id DESC LIMIT ?",
        (owner, limit),
    )
    return [_match(row) for row in rows]


_MATCH_COLUMNS = (
    "m.id, m.paper, m.sentence, m.dense_score, m.coverage, m.background, m.found, "
    "w.id, w.question, w.owner, w.channel, w.created"
)


def _match(row: Sequence) -> WatchMatch:
    match_id, paper, sentence, dense_score, coverage, background, found, *watch = row
    return WatchMatch(
        id=match_id,
        watch=_watch(watch),
        paper=Paper.model_validate_json(paper),
        sentence=sentence,
        dense_score=dense_score,
        coverage=coverage,
        background=background,
        found=_time(found),
    )


def _watch(row: Sequence) -> Watch:
    watch_id, question, owner, channel, created = row
    return Watch(id=watch_id, question=question, owner=owner, channel=channel, created=_time(created))


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs on this machine (the home's database is local to it)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
