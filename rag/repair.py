"""Damaged store files: what every command says about them, and what `papertrail ingest --check` rebuilds.

An embedded store is a SQLite database (chroma.sqlite3: every chunk's text and fields) and a vector index (HNSW
files in a folder per segment). Chroma reports damage to either in its own internal words; `damage` reads those
words (rag/damage.py), so a command says what is damaged and that `ingest --check` repairs it. The repair, before the usual
check of every vector:
- a damaged vector index is moved aside (Chroma starts a fresh one, filled from its log), so the vectors it lost are
  embedded again from the stored text by the check;
- a damaged database is moved aside with everything in it, and the store is rebuilt from the ledger of ingested
  sources (rag/sources.py: a copy of every file ingested); what the ledger cannot give back (papers of listing days
  a sync stored, papers added by arXiv id, and any file ingested before the ledger was kept) is said plainly, and
  the sync state forgets those days so `papertrail sync --since` fetches them again.
Nothing is deleted: the damaged files stay beside the store, named `chroma.damaged-<time>`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import sources, sync_state
from .chunk import chunk_id
from .damage import DATABASE, damage, database_problem
from .errors import StoreError
from .ingestion import Progress, writer_lock
from .parse import load_papers
from .settings import Settings
from .store import Store
from .types import IngestReport

_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""The name of a vector segment's folder inside the store folder."""


@dataclass
class Repair:
    """What a repair found and did (one sentence each), and whether the store must be rebuilt from the ledger."""

    notes: list[str] = field(default_factory=list)
    rebuild: bool = False


def check(settings: Settings, progress: Progress | None = None) -> IngestReport:
    """`papertrail ingest --check`: repair damaged files of an embedded store (a server's files are its own), rebuild
    the store from the ledger when its database was lost, then check every vector (`Engine.check`)."""
    from .engine import drop_engine, get_engine

    notes: list[str] = []
    if not settings.store.chroma_url and (settings.store.home / "chroma" / DATABASE).is_file():
        drop_engine(settings)  # its files may be moved: reopen them afterwards
        with writer_lock(settings, None):
            repair = repair_files(settings, lambda: _probe(settings))
        notes += repair.notes
        if repair.rebuild:
            notes += rebuild(settings, progress)
    report = get_engine(settings).check(progress)
    return report.model_copy(update={"notes": notes + report.notes})


def repair_files(settings: Settings, probe: Callable[[], None]) -> Repair:
    """Find damage in the files of the embedded store and move the damaged part aside (the caller holds the writer
    lock). `probe()` opens the store, reads it and closes it; a `StoreError` from it naming damage means the
    vector index is damaged (the database passed SQLite's check)."""
    home = settings.store.home
    folder = home / "chroma"
    problem = database_problem(folder / DATABASE)
    if problem:
        kept = _aside(home, [folder])
        shutil.rmtree(home / "index", ignore_errors=True)  # the search index of the lost store
        return Repair([f"Damaged: {problem}. The store was moved aside to {kept} and is rebuilt."], rebuild=True)
    try:
        probe()
    except StoreError as err:
        what = damage(err)
        if what is None:
            raise
        kept = _aside(home, [path for path in folder.iterdir() if path.is_dir() and _SEGMENT.fullmatch(path.name)])
        return Repair([f"Damaged: {what}. Its files were moved aside to {kept}; the vectors are embedded again from the stored text."])
    return Repair()


def rebuild(settings: Settings, progress: Progress | None) -> list[str]:
    """Ingest again, in order, every file the ledger kept a copy of (the seeds when no ledger was kept), forget the
    synced listing days; the notes say what was rebuilt and what was not."""
    from .engine import get_engine

    ledger = sources.read(settings)
    kept = [sources.copy_of(entry, settings) for entry in ledger.files]
    present = [copy for copy in kept if copy.is_file()] or ([] if ledger.files else [settings.store.seeds_dir])
    engine = get_engine(settings)
    for path in present:
        count, papers = load_papers([path])
        engine.add(papers, count, progress)
    papers = engine.store.paper_count()
    if ledger.files:
        notes = [f"Rebuilt {papers} papers from the {len(present)} ingested file(s) the ledger kept a copy of."]
    else:
        notes = [
            f"Rebuilt {papers} papers from the seeds ({settings.store.seeds_dir}): no ledger of ingested files was "
            "kept (the store was written by an older Papertrail); ingest your own files again."
        ]
    if missing := [copy.name for copy in kept if not copy.is_file()]:
        notes.append(f"Cannot rebuild {len(missing)} file(s) whose copy is gone ({', '.join(missing[:5])}): ingest them again.")
    if days := sync_state.forget_days(settings.store.home):
        notes.append(
            f"Cannot rebuild offline the papers of {len(days)} listing day(s) synced from Hugging Face ({days[0]} to "
            f"{days[-1]}): run `papertrail sync --since {days[0]}` to fetch them again."
        )
    if ledger.arxiv:
        notes.append(
            f"Cannot rebuild offline {len(ledger.arxiv)} paper(s) added by arXiv id: run `papertrail add {' '.join(ledger.arxiv)}`."
        )
    return notes


def _probe(settings: Settings) -> None:
    """Open the store and make it read what a damaged index or database cannot give: the count, a stored vector and
    a vector search; then close it."""
    store = Store(settings)
    try:
        if first := store.paper_ids()[:1]:
            vector = store.vectors([chunk_id(first[0], 0)])[0]
            store.query(vector.tolist(), 1)
    finally:
        store.close()


def _aside(home: Path, paths: list[Path]) -> Path:
    """Move `paths` (the store folder, or its damaged index folders) into `chroma.damaged-<UTC time>` beside the
    store, keeping them whole; returns that folder."""
    kept = home / f"chroma.damaged-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    kept.mkdir()
    for path in paths:
        path.rename(kept / path.name)
    return kept
