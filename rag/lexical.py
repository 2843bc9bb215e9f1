"""The BM25 side of retrieval: llama-index's BM25Retriever over every stored chunk, cached on disk.

The cache is stamped with the store's write generation and chunk count; a missing, stale or
unreadable cache is rebuilt from the store, so BM25 and the vectors always describe the same chunks.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from llama_index.retrievers.bm25 import BM25Retriever

from .settings import Settings
from .store import Store, collection_name

STAMP_FILE = "papertrail_stamp.json"


def cache_dir(settings: Settings) -> Path:
    return settings.home / "bm25" / collection_name(settings)


def load_bm25(store: Store, settings: Settings) -> BM25Retriever | None:
    """The BM25 retriever for the store as it is now, or None when the store is empty."""
    stamp = {"generation": store.generation(), "count": store.count()}
    if stamp["count"] == 0:
        return None
    folder = cache_dir(settings)
    cached = _read_cache(folder, stamp)
    if cached is not None:
        return cached
    retriever = BM25Retriever.from_defaults(nodes=list(store.iter_nodes()), similarity_top_k=settings.candidates)
    # Loaded from disk, bm25s holds the corpus; built here, only the retriever does. Filtered retrievers
    # made from the bm25s object (date filters) need it, so both paths give the same object.
    retriever.bm25.corpus = retriever.corpus
    _write_cache(retriever, folder, stamp)
    return retriever


def _read_cache(folder: Path, stamp: dict[str, int]) -> BM25Retriever | None:
    try:
        if json.loads((folder / STAMP_FILE).read_text()) != stamp:
            return None
        return BM25Retriever.from_persist_dir(str(folder))
    except Exception:  # missing or corrupt cache files: rebuild from the store
        return None


def _write_cache(retriever: BM25Retriever, folder: Path, stamp: dict[str, int]) -> None:
    """Write beside the old cache and swap it in, so a reader never sees half a cache."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=folder.parent))
    retriever.persist(str(staging))
    (staging / STAMP_FILE).write_text(json.dumps(stamp))
    retired = folder.with_name(folder.name + ".old")
    shutil.rmtree(retired, ignore_errors=True)
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)
