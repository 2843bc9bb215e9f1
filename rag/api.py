"""The whole public surface: ask, ingest, and what the store holds. Every function takes optional settings.

Heavy libraries (llama-index, torch, chromadb) are imported inside the functions, so `import rag` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypedDict, Unpack

from .arguments import check_ask, check_paths, check_progress, check_settings
from .settings import Settings
from .types import Answer, IngestReport, Paper, Turn

Progress = Callable[[int, int], None]
"""Called with (papers embedded so far, papers to embed)."""
History = Sequence[Turn | dict | str] | None
"""Earlier turns of a conversation: `Turn`s, dicts with question/answer, or bare questions."""


class AskOptions(TypedDict, total=False):
    """Per-question choices, each defaulting to the settings."""

    top_k: int | None
    """How many papers to draw on."""
    dates: list[str] | None
    """Only papers listed on one of these dates ("Mar 11")."""
    backend: str | None
    """Answering backend by name ("extractive", "openai", "llamacpp", or a registered one)."""


def ask(question: str, history: History = None, settings: Settings | None = None, **options: Unpack[AskOptions]) -> Answer:
    """Answer `question` from the indexed abstracts, every claim cited; abstains when the evidence is weak."""
    final = None
    for item in ask_stream(question, history, settings, **options):
        final = item
    assert isinstance(final, Answer)
    return final


def ask_stream(
    question: str, history: History = None, settings: Settings | None = None, **options: Unpack[AskOptions]
) -> Iterator[str | Answer]:
    """The answer text in pieces as it is produced, then the final `Answer` (the same as `ask` returns).

    Bad arguments are refused here, before the first piece is asked for."""
    from .pipeline import ask_stream as run

    return run(check_ask(question, history, settings, options))


def ingest(
    paths: Sequence[str | Path] | None = None, settings: Settings | None = None, progress: Progress | None = None
) -> IngestReport:
    """Ingest paper lists (default: the seeds); a bad file refuses the whole call and leaves the store as it was."""
    from .engine import get_engine

    paths, progress = check_paths(paths), check_progress(progress)
    return get_engine(check_settings(settings)).ingest(paths, progress)


def ensure_corpus(settings: Settings | None = None, progress: Progress | None = None) -> IngestReport | None:
    """Ingest the seeds when the store is empty (the report), else do nothing (None). Front ends call it at start."""
    settings = check_settings(settings)
    return ingest(None, settings, progress) if stats(settings)["chunks"] == 0 else None


def stats(settings: Settings | None = None) -> dict[str, int]:
    """How many papers and chunks the store holds."""
    from .engine import get_engine

    store = get_engine(check_settings(settings)).store
    return {"papers": store.paper_count(), "chunks": store.count()}


def catalog(settings: Settings | None = None) -> list[Paper]:
    """Every stored paper once, in title order (abstracts rebuilt from their chunks)."""
    from .engine import get_engine

    papers = get_engine(check_settings(settings)).papers().values()
    return sorted(papers, key=lambda paper: paper.title.casefold())


def backend_name(settings: Settings | None = None) -> str:
    """The backend that answers by default: `auto` resolved to `openai` or `extractive`."""
    from .answer import backend_name as resolve

    return resolve(check_settings(settings))
