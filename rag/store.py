"""The Chroma collection of abstract chunks (embedded under PAPERTRAIL_HOME, or a server).

The only module that imports chromadb. Own code rather than llama-index's ChromaVectorStore: its `add`
cannot overwrite a chunk (a paper's new version must replace the old one in one atomic write), its rows
carry each chunk's text twice, and its query turns every candidate into a node where ranking needs only
ids and distances (measured 16.8 ms against 2.2 ms for the raw query).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from .chunk import chunk_id
from .damage import damage, damaged_error
from .embed import model_name
from .errors import StoreError
from .http_limits import BoundedRequests, TooSlow, within
from .ledger import collection_name
from .read_only import store_folder
from .types import PAPER_LABELS

if TYPE_CHECKING:
    from .settings import Settings

GENERATION_KEY = "papertrail_generation"
"""Part of the collection name: a store written in another row format is a different collection."""
READ_BATCH = 5000
VERIFY_BATCH = 1000
SELF_SEARCH = 10
"""A chunk found among the nearest this many to its own vector is reachable; only misses get the exhaustive search."""
TEXT_KEY = "text"
"""The metadata key holding a chunk's text. Own layout: Chroma's embedded store puts every document in a
full-text (trigram) index that Papertrail never queries (BM25 is bm25s's) and that cannot be turned off
there; writing the text as metadata instead took writes from 1,151 to 1,886 chunks/s (30,348 chunks,
same process). Rows written before keep their text as the document, and are read as they are."""
WRITTEN_KEY = "written"
"""Chunk metadata: the store generation the row was written (or relabelled) at, so a process whose search index
reached an earlier generation reads only the papers changed since (`changed_since`)."""
TOUCHED_KEY = "papertrail_touched"
"""Collection metadata: the papers whose chunks were deleted or re-inserted lately (no `written` tag tells a reader of
those), as JSON {"floor": g, "papers": [[generation, id], ...]}; complete for every generation from `floor` on."""
TOUCHED_LOG = 1000
CHANGES_LIMIT = 50_000
"""Changed chunks `changed_since` reads at most; past that, rebuilding the search index is the cheaper way."""
REINSERT_JOURNAL = "reinsert.json"
"""Under PAPERTRAIL_HOME: the rows a re-insertion is moving, until it has written them back."""
FULL_DISK_WORDS = ("no space", "disk is full", "database or disk is full", "compaction", "enospc")
LOW_SPACE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class StoredPaper:
    """What the store already holds of one paper: enough to tell whether ingest must touch it."""

    content_hash: str
    n_chunks: int
    complete: bool
    """Every chunk of the current version (the one of chunk 0) is there."""
    fields: dict[str, Any]
    """Its fields besides id, title and abstract as stored (dates, source files, links, arXiv id, authors)."""
    leftovers: tuple[str, ...] = ()
    """Ids of chunks of an older, longer version whose clean-up was cut short."""
    consistent: bool = True
    """False when its chunks disagree on those fields (a relabel cut short in an older store)."""


@dataclass(frozen=True)
class Row:
    """One stored chunk as written: id, text and metadata (paper id, index, count, version, title, dates, ...)."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]


def _row(chunk: str, document: str | None, metadata: dict[str, Any]) -> Row:
    """A stored chunk as read: its text from the metadata, or from the document in rows written before."""
    text = metadata.pop(TEXT_KEY, None)
    return Row(chunk, document if text is None else text, metadata)


def _with_text(document: str | None, metadata: dict[str, Any]) -> dict[str, Any]:
    """A stored chunk's metadata with its text in it, as rows are written now."""
    return {TEXT_KEY: document, **metadata}


def no_space_error(home: Path) -> StoreError:
    """The one message for a full disk, naming the device's folder and what is left."""
    free = shutil.disk_usage(home if home.exists() else home.parent).free if home.parent.exists() else 0
    return StoreError(
        f"no space left on the device holding PAPERTRAIL_HOME ({home}; {free // 1_000_000} MB free): "
        "free some space and run the ingest again (papers written before are kept)"
    )


def _disk_full(home: Path, err: BaseException) -> bool:
    """True when `err` (Chroma's words, or an OSError) comes from a device out of space under `home`."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return True
    text = str(err).casefold()
    if not any(word in text for word in FULL_DISK_WORDS):
        return False
    probe = home if home.exists() else home.parent
    return not probe.exists() or shutil.disk_usage(probe).free < LOW_SPACE_BYTES


class _Gate:
    """Lets store calls run side by side, and a reopening of the store run alone, after the calls in flight.

    Own code: the standard library has no read-write lock."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._calls = 0
        self._reopening = False

    @contextmanager
    def call(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._reopening)
            self._calls += 1
        try:
            yield
        finally:
            with self._changed:
                self._calls -= 1
                self._changed.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._reopening)
            self._reopening = True
            self._changed.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._changed:
                self._reopening = False
                self._changed.notify_all()


class _Reported:
    """A Chroma collection or client whose failures (server down or hung, store refusing, disk full) become one
    StoreError naming the store. Each call reads the current target through the gate, so a reopened store is used
    from the next call on."""

    def __init__(self, target: Callable[[], Any], gate: _Gate, where: str, home: Path | None) -> None:
        self._target = target
        self._gate = gate
        self._where = where
        self._home = home

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                with self._gate.call():
                    return getattr(self._target(), name)(*args, **kwargs)
            except httpx.TimeoutException:
                raise StoreError(f"the Chroma server at {self._where} did not answer in time") from None
            except TooSlow as err:
                raise _too_slow(self._where, err.seconds) from None
            except httpx.TransportError as err:
                raise StoreError(f"cannot reach the Chroma server at {self._where}: {err}") from None
            except (ChromaError, OSError) as err:
                if self._home is not None and _disk_full(self._home, err):
                    raise no_space_error(self._home) from None
                if self._home is not None and (what := damage(err, self._home / "chroma")):
                    raise damaged_error(self._where, what) from None
                raise StoreError(f"the Chroma store at {self._where} failed: {err}") from None

        return call


def never_written(settings: Settings) -> bool:
    """True for an embedded store nothing was ever written to (no `chroma` folder under PAPERTRAIL_HOME): a read of
    it finds nothing without opening it, since opening creates the folder."""
    return not settings.store.chroma_url and not (settings.store.home / "chroma").is_dir()


def _client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    store = settings.store
    if store.chroma_url:
        url = urlparse(store.chroma_url)
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise StoreError(f"PAPERTRAIL_CHROMA_URL must look like http://host:port, got {store.chroma_url!r}")
        timeout = httpx.Timeout(store.chroma_timeout, connect=store.chroma_connect_timeout)
        _heartbeat(store.chroma_url, timeout)
        try:
            client = within(
                store.chroma_timeout,
                lambda: chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                ),
            )
        except TooSlow:
            raise _too_slow(store.chroma_url, store.chroma_timeout) from None
        except Exception as err:
            raise StoreError(f"cannot reach the Chroma server at {store.chroma_url}: {err}") from None
        # chromadb's HTTP client has no timeout setting (its httpx session waits forever): give it a session whose
        # requests are each bounded as a whole.
        server = client._server
        unbounded = server._session
        server._session = _Session(
            deadline=store.chroma_timeout, timeout=timeout, limits=server.http_limits, headers=unbounded.headers
        )
        unbounded.close()
        return client
    path = store_folder(store.home / "chroma")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise no_space_error(store.home) from None
        raise StoreError(f"cannot open the Chroma store at {path}: {err}") from None
    except Exception as err:
        if what := damage(err, path):
            raise damaged_error(str(path), what) from None
        raise


def _too_slow(where: str, seconds: float) -> StoreError:
    return StoreError(f"the Chroma server at {where} did not answer within {seconds:g} s (PAPERTRAIL_CHROMA_TIMEOUT)")


class _Session(BoundedRequests, httpx.Client):
    """httpx's client with every request bounded as a whole in time (rag/http_limits.py)."""


def _heartbeat(url: str, timeout: httpx.Timeout) -> None:
    """Ask the server for its heartbeat within the timeouts: chromadb's client would wait forever on a hung one."""
    try:
        with _Session(deadline=timeout.read, timeout=timeout) as session:
            session.get(f"{url.rstrip('/')}/api/v2/heartbeat").raise_for_status()
    except httpx.ConnectTimeout:
        raise StoreError(
            f"the Chroma server at {url} did not take the connection within {timeout.connect:g} s "
            "(PAPERTRAIL_CHROMA_CONNECT_TIMEOUT)"
        ) from None
    except (httpx.TimeoutException, TooSlow):
        raise _too_slow(url, timeout.read) from None
    except httpx.HTTPError as err:
        raise StoreError(f"cannot reach the Chroma server at {url}: {err}") from None


class Store:
    """One Chroma collection of chunks: whole-paper atomic writes, id-and-distance queries, bookkeeping reads."""

    def __init__(self, settings: Settings) -> None:
        self.where = settings.store.chroma_url or str(settings.store.home / "chroma")
        self.home = settings.store.home
        self.embedded = not settings.store.chroma_url
        self._settings = settings
        self._name = collection_name(settings)
        self._gate = _Gate()
        home = self.home if self.embedded else None
        self._client = _Reported(lambda: self._raw_client, self._gate, self.where, home)
        self._collection = _Reported(lambda: self._raw_collection, self._gate, self.where, home)
        self._open_reported()
        try:
            self.max_batch = int(self._client.get_max_batch_size())
            self._seen = self.generation()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        """Open the client and the collection; a client whose collection cannot be opened is closed again, so a
        repair can move the files it held."""
        self._raw_client = None
        try:
            self._raw_client = _client(self._settings)
            self._raw_collection = self._raw_client.get_or_create_collection(
                self._name,
                configuration={"hnsw": {"space": "cosine", "ef_search": self._settings.store.search_ef}},
                embedding_function=None,
            )
        except BaseException:
            if self._raw_client is not None:
                self._raw_client.close()
            raise

    def _open_reported(self) -> None:
        """`_open`, its failures one StoreError naming the store."""
        try:
            self._open()
        except StoreError:
            raise
        except TooSlow as err:
            raise _too_slow(self.where, err.seconds) from None
        except Exception as err:
            if self.embedded and _disk_full(self.home, err):
                raise no_space_error(self.home) from None
            if self.embedded and (what := damage(err, self.home / "chroma")):
                raise damaged_error(self.where, what) from None
            raise StoreError(f"cannot open the Chroma store at {self.where}: {err}") from None

    @property
    def loaded(self) -> int:
        """The generation up to which this process's vector searches see every chunk: an embedded client keeps the
        vector index it loaded (plus this process's own writes), a server reads fresh by itself."""
        return self._seen if self.embedded else sys.maxsize

    def reopen(self) -> None:
        """Reopen an embedded store so that its vector index holds every chunk another process wrote since this one
        opened (own code: chromadb has no reload call). Costs a reload of the whole vector index: the search covers
        recent writes by itself (`rag.retrieve.Recent`) and reopens only when it cannot."""
        if not self.embedded:
            return
        generation = self.generation()
        with self._gate.alone():
            self._raw_client.close()
            self._open_reported()
        self._seen = generation

    def close(self) -> None:
        """Release the store's files (an embedded store's database and index), after the calls in flight."""
        with self._gate.alone():
            self._raw_client.close()

    def older_versions(self) -> list[str]:
        """Collections of this store written by an older Papertrail in a row format this one does not read."""
        base = self._name.rsplit("-v", 1)[0]
        names = [getattr(item, "name", item) for item in self._client.list_collections()]
        return [name for name in names if name != self._name and (name == base or name.startswith(base + "-v"))]

    def count(self) -> int:
        """Number of chunks."""
        return self._collection.count()

    def paper_ids(self) -> list[str]:
        """Ids of the stored papers (each has exactly one chunk 0)."""
        return [chunk.rpartition(":")[0] for chunk in self._collection.get(where={"chunk_index": 0}, include=[])["ids"]]

    def paper_count(self) -> int:
        """Number of distinct papers."""
        return len(self.paper_ids())

    def generation(self) -> int:
        """Counter bumped after every write, read fresh: the client caches the collection's metadata when it
        opens it, so a long-running process would never see another process's writes."""
        return int(self._metadata().get(GENERATION_KEY, 0))

    def _metadata(self) -> dict[str, Any]:
        return dict(self._client.get_collection(self._name, embedding_function=None).metadata or {})

    def bump_generation(self) -> None:
        """Mark the store as changed, after a write (the caller holds the writer lock)."""
        metadata = self._metadata()
        generation = int(metadata.get(GENERATION_KEY, 0)) + 1
        self._collection.modify(metadata={**metadata, GENERATION_KEY: generation})
        self._seen = generation

    def stored_papers(self, paper_ids: list[str]) -> dict[str, StoredPaper]:
        """The stored state of those papers that the store holds any chunk of (metadata only)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(paper_ids), READ_BATCH):
            batch = paper_ids[start : start + READ_BATCH]
            for meta in self._collection.get(where={"paper_id": {"$in": batch}}, include=["metadatas"])["metadatas"]:
                rows.setdefault(meta["paper_id"], []).append(meta)
        return {paper_id: _stored(metas) for paper_id, metas in rows.items()}

    def _hnsw(self) -> dict[str, Any]:
        """The collection's HNSW configuration (read from its JSON: `configuration` warns of the missing embedding
        function)."""
        return (self._raw_collection.configuration_json or {}).get("hnsw") or {}

    def widen_search(self) -> None:
        """Give the collection the vector search breadth the settings ask for (PAPERTRAIL_SEARCH_EF), if it has
        another: Chroma keeps it with the collection, so every process that opens the store searches as widely."""
        if self._hnsw().get("ef_search") != self._settings.store.search_ef:
            self._collection.modify(configuration={"hnsw": {"ef_search": self._settings.store.search_ef}})

    def write(self, rows: Sequence[Row], vectors: np.ndarray) -> None:
        """Write whole papers' chunks in one upsert: a kill leaves each paper's old version or its new one."""
        if len(rows) > self.max_batch:
            raise ValueError(f"{len(rows)} chunks exceed Chroma's batch limit {self.max_batch}: write fewer papers at once")
        written = self.generation() + 1
        self._collection.upsert(
            ids=[row.chunk_id for row in rows],
            embeddings=vectors,
            metadatas=[{**_with_text(row.text, row.metadata), WRITTEN_KEY: written} for row in rows],
        )

    def relabel(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Rewrite the metadata of whole papers' chunks in one update (new listing dates or source files)."""
        written = self.generation() + 1
        self._collection.update(ids=ids, metadatas=[{**metadata, WRITTEN_KEY: written} for metadata in metadatas])

    def delete(self, ids: list[str]) -> None:
        """Remove chunks by id, their papers first noted as touched (a kill in between only makes readers look at
        those papers again)."""
        if not ids:
            return
        self._log_touched({chunk.rpartition(":")[0] for chunk in ids})
        for start in range(0, len(ids), READ_BATCH):
            self._collection.delete(ids=ids[start : start + READ_BATCH])

    def remove(self, paper_ids: list[str]) -> list[str]:
        """Delete every chunk of these papers; the ids of those the store held."""
        found: list[str] = []
        for start in range(0, len(paper_ids), READ_BATCH):
            found.extend(self._collection.get(where={"paper_id": {"$in": paper_ids[start : start + READ_BATCH]}}, include=[])["ids"])
        self.delete(found)
        return sorted({chunk.rpartition(":")[0] for chunk in found})

    def changed_since(self, generation: int) -> set[str] | None:
        """Ids of the papers written, relabelled or touched since `generation`; None when that is not known any more
        (the log of touched papers starts later) or too many chunks changed (rebuilding the index is then cheaper)."""
        log = json.loads(self._metadata().get(TOUCHED_KEY) or '{"floor": 0, "papers": []}')
        if generation < log["floor"]:
            return None
        found = self._collection.get(where={WRITTEN_KEY: {"$gt": generation}}, include=["metadatas"], limit=CHANGES_LIMIT)
        if len(found["ids"]) >= CHANGES_LIMIT:
            return None
        return {meta["paper_id"] for meta in found["metadatas"]} | {paper for at, paper in log["papers"] if at > generation}

    def _log_touched(self, paper_ids: set[str]) -> None:
        """Note in the collection's metadata that chunks of these papers are deleted or re-inserted at the next
        generation, before they are."""
        metadata = self._metadata()
        at = int(metadata.get(GENERATION_KEY, 0)) + 1
        log = json.loads(metadata.get(TOUCHED_KEY) or '{"floor": 0, "papers": []}')
        log["papers"].extend([at, paper] for paper in sorted(paper_ids))
        if len(log["papers"]) > TOUCHED_LOG:
            log["floor"] = max(log["floor"], log["papers"][-TOUCHED_LOG - 1][0])
            log["papers"] = log["papers"][-TOUCHED_LOG:]
        self._collection.modify(metadata={**metadata, TOUCHED_KEY: json.dumps(log)})

    def rows(self, where: dict[str, Any] | None = None) -> Iterator[list[Row]]:
        """Every stored chunk (or those matching `where`) without vectors, in batches."""
        offset = 0
        while True:
            found = self._collection.get(
                where=where, include=["documents", "metadatas"], limit=READ_BATCH, offset=offset
            )
            if not found["ids"]:
                return
            yield [_row(*row) for row in zip(found["ids"], found["documents"], found["metadatas"])]
            offset += len(found["ids"])

    def vectors(self, ids: list[str]) -> np.ndarray:
        """The stored vectors of `ids`, in that order."""
        found = self._collection.get(ids=ids, include=["embeddings"])
        order = {chunk: row for row, chunk in enumerate(found["ids"])}
        return np.asarray(found["embeddings"])[[order[chunk] for chunk in ids]]

    def query(self, vector: list[float], n: int, where: dict[str, Any] | None = None) -> tuple[list[str], list[float]]:
        """Ids and cosine distances of the `n` nearest chunks (only those matching `where`)."""
        found = self._collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        return found["ids"][0], found["distances"][0]

    def raw_query(self, vector: list[float], n: int) -> list[str]:
        """Ids of the `n` nearest chunks straight from Chroma's collection: the floor the benchmark compares against."""
        return self._collection.query(query_embeddings=[vector], n_results=n, include=["distances"])["ids"][0]

    def persist_vectors(self) -> None:
        """Make Chroma save its vector index now, so every process that opens the store searches the same graph.

        Own code, as Chroma has no call for it: the embedded (or server's) HNSW index is saved only once
        `sync_threshold` log records have accumulated; the vectors written since are re-inserted from the log by
        every process that opens the store, each in its own thread order, so a chunk reachable in one process can
        be unreachable in the next. Rewriting that many chunks' metadata unchanged counts as that many records and
        makes Chroma save the index; the records after it carry no vector, so nothing is re-inserted on open."""
        left = int(self._hnsw().get("sync_threshold") or 1000)
        offset = 0
        while left > 0:
            found = self._collection.get(include=["metadatas"], limit=min(left, READ_BATCH), offset=offset)
            if not found["ids"]:
                if offset == 0:
                    return
                offset = 0
                continue
            self._collection.update(ids=found["ids"], metadatas=found["metadatas"])
            left -= len(found["ids"])
            offset += len(found["ids"])

    def unreachable(self) -> list[str]:
        """Ids of chunks that no vector search returns: neither a search for the chunk's own vector nor one among
        its paper's chunks only (which in hnswlib walks every node reachable in the graph) finds it. HNSW insertion
        leaves a few such chunks, near-duplicates whose incoming links were all pruned; every vector must be
        readable (`missing_vectors` first)."""
        lost: list[str] = []
        offset = 0
        while True:
            found = self._collection.get(include=["embeddings", "metadatas"], limit=VERIFY_BATCH, offset=offset)
            if not found["ids"]:
                return lost
            vectors = np.asarray(found["embeddings"])
            near = self._collection.query(query_embeddings=vectors, n_results=SELF_SEARCH, include=["distances"])["ids"]
            for chunk, meta, vector, nearest in zip(found["ids"], found["metadatas"], vectors, near):
                if chunk not in nearest and self.query(vector.tolist(), 1, {"paper_id": meta["paper_id"]})[0] != [chunk]:
                    lost.append(chunk)
            offset += len(found["ids"])

    def reinsert(self, ids: list[str]) -> None:
        """Give chunks a new place in the vector index: delete them, then add them again with the same text,
        metadata and vector. Chroma's upsert keeps a stored chunk's place (its HNSW label, updated in place), so
        only a delete gets it inserted afresh. The rows go to a journal under PAPERTRAIL_HOME first, written whole
        before anything is deleted, so a kill in between loses nothing: the next writer puts them back (`restore`)."""
        journal = self.home / REINSERT_JOURNAL
        batch = min(READ_BATCH, self.max_batch)
        for start in range(0, len(ids), batch):
            found = self._collection.get(ids=ids[start : start + batch], include=["documents", "metadatas", "embeddings"])
            rows = {
                "ids": found["ids"],
                "metadatas": [_with_text(*row) for row in zip(found["documents"], found["metadatas"])],
                "embeddings": np.asarray(found["embeddings"], dtype=np.float32).tolist(),
            }
            _write_durably(journal, json.dumps(rows))
            self._log_touched({chunk.rpartition(":")[0] for chunk in rows["ids"]})
            self._collection.delete(ids=rows["ids"])
            self._collection.add(**rows)
            journal.unlink()

    def restore(self) -> int:
        """Add back the chunks of a re-insertion that a kill cut short (its journal), if any; how many were added."""
        journal = self.home / REINSERT_JOURNAL
        if not journal.is_file():
            return 0
        rows = json.loads(journal.read_text(encoding="utf-8"))
        stored = set(self._collection.get(ids=rows["ids"], include=[])["ids"])
        keep = [index for index, chunk in enumerate(rows["ids"]) if chunk not in stored]
        if keep:
            self._log_touched({rows["ids"][index].rpartition(":")[0] for index in keep})
            self._collection.add(**{field: [values[index] for index in keep] for field, values in rows.items()})
        journal.unlink()
        return len(keep)

    def missing_vectors(self) -> list[str]:
        """Ids of chunks whose vector cannot be read (two writers on one embedded store lose some): each batch is
        read with its vectors, and a failing batch is halved until the failing ids are found."""
        missing: list[str] = []
        offset = 0
        while True:
            ids = self._collection.get(include=[], limit=READ_BATCH, offset=offset)["ids"]
            if not ids:
                return missing
            for start in range(0, len(ids), VERIFY_BATCH):
                missing.extend(self._unreadable(ids[start : start + VERIFY_BATCH]))
            offset += len(ids)

    def _unreadable(self, ids: list[str]) -> list[str]:
        try:
            found = self._collection.get(ids=ids, include=["embeddings"])
        except StoreError:
            if len(ids) == 1:
                return ids
            half = len(ids) // 2
            return self._unreadable(ids[:half]) + self._unreadable(ids[half:])
        return [chunk for chunk, vector in zip(found["ids"], found["embeddings"]) if vector is None or not len(vector)]


def _write_durably(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a kill or power cut leaves the old file or the whole new one, on disk."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _stored(metas: list[dict[str, Any]]) -> StoredPaper:
    """A paper's stored state from its chunks' metadata; the current version is the one of its chunk 0."""
    first = next((meta for meta in metas if meta["chunk_index"] == 0), metas[0])
    n_chunks = int(first["n_chunks"])
    current = [meta for meta in metas if meta["content_hash"] == first["content_hash"] and meta["chunk_index"] < n_chunks]
    fields = [{key: meta[key] for key in PAPER_LABELS if key in meta} for meta in current]
    return StoredPaper(
        content_hash=first["content_hash"],
        n_chunks=n_chunks,
        complete={int(meta["chunk_index"]) for meta in current} == set(range(n_chunks)),
        fields=fields[0] if fields else {},
        leftovers=tuple(
            chunk_id(meta["paper_id"], meta["chunk_index"]) for meta in metas if meta["chunk_index"] >= n_chunks
        ),
        consistent=all(item == fields[0] for item in fields),
    )


def date_filter(dates: list[str]) -> dict[str, Any]:
    """Chroma `where` clause keeping chunks listed on any of `dates`."""
    clauses = [{"dates": {"$contains": date}} for date in dates]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
