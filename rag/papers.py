"""The catalog: the papers the store holds, rebuilt from their chunks, and which indexed chunk belongs to which.

Saved beside the BM25 index and opened memory-mapped: a search materializes only the few papers it
returns, so a cold start does not parse 100,000 abstracts.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunk import join_chunks
from .store import Row
from .types import Paper

PAPERS_FILE = "papers.jsonl"
ARRAYS_FILE = "catalog.npz"
IDS_FILE = "catalog.json"


@dataclass
class Catalog:
    """Papers by position; for every indexed chunk (BM25 row) its paper's position and its chunk index."""

    paper_ids: list[str]
    n_chunks: np.ndarray
    chunk_paper: np.ndarray
    chunk_index: np.ndarray
    dates: dict[str, list[int]]
    _records: bytes | mmap.mmap
    _offsets: np.ndarray

    def __post_init__(self) -> None:
        self.position = {paper_id: index for index, paper_id in enumerate(self.paper_ids)}

    def __len__(self) -> int:
        return len(self.paper_ids)

    def paper(self, position: int) -> Paper:
        """The paper at `position`, parsed from its record only now."""
        start, end = int(self._offsets[position]), int(self._offsets[position + 1])
        return Paper.model_validate_json(self._records[start:end])

    def get(self, paper_id: str) -> Paper | None:
        """The paper with this id, or None."""
        position = self.position.get(paper_id)
        return None if position is None else self.paper(position)

    def papers(self) -> Iterator[Paper]:
        """Every paper, in catalog order."""
        return (self.paper(position) for position in range(len(self)))

    def row_mask(self, dates: list[str]) -> np.ndarray:
        """1.0 for each indexed chunk of a paper listed on any of `dates`, else 0.0."""
        listed = np.zeros(len(self), dtype=bool)
        for date in dates:
            listed[self.dates.get(date, [])] = True
        return listed[self.chunk_paper].astype(np.float32)

    @classmethod
    def build(cls, batches: Iterable[list[Row]], title_prefix: bool) -> tuple[Catalog, list[str]]:
        """The catalog of every complete paper in the store's rows, and the text each of its chunks is indexed by.

        Chunks left over from an interrupted replacement (another version, or beyond the paper's count) are
        skipped, as are papers missing a chunk: what is searched is always one whole version of a paper."""
        from .chunk import embed_text

        chunks: dict[str, dict[int, Row]] = {}
        for batch in batches:
            for row in batch:
                chunks.setdefault(row.metadata["paper_id"], {})[int(row.metadata["chunk_index"])] = row
        paper_ids, n_chunks, chunk_paper, chunk_index, texts, records = [], [], [], [], [], []
        dates: dict[str, list[int]] = {}
        for paper_id in sorted(chunks):
            parts = chunks[paper_id]
            first = parts.get(0)
            if first is None:
                continue
            count, version = int(first.metadata["n_chunks"]), first.metadata["content_hash"]
            ordered = [parts.get(index) for index in range(count)]
            if any(row is None or row.metadata["content_hash"] != version for row in ordered):
                continue
            paper = Paper(
                **{key: first.metadata[key] for key in Paper.model_fields if key in first.metadata},
                abstract=join_chunks([(int(row.metadata["start"]), row.text) for row in ordered]),
            )
            position = len(paper_ids)
            paper_ids.append(paper_id)
            n_chunks.append(count)
            for date in paper.dates:
                dates.setdefault(date, []).append(position)
            for index, row in enumerate(ordered):
                chunk_paper.append(position)
                chunk_index.append(index)
                texts.append(embed_text(paper.title, row.text, title_prefix))
            records.append(paper.model_dump_json().encode("utf-8"))
        offsets = np.cumsum([0, *map(len, records)], dtype=np.int64)
        catalog = cls(
            paper_ids,
            np.asarray(n_chunks, dtype=np.int32),
            np.asarray(chunk_paper, dtype=np.int32),
            np.asarray(chunk_index, dtype=np.int32),
            dates,
            b"".join(records),
            offsets,
        )
        return catalog, texts

    def save(self, folder: Path) -> None:
        """Write into `folder` (a staging folder the caller swaps in)."""
        (folder / PAPERS_FILE).write_bytes(bytes(self._records))
        np.savez(
            folder / ARRAYS_FILE,
            n_chunks=self.n_chunks,
            chunk_paper=self.chunk_paper,
            chunk_index=self.chunk_index,
            offsets=self._offsets,
        )
        (folder / IDS_FILE).write_text(json.dumps({"paper_ids": self.paper_ids, "dates": self.dates}))

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        """Open a saved catalog; paper records stay on disk (memory-mapped) until asked for."""
        ids = json.loads((folder / IDS_FILE).read_text())
        arrays = np.load(folder / ARRAYS_FILE)
        with (folder / PAPERS_FILE).open("rb") as handle:
            records: bytes | mmap.mmap = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if handle.seek(0, 2) else b""
            )
        return cls(
            ids["paper_ids"],
            arrays["n_chunks"],
            arrays["chunk_paper"],
            arrays["chunk_index"],
            ids["dates"],
            records,
            arrays["offsets"],
        )
