"""The loaded parts for one settings object: store, embedding model, retrievers, extractor; one per process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .embeddings import build_embedding
from .errors import StoreError
from .extractive import Extractor
from .ingestion import IngestReport, ingest
from .lexical import load_bm25
from .retrieval import HybridRetriever
from .settings import Settings
from .store import Store

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class Engine:
    """Holds what is costly to load and reloads the retrieval side when the store has changed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] | None = None
        self._retriever: HybridRetriever | None = None
        self._extractor: Extractor | None = None

    def retriever(self) -> HybridRetriever | None:
        """The hybrid retriever for the store as it is now (None while the store is empty)."""
        try:
            stamp = (self.store.generation(), self.store.count())
        except Exception as err:
            raise StoreError(f"cannot read the Chroma store at {self.store.where}: {err}") from None
        with self._lock:
            if stamp != self._stamp:
                bm25 = load_bm25(self.store, self.settings)
                self._retriever = (
                    HybridRetriever(self.settings, self.store, build_embedding(self.settings), bm25) if bm25 else None
                )
                self._extractor = _extractor(bm25, self.settings) if bm25 else None
                self._stamp = stamp
            return self._retriever

    def extractor(self) -> Extractor:
        """Sentence scorer weighted by the document frequencies of the current corpus."""
        self.retriever()
        assert self._extractor is not None, "extractor requested for an empty store"
        return self._extractor

    def ingest(self, paths: list | None = None, progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Ingest through this engine's store; the papers are searchable at the next question."""
        with self._lock:
            return ingest(paths, self.settings, store=self.store, progress=progress)


def _extractor(bm25, settings: Settings) -> Extractor:
    """Document frequency per stemmed term, read off the BM25 index's sparse matrix."""
    indptr = bm25.bm25.scores["indptr"]
    frequency = {term: int(indptr[i + 1] - indptr[i]) for term, i in bm25.bm25.vocab_dict.items() if i + 1 < len(indptr)}
    return Extractor(frequency, int(bm25.bm25.scores["num_docs"]), settings.answer_words)


def get_engine(settings: Settings) -> Engine:
    """The process's engine for these settings, created on first use."""
    key = settings.model_dump_json()
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine(settings)
        return _ENGINES[key]
