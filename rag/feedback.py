"""Thumbs up/down on answers, kept in SQLite under PAPERTRAIL_HOME and exported for review as eval lines."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Literal

from .arguments import check_answer, check_path, check_rating, check_settings, check_text
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


def _connect(settings: Settings) -> sqlite3.Connection:
    settings.store.home.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(settings.store.home / "feedback.sqlite3", timeout=10)
    connection.execute(_SCHEMA)
    return connection


def record_feedback(answer: Answer, rating: str, channel: str, settings: Settings | None = None) -> int:
    """Store one rating of `answer` (`channel`: where it came from, e.g. "web" or "slack"); returns its id."""
    answer, rating, channel = check_answer(answer), check_rating(rating), check_text(channel, "channel")
    citations = json.dumps([c.model_dump() for c in answer.citations], ensure_ascii=False)
    with _connect(check_settings(settings)) as connection:
        cursor = connection.execute(
            "INSERT INTO feedback (created, rating, channel, question, answer, citations, backend)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (time.time(), rating, channel, answer.question, answer.text, citations, answer.backend),
        )
        return int(cursor.lastrowid)


def export_feedback(out: Path, settings: Settings | None = None, rating: Rating = "down") -> int:
    """Write the ratings of one kind as eval JSONL lines (gold left empty for a reviewer); returns the count."""
    out, rating = check_path(out, "out"), check_rating(rating)
    with _connect(check_settings(settings)) as connection:
        rows = connection.execute(
            "SELECT id, created, question, answer, citations, backend FROM feedback WHERE rating = ? ORDER BY id",
            (rating,),
        ).fetchall()
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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return len(lines)
