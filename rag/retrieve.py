"""Hybrid retrieval: dense (Chroma) and BM25 chunk rankings fused on ids and scores, grouped into numbered papers.

Only the `top_k` papers that survive fusion are materialized, from the catalog the engine holds. The
llama-index face of this search (a `BaseRetriever`) is `rag.llama_retriever.HybridRetriever`.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bm25 import Bm25Index
from .embed import Embedder, build_embedder
from .papers import Catalog
from .settings import Settings
from .store import Store, date_filter
from .types import Paper, Source

RANKED_PAPERS = 10
"""How many paper ids a search reports in ranked order (the evaluation's recall@10 and MRR@10)."""

_BM25_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="papertrail-bm25")
"""BM25 needs no vector: it runs here while ONNX Runtime (which releases the GIL) embeds the question."""

Hit = tuple[int, int]
"""A chunk as (catalog position of its paper, chunk index)."""


@dataclass(frozen=True)
class Recent:
    """Chunks written after this process loaded Chroma's vector index, which an embedded client keeps as it loaded it
    (reloading it costs seconds at 100,000 papers): searched here by brute force over their vectors, and their
    papers' older versions left out of Chroma's answers. Own code: Chroma has no way to search a stale index plus
    the vectors written since."""

    rows: np.ndarray
    """Catalog rows of the live chunks."""
    vectors: np.ndarray
    papers: frozenset[str]
    """Papers written or removed since: Chroma's answers for them are out of date."""

    def nearest(self, vector: list[float], n: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine distances of the `n` nearest recent chunks (only rows `allowed` weighs above zero)."""
        if not len(self.rows):
            return self.rows, np.zeros(0)
        query = np.asarray(vector, dtype=np.float32)
        norms = np.linalg.norm(self.vectors, axis=1) * np.linalg.norm(query)
        distances = 1.0 - (self.vectors @ query) / np.where(norms > 0, norms, 1.0)
        rows = self.rows
        if allowed is not None:
            keep = allowed[rows] > 0
            rows, distances = rows[keep], distances[keep]
        order = np.argsort(distances, kind="stable")[:n]
        return rows[order], distances[order]


@dataclass
class Retrieval:
    """Papers ranked for one query: the numbered sources, the ranked ids, per-stage timings in milliseconds."""

    sources: list[Source]
    ranked: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


def fuse(rankings: list[tuple[list[Hit], float]], k: int) -> list[tuple[int, float]]:
    """Papers (catalog positions) by their best chunk's weighted reciprocal-rank-fusion score, best first.

    Own code: QueryFusionRetriever's RRF fixes k at 60, ignores retriever weights and works on nodes,
    where ranking needs only ids and scores.
    """
    fused: dict[Hit, float] = defaultdict(float)
    for ranking, weight in rankings:
        for rank, hit in enumerate(ranking):
            fused[hit] += weight / (k + rank + 1)
    best: dict[int, float] = {}
    for ranking, _ in rankings:
        for hit in ranking:
            best[hit[0]] = max(best.get(hit[0], 0.0), fused[hit])
    return sorted(best.items(), key=lambda item: item[1], reverse=True)


class HybridSearch:
    """Dense and BM25 search over one store and its catalog, fused and grouped by paper."""

    def __init__(self, settings: Settings, store: Store, bm25: Bm25Index, catalog: Catalog, recent: Recent | None = None) -> None:
        self.settings = settings
        self.store = store
        self.bm25 = bm25
        self.catalog = catalog
        self.recent = recent
        self._embedder: Embedder | None = None
        self.candidates = min(settings.retrieval.candidates, bm25.documents)

    @property
    def embedder(self) -> Embedder:
        """The query embedding model, loaded at the first question (listing the catalog does not need it)."""
        if self._embedder is None:
            self._embedder = build_embedder(self.settings)
        return self._embedder

    def dense(
        self, vector: list[float], dates: list[str] | None, papers: list[str] | None = None
    ) -> tuple[list[Hit], dict[int, float]]:
        """The nearest chunks the catalog knows (one whole version of each paper), and each paper's best cosine;
        chunks written since this process loaded Chroma's vector index come from `recent`."""
        recent = self.recent
        stale = recent.papers if recent is not None else frozenset()
        wanted = papers if papers is None or not stale else [paper for paper in papers if paper not in stale]
        # Chroma fails when a filter picks ids its loaded index does not hold: the recent papers are left out of it.
        where = _where(dates, wanted, sorted(stale) if stale and (dates or wanted is not None) else [])
        ids, distances = self.store.query(vector, self.candidates, where) if wanted != [] else ([], [])
        found: list[tuple[float, Hit]] = []
        for chunk, distance in zip(ids, distances):
            paper_id, _, index = chunk.rpartition(":")
            position = self.catalog.position.get(paper_id)
            # Chunks written after the catalog was built, or left over from a replaced version, are skipped.
            if position is None or int(index) >= self.catalog.n_chunks[position] or (recent and paper_id in recent.papers):
                continue
            found.append((distance, (position, int(index))))
        if recent is not None and len(recent.rows):
            rows, near = recent.nearest(vector, self.candidates, self._mask(dates, papers))
            owners, indexes = self.catalog.chunk_paper[rows].tolist(), self.catalog.chunk_index[rows].tolist()
            found = sorted([*found, *zip(near.tolist(), zip(owners, indexes))], key=lambda item: item[0])[: self.candidates]
        cosine: dict[int, float] = {}
        for distance, (position, _) in found:
            cosine[position] = max(cosine.get(position, 0.0), 1.0 - distance)
        return [hit for _, hit in found], cosine

    def lexical(self, query: str, dates: list[str] | None, papers: list[str] | None = None) -> list[Hit]:
        """The best BM25 chunks (only those of papers listed on `dates`, and among `papers`, when given). Chunks of
        equal score come in order of paper id and chunk, so the ranking does not depend on how the index is split
        into segments."""
        rows, scores = self.bm25.search(query, self.candidates, self._mask(dates, papers))
        found = zip(scores.tolist(), self.catalog.chunk_paper[rows].tolist(), self.catalog.chunk_index[rows].tolist())
        ranked = sorted(found, key=lambda hit: (-hit[0], self.catalog.paper_ids[hit[1]], hit[2]))
        return [(paper, index) for _, paper, index in ranked[: self.candidates]]

    def best_lexical(self, query: str, count: int, dates: list[str] | None = None) -> list[Paper]:
        """The papers of the best BM25 chunks for `query` (listed on `dates`, when given), at most `count`."""
        positions = list(dict.fromkeys(position for position, _ in self.lexical(query, dates)))
        return [self.catalog.paper(position) for position in positions[:count]]

    def search(
        self,
        query: str,
        top_k: int,
        dates: list[str] | None = None,
        names: list[str] = (),
        papers: list[str] | None = None,
        vector: list[float] | None = None,
    ) -> Retrieval:
        """The `top_k` best papers for `query`, optionally only those listed on `dates`, or among `papers` (ids: a
        watch looks at the papers a write added); the question's `names` ("Dolma") are also searched alone, a third
        ranking in the fusion; `vector` is the query's own, when already embedded.

        Own code: llama-index's fusion retriever runs its retrievers one after the other (or in asyncio, which
        does not overlap CPU work); here BM25 runs in a thread beside the query embedding, which hid most of
        BM25's time in the benchmark (it is about half the embedding's at 100,000 papers)."""
        started = time.perf_counter()
        lexical = _BM25_THREADS.submit(self._timed_lexical, query, dates, papers)
        timings: dict[str, float] = {}
        clock = started
        vector = self.embedder.query(query) if vector is None else vector
        clock = _lap(timings, "embed_query", clock)
        dense, cosine = self.dense(vector, dates, papers)
        clock = _lap(timings, "dense", clock)
        hits, timings["bm25"] = lexical.result()
        clock = time.perf_counter()
        retrieval = self.settings.retrieval
        rankings = [(dense, retrieval.dense_weight), (hits, 1.0)]
        if names:
            rankings.append((self._naming(self.lexical(" ".join(names), dates, papers), names), retrieval.name_weight))
        ranked = fuse(rankings, retrieval.rrf_k)
        sources = [
            Source(
                **self.catalog.paper(position).model_dump(),
                n=n,
                score=round(score, 6),
                dense_score=round(cosine.get(position, 0.0), 4),
            )
            for n, (position, score) in enumerate(ranked[:top_k], start=1)
        ]
        _lap(timings, "fusion", clock)
        _lap(timings, "retrieval", started)
        return Retrieval(sources, [self.catalog.paper_ids[position] for position, _ in ranked[:RANKED_PAPERS]], timings)

    def _naming(self, hits: list[Hit], names: list[str]) -> list[Hit]:
        """The names' BM25 ranking with the chunks of papers writing more of the names first: BM25 splits "GPT-2" into
        "gpt" and "2", which GPT-3's and GPT-4's papers hold as well. A name of one word is left to BM25."""
        patterns = [_writing(name) for name in names if not name.isalpha()]
        if not patterns:
            return hits
        writes: dict[int, int] = {}
        for position, _ in hits:
            if position not in writes:
                paper = self.catalog.paper(position)
                text = f"{paper.title} {paper.abstract}"
                writes[position] = sum(_writes(text, pattern) for pattern in patterns)
        return sorted(hits, key=lambda hit: -writes[hit[0]])

    def _timed_lexical(self, query: str, dates: list[str] | None, papers: list[str] | None) -> tuple[list[Hit], float]:
        clock = time.perf_counter()
        hits = self.lexical(query, dates, papers)
        return hits, elapsed_ms(clock)

    def _mask(self, dates: list[str] | None, papers: list[str] | None) -> np.ndarray | None:
        """1.0 for each indexed chunk of a paper listed on `dates` and among `papers` (each when given), else 0.0;
        None when neither is given."""
        mask = self.catalog.row_mask(dates) if dates else None
        if papers is None:
            return mask
        chosen = np.zeros(len(self.catalog.paper_ids), dtype=bool)
        chosen[[position for paper in papers if (position := self.catalog.position.get(paper)) is not None]] = True
        return chosen[self.catalog.chunk_paper].astype(np.float32) * (1.0 if mask is None else mask)


def _writing(name: str) -> re.Pattern[str]:
    """What writes `name`, its parts joined, hyphenated or apart, in any case ("GPT4" and "gpt-4" for "GPT-4"; not
    "GPT-4o"): its start is checked by `_writes`, twice as fast as a look-behind."""
    joined = r"[\s_-]?".join(re.escape(part) for part in re.split(r"[\s_-]+", name) if part)
    return re.compile(rf"{joined}(?![^\W_])", re.I)


def _writes(text: str, pattern: re.Pattern[str]) -> bool:
    """`text` holds `pattern` (`_writing`) as a whole word: no letter or digit right before it ("nanoGPT-2" is not
    GPT-2)."""
    return any(not text[match.start() - 1 : match.start()].isalnum() for match in pattern.finditer(text))


def _where(dates: list[str] | None, papers: list[str] | None, stale: list[str]) -> dict[str, Any] | None:
    """Chroma `where` clause for the listing dates and paper ids asked for, without the `stale` papers (None: every
    chunk)."""
    clauses = [
        *([date_filter(dates)] if dates else []),
        *([{"paper_id": {"$in": papers}}] if papers is not None else []),
        *([{"paper_id": {"$nin": stale}}] if stale else []),
    ]
    return {"$and": clauses} if len(clauses) > 1 else clauses[0] if clauses else None

def elapsed_ms(since: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, as timings report them."""
    return round((time.perf_counter() - since) * 1000, 2)


def _lap(timings: dict[str, float], stage: str, start: float) -> float:
    timings[stage] = elapsed_ms(start)
    return time.perf_counter()
