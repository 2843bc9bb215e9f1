"""Thumbs up/down on answers, kept in SQLite under PAPERTRAIL_HOME (one rating per answer and user: the last) and
exported for review as eval lines."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Literal

from .arguments import check_answer, check_path, check_rating, check_settings, check_text
from .errors import BadInputError
from .read_only import refuse_writing
from .settings import Settings
from .types import Answer

Rating = Literal["up", "down"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    channel TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    backend TEXT NOT NULL
)
"""
_RATER_COLUMNS = {"user": "TEXT", "answer_key": "TEXT"}
"""Added to databases written before ratings were kept once per answer and user (rows from then have neither)."""
_ONCE = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_once ON feedback (answer_key, user)"
FEEDBACK_FILE = "feedback.sqlite3"


def _connect(settings: Settings) -> sqlite3.Connection:
    refuse_writing(settings.store.home, "saving a rating")
    settings.store.home.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(settings.store.home / FEEDBACK_FILE, timeout=10)
    connection.execute(_SCHEMA)
    present = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    for column, kind in _RATER_COLUMNS.items():
        if column not in present:
            connection.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")
    connection.execute(_ONCE)
    return connection


def record_feedback(
    answer: Answer, rating: str, channel: str, settings: Settings | None = None, user: str | None = None
) -> int:
    """Store a rating of `answer` (`channel`: where it came from, e.g. "web" or "slack"); returns its id. A `user`
    (a Slack user id, a web login or session) rating the same answer again replaces their rating: the last counts."""
    answer, rating, channel = check_answer(answer), check_rating(rating), check_text(channel, "channel")
    user = None if user is None else check_text(user, "user")
    citations = json.dumps([c.model_dump() for c in answer.citations], ensure_ascii=False)
    key = hashlib.sha1("\x1f".join([answer.question, answer.text, answer.backend, citations]).encode("utf-8")).hexdigest()
    with _connect(check_settings(settings)) as connection:
        cursor = connection.execute(
            "INSERT INTO feedback (created, rating, channel, question, answer, citations, backend, user, answer_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (answer_key, user) DO UPDATE SET created = excluded.created, rating = excluded.rating,"
            " channel = excluded.channel RETURNING id",
            (time.time(), rating, channel, answer.question, answer.text, citations, answer.backend, user, key),
        )
        return int(cursor.fetchone()[0])


def export_feedback(out: Path, settings: Settings | None = None, rating: Rating = "down") -> int:
    """Write the ratings of one kind as eval JSONL lines (gold left empty for a reviewer); returns the count."""
    out, rating = check_path(out, "out"), check_rating(rating)
    rows = _rated(check_settings(settings).store.home / FEEDBACK_FILE, rating)
    lines = []
    for row_id, created, question, answer, citations, backend in rows:
        cited = list(dict.fromkeys(c["title"] for c in json.loads(citations)))
        lines.append(
            {
                "id": f"feedback-{row_id}",
                "question": question,
                "type": "review",
                "gold_titles": [],
                "must_contain": [],
                "note": {"answer": answer, "cited": cited, "backend": backend, "created": created},
            }
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    except OSError as err:
        raise BadInputError(f"cannot write {out}: {err.strerror}; name a file in a folder you may write") from None
    return len(lines)


def _rated(path: Path, rating: str) -> list[tuple]:
    """The ratings of one kind, read without writing (the home may be read-only); none when nothing was rated."""
    if not path.is_file():
        return []
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(
            "SELECT id, created, question, answer, citations, backend FROM feedback WHERE rating = ? ORDER BY id",
            (rating,),
        ).fetchall()
    finally:
        connection.close()
