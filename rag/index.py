"""The search index of one store (catalog and BM25), kept in step with the store's writes at a cost that grows with them.

An `Index` is the saved segments a manifest lists (rag/segments.py) plus segments caught up in memory from the papers
the store changed since (`Store.changed_since`). `current` gives a process the index for the store's generation: it
opens only the segments it has not opened yet, then reads from the store only what changed after the newest
manifest. `save`, run by a process that wrote, appends those changes as one segment, and merges the appended
segments when they outgrow a tenth of the first (or become many). An index that is missing, damaged or too far
behind the store's deletion log is rebuilt from the store whole, in batches, so memory stays far below its size.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .bm25 import Bm25Index, Postings, Vocabulary
from .chunk import embed_text
from .errors import StoreError
from .ledger import collection_name
from .papers import Catalog, Part, whole_papers
from .read_only import index_folder
from .retrieve import Recent
from .segments import (
    Damaged,
    Manifest,
    Segment,
    collect,
    finish_segment,
    locked,
    new_segment,
    open_segment,
    read_manifest,
    read_terms,
    save_segment,
    write_manifest,
)
from .settings import Settings
from .store import READ_BATCH, Row, Store, no_space_error
from .types import Paper

MERGE_SHARE = 0.1
"""Appended segments are merged into the first once they hold this share of its rows..."""
MERGE_FLOOR = 20_000
"""... and at least this many rows (a small library is cheap to search in a few segments)."""
MAX_APPENDED = 12
"""Past this many appended segments, they are merged into one."""
RECENT_LIMIT = 10_000
"""Chunks written since this process loaded Chroma's vector index that it searches by brute force (about 1 ms a
question); past that it reloads the index (seconds at 100,000 papers), about once every 2,500 papers added."""
BUILD_BATCH = 20_000
"""Rows of a full rebuild tokenized and written at a time (memory stays in proportion to it)."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Index:
    """The catalog and BM25 index over saved segments, then segments caught up in memory, as of a store generation."""

    generation: int
    saved: tuple[Segment, ...]
    fresh: tuple[Segment, ...]
    vocabulary: Vocabulary
    catalog: Catalog
    bm25: Bm25Index

    @classmethod
    def of(cls, generation: int, saved: list[Segment], fresh: list[Segment], previous: Index | None = None) -> Index:
        """The index over these segments; when they begin with `previous`'s, only the rest are added to its catalog."""
        segments = [*saved, *fresh]
        known = [*previous.saved, *previous.fresh] if previous is not None else []
        if known and len(known) <= len(segments) and all(a is b for a, b in zip(known, segments)):
            vocabulary, catalog = previous.vocabulary, previous.catalog.extended([s.part for s in segments[len(known) :]])
            added = segments[len(known) :]
        else:
            vocabulary, catalog, added = Vocabulary([]), Catalog([s.part for s in segments]), segments
        for segment in added:
            if segment.first_term != len(vocabulary):
                raise Damaged(f"segment {segment.name} starts at term {segment.first_term}, not {len(vocabulary)}")
            vocabulary = vocabulary.appended(segment.terms)
        bm25 = Bm25Index(vocabulary, [segment.postings for segment in segments], catalog.dead)
        return cls(generation, tuple(saved), tuple(fresh), vocabulary, catalog, bm25)

    def caught_up(self, store: Store, settings: Settings, generation: int) -> Index | None:
        """This index with the papers the store changed since its generation, read from the store into one segment in
        memory; None when the store cannot say what changed (rebuild instead)."""
        changed = store.changed_since(self.generation)
        if changed is None:
            return None
        if not changed:
            return replace(self, generation=generation)
        segment = _changes(store, settings, sorted(changed), self.vocabulary, self.generation, generation, vectors=False)
        return Index.of(generation, list(self.saved), [*self.fresh, segment], self)

    def recent(self, loaded: int) -> Recent | None:
        """The live chunks of the segments that changed after generation `loaded` (what this process's copy of the
        vector index lacks), with their vectors; None when a segment of them has none, or they are more than a search
        by brute force should take on (reload the vector index)."""
        segments = [*self.saved, *self.fresh]
        bases = np.cumsum([0, *(segment.part.rows for segment in segments)]).tolist()
        chosen = [(segment, base) for segment, base in zip(segments, bases) if segment.until > loaded]
        if sum(segment.part.rows for segment, _ in chosen) > RECENT_LIMIT:
            return None
        if any(segment.vectors is None and segment.part.rows for segment, _ in chosen):
            return None
        papers = frozenset(paper for segment, _ in chosen for paper in (*segment.part.paper_ids, *segment.part.removed))
        chosen = [(segment, base) for segment, base in chosen if segment.part.rows]
        if not chosen:
            return Recent(np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.float32), papers)
        rows = np.concatenate([np.arange(base, base + segment.part.rows) for segment, base in chosen])
        vectors = np.concatenate([np.asarray(segment.vectors, dtype=np.float32) for segment, _ in chosen])
        live = ~self.catalog.dead[rows]
        return Recent(rows[live], vectors[live], papers)


def folder_of(settings: Settings) -> Path:
    """Where the store's index lives: PAPERTRAIL_HOME/index/<collection>/."""
    return settings.store.home / "index" / collection_name(settings)


def current(store: Store, settings: Settings, generation: int, previous: Index | None) -> Index:
    """The index for the store at `generation`: `previous` when it is there already; else the saved index (reusing
    the segments `previous` opened) caught up with what the store changed since; rebuilt when that cannot be done."""
    if previous is not None and previous.generation == generation:
        return previous
    folder = folder_of(settings)
    for _ in range(3):
        seen: list[str] | None = None
        try:
            manifest = read_manifest(folder)
            if manifest is not None and manifest.segments:
                seen = manifest.names
                if manifest.generation <= store.generation():  # else the store was made anew since: rebuild
                    index = _opened(folder, manifest, previous)
                    index = index.caught_up(store, settings, generation) if index.generation < generation else index
                    if index is not None:
                        return index
        except Damaged as err:
            if seen is not None and _moved(folder, seen):  # a merge replaced what was being opened: open the new one
                continue
            log.warning("the search index is damaged (%s): rebuilding it from the store", err)
        if (private := index_folder(folder)) != folder:  # a read-only home: rebuilt in a folder of this process's
            return rebuild(store, settings, private)
        with _writing(settings), locked(folder):
            if _moved(folder, seen):  # another process rebuilt or appended meanwhile: open that
                continue
            _rebuild(folder, store, settings)
        previous = None
    raise StoreError(f"the search index under {folder} keeps changing while it is read; try again")


def save(store: Store, settings: Settings) -> None:
    """Bring the saved index up to the store's generation (a process that wrote calls this once it has): append one
    segment of the papers changed since the manifest, merge when due; rebuild when missing, damaged or too far behind."""
    folder = folder_of(settings)
    with _writing(settings), locked(folder):
        generation = store.generation()
        try:
            manifest = read_manifest(folder)
            if manifest is not None and manifest.segments and manifest.generation == generation:
                return
            if manifest is not None and manifest.segments and manifest.generation < generation:
                changed = store.changed_since(manifest.generation)
                if changed is not None:
                    _append(folder, manifest, store, settings, sorted(changed), generation)
                    return
        except Damaged as err:
            log.warning("the search index is damaged (%s): rebuilding it from the store", err)
        _rebuild(folder, store, settings)


def verify(settings: Settings) -> list[str]:
    """What is damaged in the saved index (every file checked against its checksum); [] when it is whole or absent."""
    folder = folder_of(settings)
    try:
        manifest = read_manifest(folder)
        for entry in manifest.segments if manifest else []:
            open_segment(folder, entry)
    except Damaged as err:
        return [str(err)]
    return []


def rebuild(store: Store, settings: Settings, folder: Path | None = None) -> Index:
    """Rebuild the saved index from the store whole, in `folder` (by default the store's own: `ingest --check` after
    `verify` found damage), and open it."""
    folder = folder or folder_of(settings)
    with _writing(settings), locked(folder):
        _rebuild(folder, store, settings)
        return _opened(folder, read_manifest(folder), None)


def _opened(folder: Path, manifest: Manifest, previous: Index | None) -> Index:
    """The index of a manifest, reusing `previous` when it is as new, and the segments it opened."""
    if previous is not None and previous.generation >= manifest.generation:
        return previous
    opened = {segment.name: segment for segment in previous.saved} if previous is not None else {}
    segments = [opened.get(entry["name"]) or open_segment(folder, entry) for entry in manifest.segments]
    return Index.of(manifest.generation, segments, [], previous)


def _moved(folder: Path, seen: list[str] | None) -> bool:
    """True when the manifest now lists other segments than `seen` (None: no usable manifest was seen)."""
    try:
        manifest = read_manifest(folder)
    except Damaged:
        return False
    return manifest is not None and bool(manifest.segments) and manifest.names != seen


def _changes(
    store: Store, settings: Settings, paper_ids: list[str], vocabulary: Vocabulary, since: int, until: int, vectors: bool
) -> Segment:
    """A segment (in memory) of these papers as the store holds them now, those not held whole named removed; with
    their vectors when asked and this process can read them (an embedded client reads only vectors it has loaded)."""
    found: list[tuple[Paper, list[Row]]] = []
    for start in range(0, len(paper_ids), READ_BATCH):
        found.extend(whole_papers(store.rows({"paper_id": {"$in": paper_ids[start : start + READ_BATCH]}})))
    found.sort(key=lambda item: item[0].paper_id)
    removed = sorted(set(paper_ids) - {paper.paper_id for paper, _ in found})
    segment = _segment(found, removed, vocabulary, settings.retrieval.title_prefix, since, until)
    if vectors and store.embedded:
        try:
            ids = [row.chunk_id for _, rows in found for row in rows]
            return replace(segment, vectors=store.vectors(ids) if ids else np.zeros((0, 1), dtype=np.float32))
        except StoreError:
            log.info("vectors of the papers changed since generation %d are not readable here: saved without them", since)
    return segment


def _segment(
    papers: list[tuple[Paper, list[Row]]], removed: list[str], vocabulary: Vocabulary, title_prefix: bool, since: int, until: int
) -> Segment:
    part = Part.build([(paper, len(rows)) for paper, rows in papers], removed)
    texts = [embed_text(paper.title, row.text, title_prefix) for paper, rows in papers for row in rows]
    postings, grown = Postings.build(texts, vocabulary)
    return Segment("", part, postings, grown.terms[len(vocabulary) :], len(vocabulary), since, until)


def _append(folder: Path, manifest: Manifest, store: Store, settings: Settings, paper_ids: list[str], generation: int) -> None:
    """Save the changed papers as the manifest's next segment, merge when due, and swap the manifest in."""
    vocabulary = Vocabulary([])
    for entry in manifest.segments:
        vocabulary = vocabulary.appended(read_terms(folder, entry))
    if paper_ids:
        segment = _changes(store, settings, paper_ids, vocabulary, manifest.generation, generation, vectors=True)
        manifest.segments.append(save_segment(folder, manifest, segment))
    manifest.generation = generation
    rows = [int(entry["rows"]) for entry in manifest.segments]
    first = 0 if sum(rows[1:]) > max(MERGE_FLOOR, MERGE_SHARE * rows[0]) else 1 if len(rows) - 1 > MAX_APPENDED else None
    if first is not None:
        _merge(folder, manifest, [open_segment(folder, entry) for entry in manifest.segments[first:]], first)
    write_manifest(folder, manifest)
    collect(folder, manifest)


def _merge(folder: Path, manifest: Manifest, chosen: list[Segment], first: int) -> None:
    """Merge `chosen`, the manifest's segments from `first` on, into one (live papers only), listed in their place."""
    live: list[np.ndarray] = []
    later: set[str] = set()
    for segment in reversed(chosen):
        live.insert(0, np.asarray([paper_id not in later for paper_id in segment.part.paper_ids], dtype=bool))
        later.update(segment.part.paper_ids, segment.part.removed)
    removed = sorted({paper for segment in chosen for paper in segment.part.removed}) if first else []
    path = new_segment(folder, manifest)
    part = Part.merge([segment.part for segment in chosen], live, path, removed)
    terms = [term for segment in chosen for term in segment.terms]
    kept = [keep[np.asarray(segment.part.chunk_paper)] for segment, keep in zip(chosen, live)]
    postings = Postings.merge([segment.postings for segment in chosen], kept, path, chosen[0].first_term + len(terms))
    vectors = None
    if first and all(segment.vectors is not None for segment in chosen):  # merged recent writes keep their vectors
        with_rows = [np.asarray(s.vectors, dtype=np.float32)[keep] for s, keep in zip(chosen, kept) if s.part.rows]
        vectors = np.concatenate(with_rows) if with_rows else np.zeros((0, 1), dtype=np.float32)
    since = chosen[0].since if first else 0
    merged = Segment(path.name, part, postings, terms, chosen[0].first_term, since, chosen[-1].until, vectors)
    manifest.segments = [*manifest.segments[:first], finish_segment(path, merged)]


def _rebuild(folder: Path, store: Store, settings: Settings) -> None:
    """Build the index from every stored chunk: batches of papers written as segments, then merged into one."""
    generation = store.generation()  # read before the rows: what is written meanwhile is caught up later
    try:
        old = read_manifest(folder)
    except Damaged:
        old = None
    manifest = Manifest(generation, [], old.next if old else 0)
    vocabulary = Vocabulary([])
    batches: list[Segment] = []
    papers: list[tuple[Paper, list[Row]]] = []
    rows = 0
    for paper in whole_papers(store.rows()):
        papers.append(paper)
        rows += len(paper[1])
        if rows >= BUILD_BATCH:
            batches.append(_saved_batch(folder, manifest, papers, vocabulary, settings))
            vocabulary, papers, rows = vocabulary.appended(batches[-1].terms), [], 0
    if papers or not batches:
        batches.append(_saved_batch(folder, manifest, papers, vocabulary, settings))
    _merge(folder, manifest, batches, 0)
    write_manifest(folder, manifest)
    collect(folder, manifest)


def _saved_batch(folder: Path, manifest: Manifest, papers: list[tuple[Paper, list[Row]]], vocabulary: Vocabulary, settings: Settings) -> Segment:
    """One batch of a rebuild written to disk and opened memory-mapped, so the batches do not pile up in memory."""
    segment = _segment(papers, [], vocabulary, settings.retrieval.title_prefix, 0, manifest.generation)
    path = new_segment(folder, manifest)
    segment.part.save(path)
    segment.postings.save(path)
    return replace(segment, name=path.name, part=Part.load(path), postings=Postings.load(path))


@contextmanager
def _writing(settings: Settings) -> Iterator[None]:
    """Index files that cannot be written become one StoreError naming the folder (a full disk as such)."""
    try:
        yield
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise no_space_error(settings.store.home) from None
        raise StoreError(f"cannot write the search index under {folder_of(settings).parent}: {err}") from None
