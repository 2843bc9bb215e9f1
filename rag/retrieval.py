"""Hybrid retrieval: dense (Chroma) and BM25 chunk rankings fused, then aggregated to papers."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.retrievers import VectorIndexRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.retrievers.bm25 import BM25Retriever

from .settings import Settings
from .store import Store, date_filter
from .types import Source


@dataclass(frozen=True)
class PaperRecord:
    """A stored paper as the answering stage needs it."""

    paper_id: str
    title: str
    abstract: str
    dates: list[str]
    url: str | None


@dataclass
class Retrieval:
    """Papers ranked for one query, with per-stage timings in milliseconds."""

    sources: list[Source]
    timings_ms: dict[str, float] = field(default_factory=dict)


def catalog(bm25: BM25Retriever) -> dict[str, PaperRecord]:
    """Every paper, its abstract rebuilt from its chunks, read from the BM25 corpus (already in memory)."""
    parts: dict[str, list[tuple[int, dict, dict]]] = defaultdict(list)
    for entry in bm25.corpus:
        parts[entry["paper_id"]].append((int(entry["chunk_index"]), json.loads(entry["_node_content"]), entry))
    papers = {}
    for paper_id, chunks in parts.items():
        chunks.sort(key=lambda item: item[0])
        meta = chunks[0][2]
        papers[paper_id] = PaperRecord(
            paper_id=paper_id,
            title=meta["title"],
            abstract=_join([content for _, content, _ in chunks]),
            dates=list(meta.get("dates") or []),
            url=meta.get("url") or None,
        )
    return papers


def _join(chunks: list[dict]) -> str:
    """The abstract from its chunks: abstracts have single spaces, so a gap between offsets is one space."""
    text = ""
    for chunk in chunks:
        if text and chunk["start_char_idx"] > len(text):
            text += " "
        text += chunk["text"]
    return text


def fuse(rankings: list[tuple[list[NodeWithScore], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of chunk rankings, keyed by chunk id.

    Own code: QueryFusionRetriever's RRF fixes k at 60, ignores retriever weights and hides each
    retriever's scores, which abstention (dense similarity) and per-stage timings need.
    """
    fused: dict[str, float] = defaultdict(float)
    for ranking, weight in rankings:
        for rank, hit in enumerate(ranking):
            fused[hit.node.node_id] += weight / (k + rank + 1)
    return fused


class HybridRetriever:
    """Dense and BM25 retrievers over one store, fused and grouped by paper."""

    def __init__(self, settings: Settings, store: Store, embed_model: BaseEmbedding, bm25: BM25Retriever) -> None:
        self.settings = settings
        self.embed_model = embed_model
        self.index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)
        self.bm25 = bm25
        self.candidates = min(settings.candidates, len(bm25.corpus))
        self.bm25.similarity_top_k = self.candidates
        self.papers = catalog(bm25)

    def retrieve(self, query: str, top_k: int, dates: list[str] | None = None) -> Retrieval:
        """The `top_k` best papers for `query`, optionally only those listed on one of `dates`."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        bundle = QueryBundle(query, embedding=self.embed_model.get_query_embedding(query))
        clock = _lap(timings, "embed_query", clock)
        dense = self._dense(dates).retrieve(bundle)
        clock = _lap(timings, "dense", clock)
        lexical = self._lexical(dates).retrieve(bundle)
        if dates:  # bm25s fills k even from chunks its date mask removed: they come back with score 0
            lexical = [hit for hit in lexical if (hit.score or 0.0) > 0.0]
        clock = _lap(timings, "bm25", clock)
        fused = fuse([(dense, self.settings.dense_weight), (lexical, 1.0)], self.settings.rrf_k)
        sources = self._papers(fused, dense, lexical, top_k)
        _lap(timings, "fusion", clock)
        return Retrieval(sources, timings)

    def _dense(self, dates: list[str] | None) -> VectorIndexRetriever:
        kwargs = {"where": date_filter(dates)} if dates else {}
        return self.index.as_retriever(similarity_top_k=self.candidates, vector_store_kwargs=kwargs)

    def _lexical(self, dates: list[str] | None) -> BM25Retriever:
        if not dates:
            return self.bm25
        filters = MetadataFilters(
            filters=[MetadataFilter(key="dates", value=date, operator=FilterOperator.CONTAINS) for date in dates],
            condition="or",
        )
        try:
            return BM25Retriever(existing_bm25=self.bm25.bm25, similarity_top_k=self.candidates, filters=filters)
        except ValueError:  # every chunk filtered out: nothing listed on those dates
            return _NoHits()

    def _papers(
        self, fused: dict[str, float], dense: list[NodeWithScore], lexical: list[NodeWithScore], top_k: int
    ) -> list[Source]:
        """Group chunks by paper: a paper scores as its best chunk, and counts once."""
        best: dict[str, float] = {}
        cosine: dict[str, float] = defaultdict(float)
        for hit in dense + lexical:
            paper_id = hit.node.metadata["paper_id"]
            best[paper_id] = max(best.get(paper_id, 0.0), fused[hit.node.node_id])
        for hit in dense:
            # ChromaVectorStore reports exp(-distance); with cosine space the distance is 1 - cosine.
            similarity = 1.0 + math.log(max(hit.score or 0.0, 1e-9))
            cosine[hit.node.metadata["paper_id"]] = max(cosine[hit.node.metadata["paper_id"]], similarity)
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:top_k]
        sources = []
        for n, (paper_id, score) in enumerate(ranked, start=1):
            paper = self.papers[paper_id]
            sources.append(
                Source(
                    n=n,
                    paper_id=paper_id,
                    title=paper.title,
                    abstract=paper.abstract,
                    dates=paper.dates,
                    score=round(score, 6),
                    dense_score=round(cosine[paper_id], 4),
                    url=paper.url,
                )
            )
        return sources


class _NoHits:
    """Stands in for BM25 when a date filter leaves nothing to search."""

    def retrieve(self, bundle: QueryBundle) -> list[NodeWithScore]:
        return []


def _lap(timings: dict[str, float], stage: str, start: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - start) * 1000, 2)
    return now
