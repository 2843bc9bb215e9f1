"""The loaded corpus for one settings object: store, catalog, BM25 index and hybrid search; one per process.

The catalog and BM25 index are saved on disk under PAPERTRAIL_HOME (rag/index.py) and follow the store's write
generation: a process that sees another's write opens only the segments added since, or reads from the store only
the papers changed since. Questions never wait for this process's own ingest: while it writes, they are answered
from the corpus as it was loaded, and each committed write is loaded in the background.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .errors import PapertrailError, StoreError
from .ingestion import Progress, add_papers, check, remove_papers
from .settings import Settings
from .store import Store
from .types import CheckReport, IngestReport, Paper

if TYPE_CHECKING:
    from .index import Index
    from .llama_retriever import HybridRetriever
    from .retrieve import HybridSearch

log = logging.getLogger(__name__)
Written = TypeVar("Written")

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class Engine:
    """The store, and the hybrid search over it as it is now (None while the store is empty)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self._build_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._stamp: int | None = None
        self._index: Index | None = None
        self._search: HybridSearch | None = None
        self._writing = 0
        self._dirty = False
        self._refresher: threading.Thread | None = None

    def retriever(self) -> HybridSearch | None:
        """The hybrid search over the store's current chunks (None while the store is empty); brought up to date when
        the store changed, except while this process writes (its writer loads each commit in the background)."""
        generation = self._read_generation()
        if generation == self._stamp or (self._writing and self._search is not None):
            return self._search
        self._refresh()
        return self._search

    def ready(self) -> None:
        """Save the search index up to the store's latest write and load it: a command that wrote calls this once as
        it ends, so the next question (in this process or a new one) starts from it."""
        self._save()
        self.retriever()

    def llama_retriever(self) -> HybridRetriever | None:
        """The same search as a llama-index `BaseRetriever`, for composing with llama-index query engines."""
        from .llama_retriever import HybridRetriever

        search = self.retriever()
        return HybridRetriever(search) if search else None

    def papers(self) -> dict[str, Paper]:
        """Every stored paper by id."""
        search = self.retriever()
        return {paper.paper_id: paper for paper in search.catalog.papers()} if search else {}

    def paper(self, paper_id: str) -> Paper | None:
        """One stored paper (read from the catalog only now), or None."""
        search = self.retriever()
        return search.catalog.get(paper_id) if search else None

    def add(self, papers: list[Paper], n_files: int, progress: Progress | None = None) -> IngestReport:
        """Store papers through this engine's store; questions keep being answered meanwhile, each committed write
        becomes searchable as soon as it is loaded, and everything is searchable when this returns."""
        return self._write(lambda: add_papers(papers, n_files, self.settings, self.store, progress, self._refresh_soon))

    def remove(self, paper_ids: list[str]) -> list[str]:
        """Remove papers (every chunk) from the store and the search; the ids of those it held."""
        return self._write(lambda: remove_papers(paper_ids, self.settings, self.store))

    def check(self, progress: Progress | None = None) -> CheckReport:
        """Find and re-embed chunks whose vectors are missing, and rebuild a damaged search index (`papertrail ingest
        --check`)."""
        from .index import rebuild, verify

        report = self._write(lambda: check(self.settings, self.store, progress, self._refresh_soon))
        damaged = verify(self.settings)
        if damaged:
            rebuild(self.store, self.settings)
            with self._build_lock:
                self._stamp = self._index = self._search = None
        return CheckReport(**report.model_dump(), index_repaired=damaged)

    def _write(self, work: Callable[[], Written]) -> Written:
        with self._state_lock:
            self._writing += 1
        try:
            result = work()
        finally:
            with self._state_lock:
                self._writing -= 1
                refresher = self._refresher
            if refresher is not None:  # no load outlives the write: one cut off by the process's exit crashes it
                refresher.join()
        self._save()
        if self._stamp is not None:  # a corpus is loaded: make what was written searchable before returning
            self._refresh()
        return result

    def _save(self) -> None:
        from .index import save

        save(self.store, self.settings)

    def _read_generation(self) -> int:
        try:
            return self.store.generation()
        except StoreError:
            raise
        except Exception as err:
            raise StoreError(f"cannot read the Chroma store at {self.store.where}: {err}") from None

    def _refresh(self) -> None:
        """Bring the search up to the store's current generation, unless it is there already. Imported here: ingest
        and stats do not need bm25s."""
        from .index import current
        from .retrieve import HybridSearch

        with self._build_lock:
            generation = self._read_generation()
            if generation != self._stamp:
                index = current(self.store, self.settings, generation, self._index)
                recent = index.recent(self.store.loaded)
                if recent is None:  # writes whose vectors this process cannot search: reload Chroma's vector index
                    self.store.reopen()
                    recent = index.recent(self.store.loaded)
                catalog = index.catalog
                self._search = HybridSearch(self.settings, self.store, index.bm25, catalog, recent) if len(catalog) else None
                self._index, self._stamp = index, generation

    def _refresh_soon(self) -> None:
        """After a commit of this process's writer: load it in the background, one load at a time, when this
        process has a search loaded (it answers questions meanwhile); otherwise the first question loads the store."""
        with self._state_lock:
            if self._stamp is None:
                return
            self._dirty = True
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh_loop, name="papertrail-refresh")
            self._refresher.start()

    def _refresh_loop(self) -> None:
        while True:
            with self._state_lock:
                if not self._dirty:
                    return
                self._dirty = False
            try:
                self._refresh()
            except PapertrailError as err:
                log.warning("could not load the store's latest writes: %s", err)


def drop_engine(settings: Settings) -> None:
    """Close and forget this process's engine for these settings, if any: its store's files are about to be
    replaced (`ingest --check` repairing damage); the next `get_engine` opens them afresh."""
    with _ENGINES_LOCK:
        engine = _ENGINES.pop(settings.model_dump_json(), None)
    if engine is not None:
        engine.store.close()


def get_engine(settings: Settings) -> Engine:
    """The process's engine for these settings, created on first use."""
    key = settings.model_dump_json()
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine(settings)
        return _ENGINES[key]
