"""The BM25 index over every indexed chunk (bm25s), saved beside the catalog and opened memory-mapped.

The only module that imports bm25s. Tokenized as llama-index's BM25Retriever does (English stop words
and Snowball stemmer for the chunks, the stemmer alone for the query), so rankings are the same; own
code rather than that retriever because it turns each of the 100 candidates into a node from stored
JSON (measured 3.2 ms a search against 0.54 ms for the bare retrieve), where fusion needs rows and scores.
Each term's document frequency (for weighing question words by rarity) is counted from bm25s's public
tokenizer output when the index is built, and saved beside it.
"""

from __future__ import annotations

import math
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

LANGUAGE = "en"
_STEMMER = Stemmer.Stemmer("english")
FREQUENCY_FILE = "document_frequency.npy"


class Bm25Index:
    """bm25s over the chunk texts, in catalog row order."""

    def __init__(self, model: bm25s.BM25, documents: int, frequency: np.ndarray) -> None:
        self.model = model
        self.documents = documents
        self._frequency = frequency  # how many chunks hold each term, by its id in the index's vocabulary

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        """Tokenize and index the chunk texts (English stop words, Snowball stemmer)."""
        tokens = bm25s.tokenize(texts, stopwords=LANGUAGE, stemmer=_STEMMER, show_progress=False)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        present = [np.unique(np.asarray(ids, dtype=np.int64)) for ids in tokens.ids]
        frequency = np.bincount(np.concatenate([np.zeros(0, dtype=np.int64), *present]), minlength=len(tokens.vocab))
        return cls(model, len(texts), frequency)

    def save(self, folder: Path) -> None:
        """Write into `folder` (a staging folder the caller swaps in)."""
        self.model.save(str(folder))
        np.save(folder / FREQUENCY_FILE, self._frequency)

    @classmethod
    def load(cls, folder: Path, documents: int) -> Bm25Index:
        """Open a saved index, its score arrays memory-mapped."""
        return cls(bm25s.BM25.load(str(folder), mmap=True), documents, np.load(folder / FREQUENCY_FILE, mmap_mode="r"))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `k` chunks for `query`; with a `mask`, only rows it weighs above zero."""
        k = min(k, self.documents)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        tokens = bm25s.tokenize(query, stemmer=_STEMMER, show_progress=False)
        rows, scores = self.model.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        if mask is not None:  # bm25s fills k even from masked rows: they come back with score 0
            keep = scores[0] > 0
            return rows[0][keep], scores[0][keep]
        return rows[0], scores[0]

    def raw_search(self, query: str, k: int) -> None:
        """A bare bm25s retrieve for `query`: the floor the benchmark compares `search` against."""
        tokens = bm25s.tokenize(query, stemmer=_STEMMER, show_progress=False)
        self.model.retrieve(tokens, k=min(k, self.documents), show_progress=False)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (BM25's smoothed form): rare terms weigh more."""
        index = self.model.vocab_dict.get(term)
        frequency = int(self._frequency[index]) if index is not None and index < len(self._frequency) else 0
        return math.log(1 + (self.documents - frequency + 0.5) / (frequency + 0.5))
