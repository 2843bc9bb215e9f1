"""The Chroma collection of abstract chunks (embedded or a server), used through llama-index's ChromaVectorStore.

The only module that imports chromadb.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore

from .chunk import labels
from .embed import model_name
from .errors import StoreError

if TYPE_CHECKING:
    from .settings import Settings

GENERATION_KEY = "papertrail_generation"
READ_BATCH = 5000
WRITE_BATCH = 250


@dataclass(frozen=True)
class StoredPaper:
    """What the store already holds of one paper: enough to tell whether ingest must touch it."""

    content_hash: str
    n_chunks: int
    chunks_present: int
    dates: tuple[str, ...]
    sources: tuple[str, ...]
    consistent: bool = True
    """False when its chunks disagree on dates or sources (a relabel was cut short)."""
    labels: dict[str, Any] = field(default_factory=dict, compare=False)
    """Its fields besides title and abstract (dates, sources, links, arXiv id, authors), as `chunk.labels` reads them."""

    @property
    def complete(self) -> bool:
        return self.chunks_present == self.n_chunks


def collection_name(settings: Settings) -> str:
    """Collection per embedding model, so vectors of two models never mix."""
    return re.sub(r"[^a-zA-Z0-9._-]", "-", f"{settings.store.collection}-{model_name(settings.retrieval)}")


def _client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.store.chroma_url:
        url = urlparse(settings.store.chroma_url)
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise StoreError(f"PAPERTRAIL_CHROMA_URL must look like http://host:port, got {settings.store.chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as err:
            raise StoreError(f"cannot reach the Chroma server at {settings.store.chroma_url}: {err}") from None
    path = settings.store.home / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class _Reported:
    """A Chroma collection whose failures (server down, store refusing) become one StoreError naming the store."""

    def __init__(self, collection: Any, where: str) -> None:
        self._collection = collection
        self._where = where

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except httpx.TransportError as err:
                raise StoreError(f"cannot reach the Chroma server at {self._where}: {err}") from None
            except ChromaError as err:
                raise StoreError(f"the Chroma store at {self._where} failed: {err}") from None

        return call


class Store:
    """One Chroma collection of chunks; writes go through llama-index, bookkeeping reads use Chroma directly."""

    def __init__(self, settings: Settings) -> None:
        self.where = settings.store.chroma_url or str(settings.store.home / "chroma")
        try:
            collection = _client(settings).get_or_create_collection(
                collection_name(settings),
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except StoreError:
            raise
        except Exception as err:
            raise StoreError(f"cannot open the Chroma store at {self.where}: {err}") from None
        self._collection = _Reported(collection, self.where)
        self.vector_store = ChromaVectorStore(chroma_collection=self._collection)
        # Dates and sources are lists; Chroma stores and filters lists, llama-index's flat check would refuse them.
        self.vector_store.flat_metadata = False

    def count(self) -> int:
        """Number of chunks."""
        return self._collection.count()

    def paper_count(self) -> int:
        """Number of distinct papers (each has exactly one chunk 0)."""
        return len(self._collection.get(where={"chunk_index": 0}, include=[])["ids"])

    def generation(self) -> int:
        """Counter bumped before every write, so caches built from the store can tell they are stale."""
        return int((self._collection.metadata or {}).get(GENERATION_KEY, 0))

    def bump_generation(self) -> None:
        """Mark the store as changing, before any write."""
        self._collection.modify(metadata={GENERATION_KEY: self.generation() + 1})

    def stored_papers(self, paper_ids: list[str]) -> dict[str, StoredPaper]:
        """The stored state of those papers that the store holds any chunk of."""
        found: dict[str, StoredPaper] = {}
        for start in range(0, len(paper_ids), READ_BATCH):
            batch = paper_ids[start : start + READ_BATCH]
            rows = self._collection.get(where={"paper_id": {"$in": batch}}, include=["metadatas"])
            for meta in rows["metadatas"]:
                known = found.get(meta["paper_id"])
                dates, sources = tuple(meta.get("dates") or ()), tuple(meta.get("sources") or ())
                same = known is None or (known.dates, known.sources, known.content_hash) == (
                    dates,
                    sources,
                    meta["content_hash"],
                )
                found[meta["paper_id"]] = StoredPaper(
                    content_hash=meta["content_hash"],
                    n_chunks=int(meta["n_chunks"]),
                    chunks_present=(known.chunks_present if known else 0) + 1,
                    dates=dates,
                    sources=sources,
                    consistent=same and (known is None or known.consistent),
                    labels=labels(meta),
                )
        return found

    def add(self, nodes: list[TextNode]) -> None:
        """Write embedded nodes; ids are deterministic, so a repeated write cannot duplicate."""
        for start in range(0, len(nodes), WRITE_BATCH):
            self.vector_store.add(nodes[start : start + WRITE_BATCH])

    def delete_papers(self, paper_ids: list[str]) -> None:
        """Remove every chunk of these papers (before they are re-embedded)."""
        for start in range(0, len(paper_ids), READ_BATCH):
            self._collection.delete(where={"paper_id": {"$in": paper_ids[start : start + READ_BATCH]}})

    def update_metadata(self, nodes: list[TextNode]) -> None:
        """Rewrite the metadata of stored chunks (new listing dates) without re-embedding them."""
        for start in range(0, len(nodes), WRITE_BATCH):
            batch = nodes[start : start + WRITE_BATCH]
            self._collection.update(
                ids=[node.node_id for node in batch],
                metadatas=[node_to_metadata_dict(node, remove_text=True, flat_metadata=False) for node in batch],
            )

    def iter_nodes(self, embeddings: bool = False) -> Iterator[TextNode]:
        """Every stored chunk as a llama-index node (with its vector if asked), read in batches."""
        include = ["documents", "metadatas", *(["embeddings"] if embeddings else [])]
        offset = 0
        while True:
            rows = self._collection.get(include=include, limit=READ_BATCH, offset=offset)
            if not rows["ids"]:
                return
            vectors = rows["embeddings"] if embeddings else [None] * len(rows["ids"])
            for text, meta, vector in zip(rows["documents"], rows["metadatas"], vectors):
                node = metadata_dict_to_node(meta, text=text)
                node.embedding = None if vector is None else [float(x) for x in vector]
                yield node
            offset += len(rows["ids"])

    def raw_query(self, vector: list[float], n: int) -> list[str]:
        """Ids of the `n` nearest chunks straight from Chroma: the floor the benchmark compares against."""
        return self._collection.query(query_embeddings=[vector], n_results=n, include=["distances"])["ids"][0]


def date_filter(dates: list[str]) -> dict[str, Any]:
    """Chroma `where` clause keeping chunks listed on any of `dates`."""
    clauses = [{"dates": {"$contains": date}} for date in dates]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
