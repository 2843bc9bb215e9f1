"""Ingest: parse every file first, then write only what the store lacks, one writer at a time; safe to kill.

Every writer (CLI ingest, web uploads, sync) comes through `add_papers`, which holds the writer lock of
PAPERTRAIL_HOME for the whole write. A paper's chunks always go to the store in one write, so a kill
leaves each paper in its old version or its new one. Known papers keep every listing date and source
file they had: a new abstract replaces the text, never the dates.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .chunk import Chunk, chunk_id, chunk_paper, embed_text
from .embed import build_embedder
from .errors import StoreError
from .ledger import clear, content_hash, record
from .parse import combine
from .read_only import refuse_writing
from .settings import Settings
from .store import Row, Store, StoredPaper
from .types import IngestReport, Paper

LOCK_FILE = "writer.lock"
LOCK_POLL_S = 0.1
REINSERT_ROUNDS = 5
"""Re-insertions `check` tries before it reports chunks vector search still cannot reach."""

Progress = Callable[[int, int], None]
"""Called with (papers done so far, papers to write): once the model is ready, after each batch the model embeds
(papers counted in proportion to their chunks), and after each write to the store."""
Commit = Callable[[], None]
"""Called after each write to the store, so a process can make what was written searchable."""

_Whole = TypeVar("_Whole")
_Part = TypeVar("_Part")

_PROCESS_WRITERS: dict[Path, threading.Lock] = {}
_PROCESS_WRITERS_LOCK = threading.Lock()


@dataclass
class _Plan:
    """What one ingest must write: papers to embed (new or with a new abstract), papers to relabel, ids to drop."""

    added: list[Paper]
    updated: list[Paper]
    relabel: list[Paper]
    leftovers: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.relabel or self.leftovers)


@contextmanager
def writer_lock(settings: Settings, store: Store | None) -> Iterator[None]:
    """Hold the writer lock of PAPERTRAIL_HOME: threads of this process queue; another process is waited for
    `write_wait` seconds, then refused with a message naming it. Readers never take it. The lock is the
    kernel's (flock), so a killed writer never leaves it behind; its record in the lock file stays, and the
    next writer then bumps the store's generation (the killed one may have written without bumping it). Every
    writer first sets the store's vector search breadth (`Store.widen_search`) and adds back the chunks of a
    re-insertion (`check`) that a kill or an error cut short. Without a store (a repair of its files, before it
    can be opened), only the lock is taken."""
    home = settings.store.home.resolve()
    refuse_writing(home, "storing papers")
    with _PROCESS_WRITERS_LOCK:
        in_process = _PROCESS_WRITERS.setdefault(home, threading.Lock())
    with in_process:
        home.mkdir(parents=True, exist_ok=True)
        with (home / LOCK_FILE).open("a+") as handle:
            deadline = time.monotonic() + settings.store.write_wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(_held_by(handle, home)) from None
                    time.sleep(LOCK_POLL_S)
            clear(settings)
            if store is not None:
                store.widen_search()
                restored = store.restore()
                handle.seek(0)
                if handle.read() or restored:
                    store.bump_generation()
            handle.seek(0)
            handle.truncate()
            holder = {"pid": os.getpid(), "command": " ".join(sys.argv), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
            handle.write(json.dumps(holder))
            handle.flush()
            try:
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle, fcntl.LOCK_UN)


def _held_by(handle: Any, home: Path) -> str:
    handle.seek(0)
    try:
        holder = json.loads(handle.read())
        who = f"process {holder['pid']} (`{holder['command']}`, since {holder['since']})"
    except (ValueError, KeyError):
        who = "another process"
    return f"{who} is writing to the store in {home}; run this again when it has finished"


def add_papers(
    papers: list[Paper],
    n_files: int,
    settings: Settings,
    store: Store,
    progress: Progress | None = None,
    on_commit: Commit | None = None,
) -> IngestReport:
    """Store the papers (one record per paper id) that the store lacks or holds in another version, under the
    writer lock. Unchanged papers are skipped by content hash before the model is loaded; the ledger then notes
    that ingesting these papers again would change nothing. Chroma then saves its vector index, so every process
    that opens the store searches the same graph (`Store.persist_vectors`)."""
    with writer_lock(settings, store):
        stored = store.stored_papers([paper.paper_id for paper in papers])
        plan = _plan(papers, stored, settings)
        chunks_added = 0
        if not plan.empty:
            writer = _Writer(settings, store, len(plan.added) + len(plan.updated) + len(plan.relabel), progress, on_commit)
            chunks_added = writer.embed(plan.added + plan.updated, stored)
            writer.relabel(plan.relabel)
            writer.drop(plan.leftovers)
            store.persist_vectors()
        record(papers, settings)
    return IngestReport(
        files=n_files,
        papers=len(papers),
        added=len(plan.added),
        updated=len(plan.updated),
        relabelled=len(plan.relabel),
        unchanged=len(papers) - len(plan.added) - len(plan.updated) - len(plan.relabel),
        chunks_added=chunks_added,
    )


def remove_papers(paper_ids: list[str], settings: Settings, store: Store) -> list[str]:
    """Delete every chunk of these papers under the writer lock; the ids of those the store held."""
    with writer_lock(settings, store):
        removed = store.remove(paper_ids)
        if removed:
            store.persist_vectors()
            store.bump_generation()
    return removed


def check(settings: Settings, store: Store, progress: Progress | None = None, on_commit: Commit | None = None) -> IngestReport:
    """Find chunks whose vector cannot be read and embed them again from their stored text (only those: Chroma
    would update a chunk that has its vector in place, and its saved index may not keep all of such an update);
    drop leftovers of cut-short replacements; then re-insert every chunk that vector search cannot reach, until
    each one is found in the index as saved. `papertrail ingest --check`."""
    with writer_lock(settings, store):
        missing = set(store.missing_vectors())
        broken = sorted({chunk.rpartition(":")[0] for chunk in missing})
        rows = [
            row
            for start in range(0, len(broken), 1000)
            for batch in store.rows({"paper_id": {"$in": broken[start : start + 1000]}})
            for row in batch
            if row.chunk_id in missing
        ]
        writer = _Writer(settings, store, len(broken), progress, on_commit)
        writer.reembed(rows)
        leftovers = [chunk for known in store.stored_papers(store.paper_ids()).values() for chunk in known.leftovers]
        writer.drop(leftovers)
        _reinsert_unreachable(store)
    return IngestReport(
        files=0,
        papers=store.paper_count(),
        added=0,
        updated=0,
        relabelled=0,
        unchanged=store.paper_count() - len(broken),
        chunks_added=0,
        repaired=len(missing),
    )


def _reinsert_unreachable(store: Store) -> None:
    """Re-insert the chunks vector search cannot reach (a new HNSW insertion may again strand one, rarely) until
    none is left, each time checked on the index as Chroma saved it, which is what every later process loads."""
    for attempt in range(REINSERT_ROUNDS + 1):
        store.persist_vectors()
        lost = store.unreachable()
        if not lost:
            return
        if attempt == REINSERT_ROUNDS:
            raise StoreError(
                f"{len(lost)} chunks stay unreachable by vector search after {REINSERT_ROUNDS} re-insertions "
                f"(e.g. {', '.join(lost[:3])}); their text is kept: run `papertrail ingest --check` again"
            )
        store.reinsert(lost)
        store.bump_generation()


def _plan(papers: list[Paper], stored: dict[str, StoredPaper], settings: Settings) -> _Plan:
    """New papers, known papers with a new abstract, known papers that only gained dates, files or bibliographic
    fields; each known paper keeps what the store knew of it (`parse.combine`)."""
    plan = _Plan([], [], [], [])
    for paper in papers:
        known = stored.get(paper.paper_id)
        if known is None:
            plan.added.append(paper)
            continue
        plan.leftovers.extend(known.leftovers)
        before = Paper.model_validate({**paper.model_dump(include={"paper_id", "title", "abstract"}), **known.fields})
        merged = combine(before, paper)
        if not known.complete:
            plan.added.append(merged)
        elif known.content_hash != content_hash(paper, settings):
            plan.updated.append(merged)
        elif merged.labels() != before.labels() or not known.consistent:
            plan.relabel.append(merged)
    return plan


class _Writer:
    """Writes whole papers in groups of about `write_batch` chunks, one store write per group, reporting each."""

    def __init__(self, settings: Settings, store: Store, total: int, progress: Progress | None, on_commit: Commit | None) -> None:
        self.settings = settings
        self.store = store
        self.total = total
        self.done = 0
        self._progress = progress
        self._on_commit = on_commit

    def embed(self, papers: list[Paper], stored: dict[str, StoredPaper]) -> int:
        """Chunk, embed (texts sorted by length inside the model's batches) and write papers group by group; a
        shorter new version's extra old chunks are dropped after its write."""
        if not papers:
            return 0
        embedder = build_embedder(self.settings)
        self._report(self.done)
        retrieval = self.settings.retrieval
        written = 0
        for group in self._groups([(paper, chunk_paper(paper, retrieval.chunk_tokens, retrieval.title_prefix)) for paper in papers]):
            rows = [row for paper, chunks in group for row in paper_rows(paper, chunks, content_hash(paper, self.settings))]
            texts = [embed_text(row.metadata["title"], row.text, retrieval.title_prefix) for row in rows]
            self.store.write(rows, embedder.texts(texts, self._embedding(len(group), len(texts))))
            extra = [
                chunk_id(paper.paper_id, index)
                for paper, chunks in group
                if paper.paper_id in stored
                for index in range(len(chunks), stored[paper.paper_id].n_chunks)
            ]
            self.store.delete(extra)
            written += len(rows)
            self._committed(len(group))
        return written

    def reembed(self, rows: list[Row]) -> None:
        """Embed stored chunks again from their own text and write them back as stored, with their new vector;
        a paper's chunks go in one write."""
        if not rows:
            return
        embedder = build_embedder(self.settings)
        self._report(self.done)
        by_paper: dict[str, list[Row]] = {}
        for row in rows:
            by_paper.setdefault(row.metadata["paper_id"], []).append(row)
        for group in self._groups(list(by_paper.items())):
            written = [row for _, stored in group for row in stored]
            texts = [embed_text(row.metadata["title"], row.text, self.settings.retrieval.title_prefix) for row in written]
            self.store.write(written, embedder.texts(texts, self._embedding(len(group), len(texts))))
            self._committed(len(group))

    def relabel(self, papers: list[Paper]) -> None:
        """Rewrite the metadata of papers that gained dates or files, each paper's chunks in one update."""
        retrieval = self.settings.retrieval
        chunked = [(paper, chunk_paper(paper, retrieval.chunk_tokens, retrieval.title_prefix)) for paper in papers]
        for group in self._groups(chunked):
            rows = [row for paper, chunks in group for row in paper_rows(paper, chunks, content_hash(paper, self.settings))]
            self.store.relabel([row.chunk_id for row in rows], [row.metadata for row in rows])
            self._committed(len(group))

    def drop(self, ids: list[str]) -> None:
        """Delete chunks left over from replacements cut short."""
        if ids:
            self.store.delete(ids)
            self.store.bump_generation()

    def _groups(self, chunked: list[tuple[_Whole, list[_Part]]]) -> Iterator[list[tuple[_Whole, list[_Part]]]]:
        """Whole papers (with their chunks or rows) in groups of about `write_batch` chunks, one write each."""
        limit = min(self.settings.store.write_batch, self.store.max_batch)
        group: list[tuple[_Whole, list[_Part]]] = []
        size = 0
        for paper, chunks in chunked:
            if group and size + len(chunks) > limit:
                yield group
                group, size = [], 0
            group.append((paper, chunks))
            size += len(chunks)
        if group:
            yield group

    def _embedding(self, papers: int, texts: int) -> Callable[[int], None]:
        """Reports a group's embedding as it goes: its papers counted in proportion to its texts embedded."""
        return lambda embedded: self._report(self.done + papers * embedded // texts)

    def _committed(self, papers: int) -> None:
        self.store.bump_generation()
        self.done += papers
        self._report(self.done)
        if self._on_commit:
            self._on_commit()

    def _report(self, done: int) -> None:
        if self._progress:
            self._progress(done, self.total)


def paper_rows(paper: Paper, chunks: list[Chunk], version: str) -> list[Row]:
    """The stored rows of a paper's chunks: each carries the paper's fields (not the abstract) and its place."""
    labels = {"paper_id": paper.paper_id, "title": paper.title, **paper.labels()}
    return [
        Row(
            chunk.chunk_id,
            chunk.text,
            {**labels, "chunk_index": chunk.index, "n_chunks": len(chunks), "start": chunk.start, "content_hash": version},
        )
        for chunk in chunks
    ]
