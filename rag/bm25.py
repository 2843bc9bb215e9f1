"""The BM25 index over every stored chunk (bm25s, searched through llama-index's BM25Retriever), cached on disk.

The only module that imports bm25s. The cache is stamped with the store's write generation and chunk
count; a missing, stale or unreadable cache is rebuilt from the store, so BM25 and the vectors always
describe the same chunks. The index also keeps each term's document frequency, which the answering
stage uses to weigh question words by rarity.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import bm25s
import Stemmer
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.core.vector_stores.utils import node_to_metadata_dict
from llama_index.retrievers.bm25 import BM25Retriever

STAMP_FILE = "papertrail_stamp.json"
FREQUENCY_FILE = "papertrail_document_frequency.json"
LANGUAGE = "en"


class Bm25Index:
    """bm25s over the chunk texts, the llama-index retriever searching it, and each stemmed term's document frequency."""

    def __init__(self, model: bm25s.BM25, document_frequency: dict[str, int], candidates: int) -> None:
        self.model = model
        self.document_frequency = document_frequency
        self.documents = len(model.corpus)
        self.candidates = min(candidates, self.documents)
        self.retriever = BM25Retriever(existing_bm25=model, similarity_top_k=self.candidates)

    @property
    def corpus(self) -> list[dict]:
        """Every chunk as llama-index's metadata dict (text in `_node_content`), in index order."""
        return self.model.corpus

    @classmethod
    def build(cls, nodes: list[TextNode], candidates: int) -> Bm25Index:
        """Tokenize and index the chunks as BM25Retriever would (English stop words, Snowball stemmer)."""
        stemmer = Stemmer.Stemmer("english")
        texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        tokens = bm25s.tokenize(texts, stopwords=LANGUAGE, stemmer=stemmer, show_progress=False)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        model.corpus = [node_to_metadata_dict(node) | {"node_id": node.node_id} for node in nodes]
        words = {index: word for word, index in tokens.vocab.items()}
        counts = Counter(index for document in tokens.ids for index in set(document))
        return cls(model, {words[index]: count for index, count in counts.items()}, candidates)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (BM25's smoothed form): rare terms weigh more."""
        frequency = self.document_frequency.get(term, 0)
        return math.log(1 + (self.documents - frequency + 0.5) / (frequency + 0.5))

    def search(self, query: str, dates: list[str] | None = None) -> list[NodeWithScore]:
        """The best `candidates` chunks for `query`, optionally only those listed on one of `dates`."""
        bundle = QueryBundle(query)
        if not dates:
            return self.retriever.retrieve(bundle)
        filters = MetadataFilters(
            filters=[MetadataFilter(key="dates", value=date, operator=FilterOperator.CONTAINS) for date in dates],
            condition="or",
        )
        try:
            filtered = BM25Retriever(existing_bm25=self.model, similarity_top_k=self.candidates, filters=filters)
        except ValueError:  # every chunk filtered out: nothing listed on those dates
            return []
        # bm25s fills k even from chunks the date mask removed: they come back with score 0
        return [hit for hit in filtered.retrieve(bundle) if (hit.score or 0.0) > 0.0]

    def raw_search(self, query: str) -> None:
        """A bare bm25s retrieve for `query`: the floor the benchmark compares `search` against."""
        tokens = bm25s.tokenize(query, stemmer=self.retriever.stemmer, show_progress=False)
        self.model.retrieve(tokens, k=self.candidates, show_progress=False)

    def save(self, folder: Path, stamp: dict[str, int]) -> None:
        """Write beside the old cache and swap it in, so a reader never sees half a cache."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=folder.parent))
        self.model.save(str(staging), corpus=self.corpus)
        (staging / FREQUENCY_FILE).write_text(json.dumps(self.document_frequency))
        (staging / STAMP_FILE).write_text(json.dumps(stamp))
        retired = folder.with_name(folder.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        if folder.exists():
            folder.rename(retired)
        staging.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, stamp: dict[str, int], candidates: int) -> Bm25Index | None:
        """The cached index if it was written for `stamp`; None when missing, stale or corrupt."""
        try:
            if json.loads((folder / STAMP_FILE).read_text()) != stamp:
                return None
            model = bm25s.BM25.load(str(folder), load_corpus=True)
            document_frequency = json.loads((folder / FREQUENCY_FILE).read_text())
            return cls(model, document_frequency, candidates)
        except Exception:  # missing or corrupt cache files: the caller rebuilds from the store
            return None
