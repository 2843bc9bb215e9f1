"""Ingest: parse every file first, then add only what the store lacks; safe to kill and re-run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from llama_index.core.schema import MetadataMode, TextNode

from .chunk import chunk_paper
from .embed import build_embedding, model_name
from .parse import combine, expand_paths, merge, parse_file
from .settings import Settings
from .store import Store, StoredPaper
from .types import IngestReport, Paper

CHUNKER_VERSION = "1"
EMBED_BATCH_CHUNKS = 64

Progress = Callable[[int, int], None]
"""Called with (papers embedded so far, papers to embed)."""


def content_hash(paper: Paper, settings: Settings) -> str:
    """Changes whenever the stored chunks or vectors of the paper would change."""
    retrieval = settings.retrieval
    key = "\x1f".join([paper.title, paper.abstract, model_name(retrieval), str(retrieval.chunk_tokens), CHUNKER_VERSION])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def load_papers(paths: Sequence[Path]) -> tuple[int, list[Paper]]:
    """Parse and merge every file, refusing all of them if any one is bad, before the store is touched."""
    files = expand_paths(paths)
    return len(files), merge(paper for path in files for paper in parse_file(path))


def ingest(paths: Sequence[Path] | None, settings: Settings, store: Store, progress: Progress | None = None) -> IngestReport:
    """Add the papers of `paths` (default: the seeds folder) that the store does not hold yet."""
    n_files, papers = load_papers(list(paths) if paths else [settings.store.seeds_dir])
    return add_papers(papers, n_files, settings, store, progress)


def add_papers(
    papers: list[Paper], n_files: int, settings: Settings, store: Store, progress: Progress | None = None
) -> IngestReport:
    """Store the papers (one record per paper id) that the store lacks or holds in another version."""
    stored = store.stored_papers([paper.paper_id for paper in papers])
    to_embed, to_relabel = _plan(papers, stored, settings)
    if not to_embed and not to_relabel:
        return IngestReport(
            files=n_files, papers=len(papers), added=0, relabelled=0, unchanged=len(papers), chunks_added=0
        )
    store.bump_generation()
    stale = [paper.paper_id for paper in to_embed if paper.paper_id in stored]
    store.delete_papers(stale)
    chunks_added = _embed_and_add(to_embed, settings, store, progress)
    store.update_metadata([node for paper in to_relabel for node in _chunks(paper, settings)])
    unchanged = len(papers) - len(to_embed) - len(to_relabel)
    return IngestReport(
        files=n_files,
        papers=len(papers),
        added=len(to_embed),
        relabelled=len(to_relabel),
        unchanged=unchanged,
        chunks_added=chunks_added,
    )


def _plan(papers: list[Paper], stored: dict[str, StoredPaper], settings: Settings) -> tuple[list[Paper], list[Paper]]:
    """Papers to (re-)embed, and stored papers that only gained listing dates, sources or bibliographic fields.

    Either way a stored paper keeps what the store knew of it (its dates, sources, arXiv id, authors)."""
    to_embed: list[Paper] = []
    to_relabel: list[Paper] = []
    for paper in papers:
        known = stored.get(paper.paper_id)
        if known is None:
            to_embed.append(paper)
            continue
        before = paper.model_copy(update=known.labels)
        after = combine(before, paper)
        if not (known.complete and known.consistent) or known.content_hash != content_hash(paper, settings):
            to_embed.append(after)
        elif after != before:
            to_relabel.append(after)
    return to_embed, to_relabel


def _embed_and_add(papers: list[Paper], settings: Settings, store: Store, progress: Progress | None) -> int:
    """Embed in batches of whole papers and write each batch at once, so a kill leaves whole papers or none."""
    if not papers:
        return 0
    embed_model = build_embedding(settings)
    added = 0
    batch: list[TextNode] = []
    for index, paper in enumerate(papers, start=1):
        batch.extend(_chunks(paper, settings))
        if len(batch) >= EMBED_BATCH_CHUNKS or index == len(papers):
            texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in batch]
            for node, vector in zip(batch, embed_model.get_text_embedding_batch(texts)):
                node.embedding = vector
            store.add(batch)
            added += len(batch)
            batch = []
            if progress:
                progress(index, len(papers))
    return added


def _chunks(paper: Paper, settings: Settings) -> list[TextNode]:
    return chunk_paper(paper, content_hash(paper, settings), settings.retrieval.chunk_tokens)
