"""Synthetic corpora for the benchmark: seed chunks recombined into new papers, vectors derived from the real ones.

No model is called, so the store and BM25 can be measured at 100,000 papers with every chunk in minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from ..chunk import chunk_id
from ..store import Row, Store
from ..text import split_sentences

DONOR_WEIGHT = 0.25
NOISE = 0.02
SeedPaper = list[tuple[Row, np.ndarray]]


def seed_papers(store: Store) -> list[SeedPaper]:
    """The seed store's chunks with their vectors, grouped by paper in chunk order, papers in a stable order."""
    rows = [row for batch in store.rows() for row in batch]
    vectors = store.vectors([row.chunk_id for row in rows])
    papers: dict[str, SeedPaper] = defaultdict(list)
    for row, vector in zip(rows, vectors):
        papers[row.metadata["paper_id"]].append((row, vector))
    return [sorted(papers[key], key=lambda item: item[0].metadata["chunk_index"]) for key in sorted(papers)]


def synthetic_papers(seeds: list[SeedPaper], count: int, seed: int = 0, start: int = 0) -> Iterator[tuple[list[Row], np.ndarray]]:
    """The rows and vectors of `count` papers numbered from `start`, each a template seed paper (every chunk) whose
    first sentence per chunk comes from a donor paper.

    Each vector is the template chunk's real vector moved a quarter towards the donor's, plus a little
    noise, then normalised: neighbours stay meaningful while no two papers share a vector.
    """
    rng = np.random.default_rng(seed)
    for index in range(start, start + count):
        template = seeds[index % len(seeds)]
        donor = seeds[int(rng.integers(len(seeds)))]
        paper_id = f"synthetic{index:07d}"
        title = f"{template[0][0].metadata['title']} (variant {index})"
        rows, vectors, start = [], [], 0
        for position, (row, vector) in enumerate(template):
            other, other_vector = donor[min(position, len(donor) - 1)]
            sentences = split_sentences(row.text)
            donor_first = split_sentences(other.text)[0]
            text = "".join([donor_first.rstrip() + " ", *sentences[1:]]) if len(sentences) > 1 else row.text
            mixed = (1 - DONOR_WEIGHT) * vector + DONOR_WEIGHT * other_vector + rng.normal(0.0, NOISE, vector.shape)
            metadata = {
                **row.metadata,
                "paper_id": paper_id,
                "title": title,
                "content_hash": "synthetic",
                "sources": ["synthetic"],
                "n_chunks": len(template),
                "start": start,
            }
            rows.append(Row(chunk_id(paper_id, position), text, metadata))
            vectors.append(mixed / np.linalg.norm(mixed))
            start += len(text) + 1
        yield rows, np.asarray(vectors, dtype=np.float32)
