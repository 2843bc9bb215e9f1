"""The papers the store holds, rebuilt from their chunks: what sources and front-end listings are made of."""

from __future__ import annotations

import json
from collections import defaultdict

from .chunk import labels
from .types import Paper


def from_chunks(chunks: list[dict]) -> dict[str, Paper]:
    """Every paper by id, its abstract rebuilt from its chunks (llama-index metadata dicts, in any order)."""
    parts: dict[str, list[tuple[int, dict, dict]]] = defaultdict(list)
    for entry in chunks:
        parts[entry["paper_id"]].append((int(entry["chunk_index"]), json.loads(entry["_node_content"]), entry))
    papers = {}
    for paper_id, pieces in parts.items():
        pieces.sort(key=lambda item: item[0])
        meta = pieces[0][2]
        papers[paper_id] = Paper(
            paper_id=paper_id,
            title=meta["title"],
            abstract=_join([content for _, content, _ in pieces]),
            **labels(meta),
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
