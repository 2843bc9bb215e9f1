"""llama-index's face of the hybrid search: a `BaseRetriever` (one node per paper), to compose with its query engines.

Kept apart from rag/retrieve.py so that answering a question does not import llama-index (a second of
every cold start).
"""

from __future__ import annotations

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from .retrieve import HybridSearch


class HybridRetriever(BaseRetriever):
    """Dense and BM25 retrievers over one store, fused and grouped by paper; each node is a paper's abstract."""

    def __init__(self, search: HybridSearch) -> None:
        super().__init__()
        self.hybrid = search

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The `top_k` papers of the settings, scored by fusion."""
        found = self.hybrid.search(query_bundle.query_str, self.hybrid.settings.retrieval.top_k)
        return [
            NodeWithScore(node=TextNode(id_=s.paper_id, text=s.abstract, metadata={"title": s.title}), score=s.score)
            for s in found.sources
        ]
