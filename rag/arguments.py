"""Every argument of the public entry points checked once, here, against the bounds the Settings declare.

`rag.ask`, `ask_stream`, `ingest`, the feedback functions and the rest call these before doing any work, so
the CLI, the web UI's `/ask` and the Slack bot, which all go through them, refuse a bad value with the same
one-line `BadInputError` rather than a Python exception.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .dates import EXAMPLE, read
from .errors import BadInputError
from .settings import AnswerSettings, RetrievalSettings, Settings
from .types import Answer, Turn

log = logging.getLogger(__name__)

ASK_OPTIONS = ("top_k", "dates", "backend")
SEARCH_OPTIONS = ("top_k", "dates")
RATINGS = ("up", "down")


@dataclass(frozen=True)
class AskArguments:
    """One question's arguments once checked: what the pipeline runs with."""

    question: str
    turns: list[Turn]
    settings: Settings
    top_k: int
    dates: list[str] | None
    backend: str | None


def check_ask(
    question: Any, history: Any, settings: Any, options: Mapping[str, Any], allowed: Sequence[str] = ASK_OPTIONS
) -> AskArguments:
    """The checked arguments of `ask`/`ask_stream` (of `search` with `allowed` SEARCH_OPTIONS); a refusal is logged
    in one line and raised."""
    try:
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise BadInputError(f"unknown option {unknown[0]!r}; the options are {', '.join(allowed)}")
        settings = check_settings(settings)
        return AskArguments(
            question=check_question(question, settings.answer),
            turns=check_history(history, settings.answer.history_turns),
            settings=settings,
            top_k=check_top_k(options.get("top_k"), settings.retrieval),
            dates=check_dates(options.get("dates")),
            backend=check_backend(options.get("backend")),
        )
    except BadInputError as err:
        log.info("refused a question: %s", err)
        raise


def check_settings(settings: Any) -> Settings:
    """`settings`, or the environment's when None."""
    if settings is None:
        return Settings()
    if not isinstance(settings, Settings):
        raise BadInputError(f"settings must be a rag.Settings, got {_show(settings)}")
    return settings


def check_question(question: Any, limits: AnswerSettings) -> str:
    """The question without surrounding white space or unprintable characters; refuses empty and over-long ones."""
    if not isinstance(question, str):
        raise BadInputError(f"the question must be text, got {_show(question)}")
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise BadInputError("the question is empty")
    if len(cleaned) > limits.max_question_chars:
        raise BadInputError(
            f"the question is {len(cleaned):,} characters long; the limit is {limits.max_question_chars:,}"
        )
    return cleaned


def check_history(history: Any, keep: int) -> list[Turn]:
    """The last `keep` earlier turns, given as `Turn`s, dicts with question/answer, or bare question strings."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise BadInputError(f"history must be a list of earlier turns, got {_show(history)}")
    turns = []
    for number, item in enumerate(history, start=1):
        try:
            turn = item if isinstance(item, Turn) else Turn(question=item) if isinstance(item, str) else None
            turns.append(turn or Turn.model_validate(item))
        except ValidationError:
            raise BadInputError(
                f"history turn {number} must be a question string or have a 'question' string, got {_show(item)}"
            ) from None
    return turns[-keep:] if keep else []


def check_top_k(top_k: Any, retrieval: RetrievalSettings) -> int:
    """How many papers to draw on: `retrieval.top_k` when None, else a whole number within the settings' bounds."""
    if top_k is None:
        return retrieval.top_k
    low, high = _bounds(RetrievalSettings, "top_k")
    whole = int(top_k) if isinstance(top_k, float) and top_k.is_integer() else top_k
    if isinstance(whole, bool) or not isinstance(whole, int) or not low <= whole <= high:
        raise BadInputError(f"top_k must be a whole number from {low} to {high}, got {_show(top_k)}")
    return whole


def check_dates(dates: Any) -> list[str] | None:
    """Listing dates to keep to (None: every date); each must be a calendar day ("Feb 30", "yesterday" are not)."""
    if dates is None:
        return None
    if isinstance(dates, str) or not isinstance(dates, Sequence) or not all(isinstance(d, str) and d.strip() for d in dates):
        raise BadInputError(f'dates must be a list of listing dates such as ["Mar 11"], got {_show(dates)}')
    for date in dates:
        if read(date) is None:
            raise BadInputError(f"{_show(date.strip())} is not a listing date; write a day as {EXAMPLE}")
    return [date.strip() for date in dates] or None


def check_backend(backend: Any) -> str | None:
    """An answering backend's name (None: the settings' backend); the registry says whether it exists."""
    if backend is None:
        return None
    if not isinstance(backend, str) or not backend.strip():
        raise BadInputError(f"backend must be the name of an answering backend such as 'extractive', got {_show(backend)}")
    return backend.strip()


def check_since(since: Any) -> datetime | None:
    """A moment as an aware datetime: a date (its midnight, UTC), a time (UTC when it names no zone), or their ISO text."""
    if since is None:
        return None
    moment = since
    if isinstance(since, str):
        try:
            moment = datetime.fromisoformat(since.strip()) if "T" in since or ":" in since else date.fromisoformat(since.strip())
        except ValueError:
            moment = None
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    if not isinstance(moment, datetime):
        raise BadInputError(f"since must be a date such as 2026-03-11 or a time such as 2026-03-11T06:15Z, got {_show(since)}")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_paths(paths: Any) -> list[Path] | None:
    """Files and folders to ingest (None: the seeds); a single path must still come in a list."""
    if paths is None:
        return None
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(paths, Sequence):
        raise BadInputError(f"paths must be a list of files or folders, got {_show(paths)}")
    return [check_path(path, "each path") for path in paths] or None


def check_path(path: Any, name: str) -> Path:
    """A file or folder name given as text or a path."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise BadInputError(f"{name} must be a file or folder name, got {_show(path)}")
    return Path(path)


def check_progress(progress: Any) -> Callable[[int, int], None] | None:
    """The progress callback, or None."""
    if progress is not None and not callable(progress):
        raise BadInputError(f"progress must be a function of (done, total), got {_show(progress)}")
    return progress


def check_rating(rating: Any) -> str:
    """A thumbs rating: "up" or "down"."""
    if rating not in RATINGS:
        raise BadInputError(f"rating must be 'up' or 'down', got {_show(rating)}")
    return rating


def check_answer(answer: Any) -> Answer:
    """An `Answer` returned by `ask`."""
    if not isinstance(answer, Answer):
        raise BadInputError(f"answer must be the rag.Answer that ask returned, got {_show(answer)}")
    return answer


def check_text(value: Any, name: str) -> str:
    """A non-empty string argument such as a feedback channel."""
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"{name} must be non-empty text, got {_show(value)}")
    return value.strip()


def _bounds(group: type[BaseModel], field: str) -> tuple[int, int]:
    """The (least, greatest) value a settings field allows, read from its declared constraints."""
    low, high = None, None
    for constraint in group.model_fields[field].metadata:
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
    return low, high


def _show(value: Any) -> str:
    """A bad value as a message shows it: its repr cut short (one line whatever it holds)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
