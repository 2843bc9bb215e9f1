"""What the last write to an embedded store stored, so re-ingesting the same files is recognised without opening it.

Every writer clears the record when it takes the writer lock, and an ingest writes it once all its papers are
stored: while the record exists, ingesting the same papers again would change nothing. Opening Chroma costs a
new process half a second (its import); reading this record costs a few milliseconds. A Chroma server may be
written by other machines, so the record is kept for embedded stores only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from .embed import model_name
from .settings import Settings
from .types import Paper

CHUNKER_VERSION = "2"
"""Changes when chunking changes, so every paper is chunked and embedded again."""
ROW_FORMAT = "2"
"""The layout of a stored chunk row; part of the collection's name, so rows of two layouts never mix."""
LEDGER_FILE = "last-ingest.json"


def content_hash(paper: Paper, settings: Settings) -> str:
    """Changes whenever the stored chunks or vectors of the paper would change."""
    retrieval = settings.retrieval
    parts = [
        paper.title,
        paper.abstract,
        model_name(retrieval),
        str(retrieval.chunk_tokens),
        str(retrieval.title_prefix),
        CHUNKER_VERSION,
    ]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def collection_name(settings: Settings) -> str:
    """Collection per embedding model and row format, so vectors of two models or rows of two layouts never mix."""
    name = f"{settings.store.collection}-{model_name(settings.retrieval)}-v{ROW_FORMAT}"
    return re.sub(r"[^a-zA-Z0-9._-]", "-", name)


def fingerprint(papers: list[Paper], settings: Settings) -> str:
    """One hash of the papers as an ingest would store them (text version, dates, files, links) and of the collection."""
    digest = hashlib.sha1(collection_name(settings).encode("utf-8"))
    for paper in sorted(papers, key=lambda paper: paper.paper_id):
        labels = json.dumps(paper.labels(), sort_keys=True, ensure_ascii=False)
        digest.update(f"\x1e{paper.paper_id}\x1f{content_hash(paper, settings)}\x1f{labels}".encode("utf-8"))
    return digest.hexdigest()


def holds(papers: list[Paper], settings: Settings) -> bool:
    """True when the last write to this embedded store was an ingest of exactly these papers, now complete."""
    path = _path(settings)
    if settings.store.chroma_url or not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("fingerprint") == fingerprint(papers, settings)
    except (OSError, ValueError):
        return False


def record(papers: list[Paper], settings: Settings) -> None:
    """Note that the store now holds these papers as given (written beside and swapped in, never half-written)."""
    if settings.store.chroma_url:
        return
    path = _path(settings)
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps({"fingerprint": fingerprint(papers, settings)}), encoding="utf-8")
    os.replace(staging, path)


def clear(settings: Settings) -> None:
    """Forget the last ingest: a write is starting, after which its papers may no longer be stored as they were."""
    _path(settings).unlink(missing_ok=True)


def _path(settings: Settings) -> Path:
    return settings.store.home / LEDGER_FILE
