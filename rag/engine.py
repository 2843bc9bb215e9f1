"""The loaded corpus for one settings object: store, catalog, BM25 index and hybrid search; one per process.

The catalog and BM25 index are cached on disk under PAPERTRAIL_HOME, stamped with the store's write
generation, and reloaded when it changes (another process, or this one, wrote).
Questions never wait for this process's own ingest: while it writes, they are answered from the corpus
as it was loaded, and each committed write is loaded in the background.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PapertrailError, StoreError
from .ingestion import Progress, add_papers, check
from .read_only import writable
from .settings import Settings
from .store import Store, collection_name, no_space_error
from .types import IngestReport, Paper

if TYPE_CHECKING:
    from .bm25 import Bm25Index
    from .papers import Catalog
    from .retrieve import HybridSearch
    from .llama_retriever import HybridRetriever

STAMP_FILE = "stamp.json"
log = logging.getLogger(__name__)

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class Engine:
    """The store, and the hybrid search over it as it is now (None while the store is empty)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self._build_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._stamp: dict[str, int] | None = None
        self._search: HybridSearch | None = None
        self._writing = 0
        self._dirty = False
        self._refresher: threading.Thread | None = None

    def retriever(self) -> HybridSearch | None:
        """The hybrid search over the store's current chunks (None while the store is empty); reloaded when the
        store changed, except while this process writes (its writer reloads after each commit)."""
        stamp = self._read_stamp()
        if stamp == self._stamp or (self._writing and self._search is not None):
            return self._search
        self._refresh()
        return self._search

    def ready(self) -> None:
        """Load the search over the store as it is now, building and caching it when stale: a command that wrote
        calls this once as it ends, so the next question (in this process or a new one) starts fast."""
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

    def check(self, progress: Progress | None = None) -> IngestReport:
        """Find and re-embed chunks whose vectors are missing (`papertrail ingest --check`)."""
        return self._write(lambda: check(self.settings, self.store, progress, self._refresh_soon))

    def _write(self, work: object) -> IngestReport:
        with self._state_lock:
            self._writing += 1
        try:
            report = work()
        finally:
            with self._state_lock:
                self._writing -= 1
                refresher = self._refresher
            if refresher is not None:  # no load outlives the write: one cut off by the process's exit crashes it
                refresher.join()
        if self._stamp is not None:  # a corpus is loaded: make what was written searchable before returning
            self._refresh()
        return report

    def _read_stamp(self) -> dict[str, int]:
        try:
            return self.store.stamp()
        except StoreError:
            raise
        except Exception as err:
            raise StoreError(f"cannot read the Chroma store at {self.store.where}: {err}") from None

    def _refresh(self) -> None:
        """Load the corpus for the store's current stamp, unless it is loaded already."""
        with self._build_lock:
            stamp = self._read_stamp()
            if stamp != self._stamp:
                self.store.catch_up(stamp["generation"])
                self._search = self._load(stamp)
                self._stamp = stamp

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

    def _load(self, stamp: dict[str, int]) -> HybridSearch | None:
        """The search over the cached catalog and BM25 index for `stamp`, rebuilt from the store when missing,
        stale or unreadable. Imported here: ingest and stats do not need bm25s."""
        from .bm25 import Bm25Index
        from .papers import Catalog
        from .retrieve import HybridSearch

        if self.store.count() == 0:
            return None
        folder = self.settings.store.home / "index" / collection_name(self.settings)
        loaded = _load_cached(folder, stamp)
        if loaded is None:
            catalog, texts = Catalog.build(self.store.rows(), self.settings.retrieval.title_prefix)
            bm25 = Bm25Index.build(texts)
            _save(folder, stamp, catalog, bm25, self.settings.store.home)
            loaded = catalog, bm25
        return HybridSearch(self.settings, self.store, loaded[1], loaded[0])


def _load_cached(folder: Path, stamp: dict[str, int]) -> tuple[Catalog, Bm25Index] | None:
    """The cached catalog and index if written for `stamp`; None when missing, stale or corrupt."""
    from .bm25 import Bm25Index
    from .papers import Catalog

    try:
        if json.loads((folder / STAMP_FILE).read_text()) != stamp:
            return None
        catalog = Catalog.load(folder)
        return catalog, Bm25Index.load(folder, len(catalog.chunk_paper))
    except Exception:  # missing or corrupt cache files: the caller rebuilds from the store
        return None


def _save(folder: Path, stamp: dict[str, int], catalog: Catalog, bm25: Bm25Index, home: Path) -> None:
    """Write beside the old cache and swap it in, so a reader never sees half a cache (on a read-only home, the
    index stays in memory only)."""
    if not writable(folder.parent):
        return
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".index-", dir=folder.parent))
        try:
            catalog.save(staging)
            bm25.save(staging)
            (staging / STAMP_FILE).write_text(json.dumps(stamp))
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise no_space_error(home) from None
        raise StoreError(f"cannot write the search index under {folder.parent}: {err}") from None
    retired = folder.with_name(folder.name + ".old")
    shutil.rmtree(retired, ignore_errors=True)
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)


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
