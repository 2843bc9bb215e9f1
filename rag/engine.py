"""The loaded corpus for one settings object: store, BM25 index, catalog and retriever; one per process.

What is costly to load is kept, and the BM25 side is reloaded when the store's write stamp changes
(another process, or this one, ingested).
"""

from __future__ import annotations

import threading
from pathlib import Path

from .bm25 import Bm25Index
from .papers import from_chunks
from .embed import build_embedding
from .errors import StoreError
from .ingestion import Progress, ingest
from .retrieve import HybridRetriever, Retrieval
from .settings import Settings
from .store import Store, collection_name
from .types import IngestReport, Paper

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class Engine:
    """The store, and the retriever over it as it is now (None while the store is empty)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self._lock = threading.RLock()
        self._stamp: dict[str, int] | None = None
        self._retriever: HybridRetriever | None = None

    def retriever(self) -> HybridRetriever | None:
        """The hybrid retriever over the store's current chunks (None while the store is empty)."""
        try:
            stamp = {"generation": self.store.generation(), "count": self.store.count()}
        except StoreError:
            raise
        except Exception as err:
            raise StoreError(f"cannot read the Chroma store at {self.store.where}: {err}") from None
        with self._lock:
            if stamp != self._stamp:
                bm25 = self._bm25(stamp)
                self._retriever = (
                    HybridRetriever(
                        self.settings, self.store, build_embedding(self.settings), bm25, from_chunks(bm25.corpus)
                    )
                    if bm25
                    else None
                )
                self._stamp = stamp
            return self._retriever

    def _bm25(self, stamp: dict[str, int]) -> Bm25Index | None:
        """The cached BM25 index for `stamp`, rebuilt from the store when missing or stale."""
        if stamp["count"] == 0:
            return None
        candidates = self.settings.retrieval.candidates
        folder = self.settings.store.home / "bm25" / collection_name(self.settings)
        cached = Bm25Index.load(folder, stamp, candidates)
        if cached is not None:
            return cached
        index = Bm25Index.build(list(self.store.iter_nodes()), candidates)
        index.save(folder, stamp)
        return index

    def search(self, query: str, top_k: int, dates: list[str] | None) -> Retrieval:
        """Numbered sources for `query` (none while the store is empty)."""
        retriever = self.retriever()
        return retriever.search(query, top_k, dates) if retriever else Retrieval([])

    def papers(self) -> dict[str, Paper]:
        """Every stored paper by id."""
        retriever = self.retriever()
        return retriever.papers if retriever else {}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term over the current chunks (0 while the store is empty)."""
        retriever = self.retriever()
        return retriever.bm25.idf(term) if retriever else 0.0

    def ingest(self, paths: list[Path] | None, progress: Progress | None = None) -> IngestReport:
        """Ingest through this engine's store; the papers are searchable at the next question."""
        with self._lock:
            return ingest(paths, self.settings, self.store, progress)


def get_engine(settings: Settings) -> Engine:
    """The process's engine for these settings, created on first use."""
    key = settings.model_dump_json()
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine(settings)
        return _ENGINES[key]
