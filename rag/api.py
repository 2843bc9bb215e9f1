"""Corpus-level entry points of the public API: ingest files, count what the store holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .engine import get_engine
from .ingestion import IngestReport
from .settings import Settings


def ingest(
    paths: Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest paper lists (default: the seeds); a bad file refuses the whole call and leaves the store as it was."""
    engine = get_engine(settings or Settings())
    return engine.ingest([Path(p) for p in paths] if paths else None, progress=progress)


def stats(settings: Settings | None = None) -> dict[str, int]:
    """How many papers and chunks the store holds."""
    from .store import Store

    store = Store(settings or Settings())
    return {"papers": store.paper_count(), "chunks": store.count()}
