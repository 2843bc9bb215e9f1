"""Synthetic corpora for the benchmark: seed chunks recombined into new papers, vectors derived from the real ones.

No model is called, so the store and BM25 can be measured at 100,000 papers in minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from llama_index.core.schema import TextNode

from ..chunk import chunk_id
from ..text import split_sentences

DONOR_WEIGHT = 0.25
NOISE = 0.02


def seed_papers(nodes: list[TextNode]) -> list[list[TextNode]]:
    """The seed chunks grouped by paper, in chunk order, papers in a stable order."""
    papers: dict[str, list[TextNode]] = defaultdict(list)
    for node in nodes:
        papers[node.metadata["paper_id"]].append(node)
    return [sorted(papers[key], key=lambda n: n.metadata["chunk_index"]) for key in sorted(papers)]


def synthetic_papers(
    seeds: list[list[TextNode]], count: int, max_chunks: int | None = None, seed: int = 0
) -> Iterator[list[TextNode]]:
    """The chunks of `count` papers: a template paper (its first `max_chunks` chunks) whose first sentence
    per chunk comes from a donor paper.

    Each vector is the template chunk's real vector moved a quarter towards the donor's, plus a little
    noise, then normalised: neighbours stay meaningful while no two papers share a vector.
    """
    rng = np.random.default_rng(seed)
    for index in range(count):
        template = seeds[index % len(seeds)][:max_chunks]
        donor = seeds[int(rng.integers(len(seeds)))]
        paper_id = f"synthetic{index:07d}"
        title = f"{template[0].metadata['title']} (variant {index})"
        chunks = []
        start = 0
        for position, node in enumerate(template):
            other = donor[min(position, len(donor) - 1)]
            sentences = split_sentences(node.get_content())
            donor_first = split_sentences(other.get_content())[0]
            text = "".join([donor_first.rstrip() + " ", *sentences[1:]]) if len(sentences) > 1 else node.get_content()
            vector = (1 - DONOR_WEIGHT) * np.asarray(node.embedding) + DONOR_WEIGHT * np.asarray(other.embedding)
            vector = vector + rng.normal(0.0, NOISE, vector.shape)
            metadata = {
                **node.metadata,
                "paper_id": paper_id,
                "title": title,
                "content_hash": "synthetic",
                "sources": ["synthetic"],
                "n_chunks": len(template),
            }
            chunks.append(
                TextNode(
                    id_=chunk_id(paper_id, position),
                    text=text,
                    metadata=metadata,
                    excluded_embed_metadata_keys=node.excluded_embed_metadata_keys,
                    excluded_llm_metadata_keys=node.excluded_llm_metadata_keys,
                    embedding=(vector / np.linalg.norm(vector)).tolist(),
                    start_char_idx=start,
                    end_char_idx=start + len(text),
                )
            )
            start += len(text) + 1
        yield chunks
