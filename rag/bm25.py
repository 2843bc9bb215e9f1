"""BM25 over the indexed chunks, kept in segments that each write appends to, scored as one index over all of them.

The only module that imports bm25s, for its tokenizer: chunks get English stop words and the Snowball stemmer,
questions the stemmer, as llama-index's BM25Retriever tokenizes. Own index and scoring code rather than bm25s's:
bm25s stores each posting's finished score, with the corpus size, average chunk length and document frequencies of
the day baked in, so it cannot take one more chunk without being rebuilt whole (xhluca/bm25s#5; 48.9 s at 100,000
papers). A segment here keeps term frequencies and chunk lengths, and a search computes Lucene's BM25 (bm25s's
default variant) from the statistics of the live chunks of every segment, so its scores equal those of one index
built over the same chunks, however they are split into segments.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from .text import fold

LANGUAGE = "en"
K1 = 1.5
B = 0.75
_STEMMER = Stemmer.Stemmer("english")
POSTINGS_FILES = ("indptr.npy", "rows.npy", "tf.npy", "lengths.npy")
SAMPLE_STRIDE = 16
"""A search finds its cut from every 16th chunk's score first (see `_best`)."""
KEEP_FROM = 20_000
"""Terms holding at least this many chunks keep their chunks' scores for the next question (see `Bm25Index.search`)."""
KEEP_AT_MOST = 16_000_000
"""Numbers kept at most (64 MB: scores, and the rows of segments after the first); past it, all are dropped and kept
anew. The commonest terms' one score per chunk have as much again, kept until it is full."""
_TOKEN = re.compile(r"\w\w+")
"""bm25s's token pattern (its default): runs of two or more word characters, so "7B" is one token and "2.0" none."""
DENSE_SHARE = 4
"""A term held by at least a quarter of the chunks is kept as one score per chunk (see `Bm25Index._scores`)."""


class Vocabulary:
    """Stemmed terms by id, in the order segments added them: ids never change, so a saved segment stays valid."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self.ids = {term: index for index, term in enumerate(terms)}
        self._folded: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.terms)

    def appended(self, terms: list[str]) -> Vocabulary:
        """This vocabulary with `terms` (new ones, as a saved segment lists them) appended in order."""
        if not terms:
            return self
        grown = Vocabulary.__new__(Vocabulary)
        grown.terms = self.terms + terms
        grown.ids = dict(self.ids)
        grown.ids.update((term, index) for index, term in enumerate(terms, start=len(self.terms)))
        grown._folded = None
        return grown

    def find(self, term: str) -> int | None:
        """The id of `term`, or of the one it is with accents dropped ("tulu" finds "tülu", which a chunk wrote
        "TÜLU"): the index keeps words as written, people type them without accents."""
        found = self.ids.get(term)
        if found is None and term.isascii():
            found = self._unaccented().get(term)
        return found

    def _unaccented(self) -> dict[str, int]:
        """The ids of the terms with accents, by their unaccented spelling (built on first need, once)."""
        if self._folded is None:
            self._folded = {fold(t): i for t, i in self.ids.items() if not t.isascii()}
        return self._folded

    def extended(self, terms: Iterable[str]) -> Vocabulary:
        """This vocabulary with those of `terms` it lacks appended (sorted, so every process numbers them alike)."""
        return self.appended(sorted({term for term in terms if term not in self.ids}))


def indexable(term: str) -> bool:
    """Whether the index could ever hold `term` (a stem): bm25s keeps runs of two or more word characters that are
    not its English stop words, so "7", "b", "2.0" and "no" it never holds, and their rarity says nothing."""
    return bool(_TOKEN.fullmatch(term)) and term not in bm25s.stopwords.STOPWORDS_EN


@dataclass(frozen=True)
class Postings:
    """One segment's chunks: for each term id below `len(indptr) - 1` the rows holding it and how often; each row's length."""

    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @property
    def size(self) -> int:
        """Number of rows (chunks)."""
        return len(self.lengths)

    @classmethod
    def build(cls, texts: list[str], vocabulary: Vocabulary) -> tuple[Postings, Vocabulary]:
        """Tokenize the chunk texts (rows in this order) and count their terms; the vocabulary grown by their new terms."""
        tokens = bm25s.tokenize(texts, stopwords=LANGUAGE, stemmer=_STEMMER, show_progress=False)
        local = [""] * len(tokens.vocab)
        for term, index in tokens.vocab.items():
            local[index] = term
        vocabulary = vocabulary.extended(local)
        to_global = np.asarray([vocabulary.ids[term] for term in local], dtype=np.int64)
        lengths = np.asarray([len(ids) for ids in tokens.ids], dtype=np.int32)
        flat = np.fromiter(chain.from_iterable(tokens.ids), dtype=np.int64, count=int(lengths.sum()))
        documents = max(len(texts), 1)
        # One key per (term, row): sorted unique keys come out in column (term) order, rows ascending in each.
        keys, tf = np.unique(to_global[flat] * documents + np.repeat(np.arange(len(texts)), lengths), return_counts=True)
        terms = keys // documents
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(vocabulary)), out=indptr[1:])
        return cls(indptr, (keys % documents).astype(np.int32), tf.astype(np.float32), lengths), vocabulary

    def save(self, folder: Path) -> None:
        """Write into `folder` (a segment's folder, written once)."""
        for name, array in zip(POSTINGS_FILES, (self.indptr, self.rows, self.tf, self.lengths)):
            np.save(folder / name, array)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """Open saved postings, memory-mapped: a search reads only the pages of the terms it asks for (the chunk lengths,
        which the index reads whole, are read into memory). Held as plain arrays over the maps: slicing a `np.memmap`
        costs a third of a small index's search in the subclass's bookkeeping."""
        indptr, rows, tf, lengths = POSTINGS_FILES
        mapped = (np.asarray(np.load(folder / name, mmap_mode="r")) for name in (indptr, rows, tf))
        return cls(*mapped, np.load(folder / lengths))

    @classmethod
    def merge(cls, parts: list[Postings], kept: list[np.ndarray], folder: Path, terms: int) -> Postings:
        """Write into `folder` the postings of the `kept` rows (a boolean array per part) of `parts`, renumbered in order,
        each term's rows from the parts in order; then open them memory-mapped. Written in order, a range of terms at
        a time gathered from every part, so memory stays near one range's postings whatever the index's size."""
        counts = np.zeros(terms, dtype=np.int64)
        for part, keep in zip(parts, kept):
            for first, last in _ranges(part.indptr):
                counts[first:last] += np.bincount(_kept(part, keep, first, last)[0], minlength=last - first)
        indptr = np.zeros(terms + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        bases = np.cumsum([0, *(int(keep.sum()) for keep in kept)])
        renumbers = [np.cumsum(keep, dtype=np.int64) - 1 + base for keep, base in zip(kept, bases)]
        with (folder / "rows.npy").open("wb") as rows_file, (folder / "tf.npy").open("wb") as tf_file:
            for handle, kind in ((rows_file, "<i4"), (tf_file, "<f4")):
                np.lib.format.write_array_header_1_0(handle, {"descr": kind, "fortran_order": False, "shape": (int(indptr[-1]),)})
            for first, last in _ranges(indptr):
                rows = np.empty(int(indptr[last] - indptr[first]), dtype=np.int32)
                tf = np.empty(len(rows), dtype=np.float32)
                cursor = indptr[first:last] - indptr[first]
                for part, keep, renumber in zip(parts, kept, renumbers):
                    found, part_rows, part_tf = _kept(part, keep, first, last)
                    # Postings come in term order: each goes to its term's cursor plus its rank among the same term.
                    place = cursor[found] + np.arange(len(found)) - np.searchsorted(found, found)
                    rows[place], tf[place] = renumber[part_rows], part_tf
                    cursor += np.bincount(found, minlength=last - first)
                rows.tofile(rows_file)
                tf.tofile(tf_file)
        np.save(folder / "indptr.npy", indptr)
        lengths = np.concatenate([np.zeros(0, dtype=np.int32), *(part.lengths[keep] for part, keep in zip(parts, kept))])
        np.save(folder / "lengths.npy", lengths.astype(np.int32))
        return cls.load(folder)


MERGE_BLOCK = 1 << 22
"""Postings gathered at a time when segments are merged."""


def _ranges(indptr: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of terms (first, last excluded) holding about `MERGE_BLOCK` postings each (or one term)."""
    first, terms = 0, len(indptr) - 1
    while first < terms:
        last = min(terms, max(first + 1, int(np.searchsorted(indptr, indptr[first] + MERGE_BLOCK, side="right")) - 1))
        yield first, last
        first = last


def _kept(part: Postings, keep: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terms (numbered from `first`), rows and term frequencies of one segment's postings of kept rows, for the terms
    `first` to `last` (excluded), in term order."""
    own = len(part.indptr) - 1
    if first >= own:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    start, end = int(part.indptr[first]), int(part.indptr[min(last, own)])
    terms = np.searchsorted(part.indptr, np.arange(start, end), side="right") - 1 - first
    rows, tf = np.asarray(part.rows[start:end]), np.asarray(part.tf[start:end])
    if keep.all():
        return terms, rows, tf
    chosen = keep[rows]
    return terms[chosen], rows[chosen], tf[chosen]


class Bm25Index:
    """BM25 over segments' postings, rows numbered across the segments in order; dead rows (chunks of replaced or
    removed papers) neither match nor count in the statistics."""

    def __init__(self, vocabulary: Vocabulary, parts: list[Postings], dead: np.ndarray | None = None) -> None:
        self.vocabulary = vocabulary
        self.parts = parts
        self.bases = np.cumsum([0, *(part.size for part in parts)]).tolist()
        lengths = np.concatenate([part.lengths for part in parts]) if parts else np.zeros(0, dtype=np.int32)
        self._alive = None if dead is None or not dead.any() else ~dead
        self._dead_rows = None if self._alive is None else np.flatnonzero(dead)
        live = lengths if self._alive is None else lengths[self._alive]
        self.documents = len(live)
        average = float(live.sum(dtype=np.int64)) / self.documents if self.documents else 1.0
        # The length part of each row's BM25 denominator, for the live chunks' average length (own code: see above).
        self._norm = (K1 * (1 - B + B * lengths / average)).astype(np.float32)
        self._frequency: dict[int, int] = {}
        self._kept: dict[int, list[tuple[np.ndarray | slice, np.ndarray]]] = {}
        self._kept_size = 0
        self._dense_size = 0
        self._keeping = threading.Lock()

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores, best first, of the chunks matching `query` that score at least the `k`-th best (so every
        chunk tied at the cut is there: the caller orders ties); with a `mask`, only rows it weighs above zero."""
        scores = np.zeros(len(self._norm), dtype=np.float32)
        for term in self._query_terms(query):
            for rows, found in self._scores(term):  # each row once a term: the order of sums is the query's
                if isinstance(rows, slice):
                    scores += found
                else:
                    np.add.at(scores, rows, found)
        if self._dead_rows is not None:
            scores[self._dead_rows] = 0
        if mask is not None:
            scores *= mask
        found = _best(scores, k)
        order = np.argsort(-scores[found], kind="stable")
        return found[order], scores[found][order]

    def _scores(self, term: int) -> list[tuple[np.ndarray | slice, np.ndarray]]:
        """Each segment's rows holding `term` (numbered in the whole index) and their BM25 scores. A common term's are
        kept for the next question: they change only with the statistics, and a write makes a new index; a term held
        by a quarter of the chunks or more is kept as one score per chunk (zero where absent), added whole. Own code:
        at 300,000 papers a question's terms hold 1.9 million chunks; computing their scores was half of BM25's time,
        and adding the commonest terms' row by row most of the rest (a whole array adds 1.1 million in 0.24 ms)."""
        kept = self._kept.get(term)
        if kept is not None:
            return kept
        weight = np.float32(self._idf(term))
        computed: list[tuple[np.ndarray | slice, np.ndarray]] = []
        for part, base in zip(self.parts, self.bases):
            if term + 1 >= len(part.indptr) or part.indptr[term] == part.indptr[term + 1]:
                continue
            start, end = int(part.indptr[term]), int(part.indptr[term + 1])
            rows = part.rows[start:end] + base if base else part.rows[start:end]
            tf = part.tf[start:end]
            found = self._norm[rows]  # weight * tf / (tf + norm), in place: a third less time than one expression
            found += tf
            np.divide(tf, found, out=found)
            found *= weight
            computed.append((rows, found))
        held = sum(found.size for _, found in computed)
        size = sum(found.size + (rows.size if rows.base is None else 0) for rows, found in computed)  # new arrays only
        if size < KEEP_FROM:
            return computed
        with self._keeping:  # searches run in threads side by side: one changes the kept scores at a time
            if held * DENSE_SHARE >= len(self._norm) and self._dense_size + len(self._norm) <= KEEP_AT_MOST:
                dense = np.zeros(len(self._norm), dtype=np.float32)
                for rows, found in computed:
                    dense[rows] = found
                self._kept[term] = [(slice(None), dense)]
                self._dense_size += len(self._norm)
                return computed
            if self._kept_size + size > KEEP_AT_MOST:
                self._kept = {t: kept for t, kept in self._kept.items() if isinstance(kept[0][0], slice)}
                self._kept_size = 0
            self._kept[term] = computed
            self._kept_size += size
        return computed

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (BM25's smoothed form) among the live chunks: rare terms weigh more."""
        index = self.vocabulary.find(term)
        return self._idf(index) if index is not None else _idf(self.documents, 0)

    def _idf(self, term: int) -> float:
        if term not in self._frequency:
            self._frequency[term] = self._count(term)
        return _idf(self.documents, self._frequency[term])

    def _count(self, term: int) -> int:
        """How many live chunks hold the term."""
        count = 0
        for part, base in zip(self.parts, self.bases):
            if term + 1 < len(part.indptr):
                start, end = int(part.indptr[term]), int(part.indptr[term + 1])
                count += end - start if self._alive is None else int(self._alive[part.rows[start:end] + base].sum())
        return count

    def _query_terms(self, query: str) -> list[int]:
        """The query's stemmed terms known to the index, by id, in order (a repeated term counts each time)."""
        tokens = bm25s.tokenize(query, stemmer=_STEMMER, show_progress=False)
        stems = {index: term for term, index in tokens.vocab.items()}
        return [known for index in tokens.ids[0] if (known := self.vocabulary.find(stems[index])) is not None]


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows scoring above zero and at least the `k`-th best score (every row tied at the cut included).

    Own code: the `k`-th best score of every 16th row is at most the `k`-th best of all, so only the rows at or above
    it are partitioned; partitioning every matching row took 2.7 ms at 380,000 chunks, this 0.3 ms, same rows."""
    sample = scores[::SAMPLE_STRIDE]
    bound = np.partition(sample, len(sample) - k)[len(sample) - k] if len(sample) > k else 0
    found = np.flatnonzero(scores >= bound) if bound > 0 else np.flatnonzero(scores > 0)
    if len(found) > k:
        cut = np.partition(scores[found], len(found) - k)[len(found) - k]
        found = found[scores[found] >= cut]
    return found


def _idf(documents: int, frequency: int) -> float:
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
