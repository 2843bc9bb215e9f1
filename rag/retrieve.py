"""Hybrid retrieval: dense (Chroma) and BM25 chunk rankings fused, then grouped into numbered papers.

`HybridRetriever` is a llama-index `BaseRetriever` (one node per paper from `retrieve`), so it composes
with llama-index query engines; the pipeline calls `search`, which also returns per-stage timings.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from .bm25 import Bm25Index
from .settings import Settings
from .store import Store, date_filter
from .types import Paper, Source

RANKED_PAPERS = 10
"""How many paper ids a search reports in ranked order (the evaluation's recall@10 and MRR@10)."""


@dataclass
class Retrieval:
    """Papers ranked for one query: the numbered sources, the ranked ids, per-stage timings in milliseconds."""

    sources: list[Source]
    ranked: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


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


class HybridRetriever(BaseRetriever):
    """Dense and BM25 retrievers over one store, fused and grouped by paper."""

    def __init__(
        self, settings: Settings, store: Store, embed_model: BaseEmbedding, bm25: Bm25Index, papers: dict[str, Paper]
    ) -> None:
        super().__init__()
        self.settings = settings
        self.embed_model = embed_model
        self.index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)
        self.bm25 = bm25
        self.papers = papers

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """llama-index's interface: one node per paper (its abstract), scored by fusion."""
        found = self.search(query_bundle.query_str, self.settings.retrieval.top_k)
        return [
            NodeWithScore(node=TextNode(id_=s.paper_id, text=s.abstract, metadata={"title": s.title}), score=s.score)
            for s in found.sources
        ]

    def search(self, query: str, top_k: int, dates: list[str] | None = None) -> Retrieval:
        """The `top_k` best papers for `query`, optionally only those listed on one of `dates`."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        bundle = QueryBundle(query, embedding=self.embed_model.get_query_embedding(query))
        clock = _lap(timings, "embed_query", clock)
        kwargs = {"where": date_filter(dates)} if dates else {}
        dense_retriever = self.index.as_retriever(
            similarity_top_k=self.bm25.candidates, vector_store_kwargs=kwargs
        )
        dense = dense_retriever.retrieve(bundle)
        clock = _lap(timings, "dense", clock)
        lexical = self.bm25.search(query, dates)
        clock = _lap(timings, "bm25", clock)
        fused = fuse([(dense, self.settings.retrieval.dense_weight), (lexical, 1.0)], self.settings.retrieval.rrf_k)
        ranked = self._rank_papers(fused, dense + lexical)
        sources = self._sources(ranked[:top_k], dense)
        _lap(timings, "fusion", clock)
        return Retrieval(sources, [paper_id for paper_id, _ in ranked[:RANKED_PAPERS]], timings)

    @staticmethod
    def _rank_papers(fused: dict[str, float], hits: list[NodeWithScore]) -> list[tuple[str, float]]:
        """Papers by their best chunk's fused score: a paper counts once."""
        best: dict[str, float] = {}
        for hit in hits:
            paper_id = hit.node.metadata["paper_id"]
            best[paper_id] = max(best.get(paper_id, 0.0), fused[hit.node.node_id])
        return sorted(best.items(), key=lambda item: item[1], reverse=True)

    def _sources(self, ranked: list[tuple[str, float]], dense: list[NodeWithScore]) -> list[Source]:
        """Numbered sources for the ranked papers, each with its best chunk's cosine similarity."""
        cosine: dict[str, float] = defaultdict(float)
        for hit in dense:
            # ChromaVectorStore reports exp(-distance); with cosine space the distance is 1 - cosine.
            similarity = 1.0 + math.log(max(hit.score or 0.0, 1e-9))
            cosine[hit.node.metadata["paper_id"]] = max(cosine[hit.node.metadata["paper_id"]], similarity)
        return [
            Source(
                **self.papers[paper_id].model_dump(),
                n=n,
                score=round(score, 6),
                dense_score=round(cosine[paper_id], 4),
            )
            for n, (paper_id, score) in enumerate(ranked, start=1)
        ]


def _lap(timings: dict[str, float], stage: str, start: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - start) * 1000, 2)
    return now
