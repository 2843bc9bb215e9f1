"""The catalog: the papers the search covers, in parts (one per index segment), and which indexed chunk is whose.

A part holds the papers written or rewritten since the part before it, and names those removed since. A paper's
latest part holds its live version; its rows in earlier parts are dead. Records stay on disk (memory-mapped) until a
search returns their paper, so a cold start parses no abstract.
"""

from __future__ import annotations

import bisect
import json
import mmap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .chunk import join_chunks
from .store import Row
from .types import Paper

RECORDS_FILE = "papers.jsonl"
LIST_FILE = "papers.json"
ARRAYS = ("offsets", "n_chunks", "chunk_paper", "chunk_index")
PART_FILES = (RECORDS_FILE, LIST_FILE, *(f"{name}.npy" for name in ARRAYS))
COPY_PIECE = 1 << 20


def whole_papers(batches: Iterable[list[Row]]) -> Iterator[tuple[Paper, list[Row]]]:
    """Each paper of the store's rows that is whole, with its chunks in order, as soon as its last chunk is read.

    Chunks left over from an interrupted replacement (another version, or beyond the paper's count) are skipped, as
    are papers missing a chunk: what is searched is always one whole version of a paper."""
    pending: dict[str, dict[int, Row]] = {}
    for batch in batches:
        for row in batch:
            parts = pending.setdefault(row.metadata["paper_id"], {})
            parts[int(row.metadata["chunk_index"])] = row
            ordered = _ordered(parts)
            if ordered is not None:
                del pending[row.metadata["paper_id"]]
                yield _paper(ordered), ordered


def _ordered(parts: dict[int, Row]) -> list[Row] | None:
    """A paper's chunks 0..n-1 of the version of its chunk 0, once all are there."""
    first = parts.get(0)
    if first is None or len(parts) < int(first.metadata["n_chunks"]):
        return None
    ordered = [parts.get(index) for index in range(int(first.metadata["n_chunks"]))]
    if any(row is None or row.metadata["content_hash"] != first.metadata["content_hash"] for row in ordered):
        return None
    return ordered  # type: ignore[return-value]


def _paper(rows: list[Row]) -> Paper:
    first = rows[0].metadata
    return Paper(
        **{key: first[key] for key in Paper.model_fields if key in first},
        abstract=join_chunks([(int(row.metadata["start"]), row.text) for row in rows]),
    )


@dataclass(frozen=True)
class Part:
    """Papers by local position, each with its record; for each of its rows (chunks, in paper order) the paper and index."""

    paper_ids: list[str]
    n_chunks: np.ndarray
    chunk_paper: np.ndarray
    chunk_index: np.ndarray
    dates: dict[str, list[int]]
    records: bytes | mmap.mmap
    offsets: np.ndarray
    removed: list[str] = field(default_factory=list)
    """Ids of papers removed since the part before (absent from this part and every one before it from now on)."""
    folder: Path | None = None
    """Where it was saved (a merge reads its records from there, not through the memory map)."""

    @property
    def rows(self) -> int:
        return len(self.chunk_paper)

    def paper(self, index: int) -> Paper:
        """The paper at local `index`, parsed from its record only now."""
        return Paper.model_validate_json(self.records[int(self.offsets[index]) : int(self.offsets[index + 1])])

    @classmethod
    def build(cls, papers: list[tuple[Paper, int]], removed: Iterable[str] = ()) -> Part:
        """The part of these papers, each with its number of chunks (its rows, in this order)."""
        dates: dict[str, list[int]] = {}
        for index, (paper, _) in enumerate(papers):
            for date in paper.dates:
                dates.setdefault(date, []).append(index)
        records = [paper.model_dump_json().encode("utf-8") for paper, _ in papers]
        counts = np.asarray([count for _, count in papers], dtype=np.int32)
        return cls(
            [paper.paper_id for paper, _ in papers],
            counts,
            np.repeat(np.arange(len(papers), dtype=np.int32), counts),
            np.concatenate([np.zeros(0, dtype=np.int32), *(np.arange(count, dtype=np.int32) for count in counts)]),
            dates,
            b"".join(records),
            np.cumsum([0, *map(len, records)], dtype=np.int64),
            sorted(set(removed)),
        )

    def save(self, folder: Path) -> None:
        """Write into `folder` (a segment's folder, written once)."""
        (folder / RECORDS_FILE).write_bytes(bytes(self.records))
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        listing = {"paper_ids": self.paper_ids, "dates": self.dates, "removed": self.removed}
        (folder / LIST_FILE).write_text(json.dumps(listing), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Part:
        """Open a saved part: records stay on disk (memory-mapped) until read; the per-paper and per-row arrays are read
        whole (the catalog copies them anyway, and each mapping would hold a file descriptor open)."""
        listing = json.loads((folder / LIST_FILE).read_text(encoding="utf-8"))
        with (folder / RECORDS_FILE).open("rb") as handle:
            size = handle.seek(0, 2)
            records: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        arrays = {name: np.load(folder / f"{name}.npy") for name in ARRAYS}
        return cls(listing["paper_ids"], dates=listing["dates"], records=records, removed=listing["removed"], folder=folder, **arrays)

    @classmethod
    def merge(cls, parts: list[Part], live: list[np.ndarray], folder: Path, removed: Iterable[str] = ()) -> Part:
        """Write into `folder` the `live` papers (a boolean array per part) of `parts` as one part, in order, naming
        `removed` as removed before it; then open it."""
        paper_ids: list[str] = []
        dates: dict[str, list[int]] = {}
        sizes: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        counts: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
        with (folder / RECORDS_FILE).open("wb") as records:
            for part, keep in zip(parts, live):
                offsets = np.asarray(part.offsets)
                renumber = np.cumsum(keep) - 1 + len(paper_ids)
                for date, indexes in part.dates.items():
                    kept = [index for index in indexes if keep[index]]
                    if kept:
                        dates.setdefault(date, []).extend(renumber[kept].tolist())
                _copy_records(part, [(int(offsets[first]), int(offsets[last + 1])) for first, last in _runs(np.flatnonzero(keep))], records)
                paper_ids.extend(paper_id for paper_id, alive in zip(part.paper_ids, keep) if alive)
                sizes.append(np.diff(offsets)[keep])
                counts.append(np.asarray(part.n_chunks)[keep])
        n_chunks = np.concatenate(counts).astype(np.int32)
        starts = np.repeat(np.cumsum(n_chunks) - n_chunks, n_chunks)
        np.save(folder / "offsets.npy", np.concatenate([[0], np.cumsum(np.concatenate(sizes))]).astype(np.int64))
        np.save(folder / "n_chunks.npy", n_chunks)
        np.save(folder / "chunk_paper.npy", np.repeat(np.arange(len(n_chunks), dtype=np.int32), n_chunks))
        np.save(folder / "chunk_index.npy", (np.arange(len(starts)) - starts).astype(np.int32))
        (folder / LIST_FILE).write_text(json.dumps({"paper_ids": paper_ids, "dates": dates, "removed": sorted(set(removed))}), encoding="utf-8")
        return cls.load(folder)


def _copy_records(part: Part, spans: list[tuple[int, int]], out: BinaryIO) -> None:
    """Append the records' bytes of `spans` (start, end) to `out`: read from the part's file when it has one, so a
    merge does not keep the whole catalog's pages in the process's memory."""
    if part.folder is None:
        for start, end in spans:
            out.write(part.records[start:end])
        return
    with (part.folder / RECORDS_FILE).open("rb") as source:
        for start, end in spans:
            source.seek(start)
            while start < end:
                piece = source.read(min(COPY_PIECE, end - start))
                out.write(piece)
                start += len(piece)


def _runs(indexes: np.ndarray) -> Iterator[tuple[int, int]]:
    """First and last of each run of consecutive numbers in sorted `indexes`."""
    if not len(indexes):
        return
    breaks = np.flatnonzero(np.diff(indexes) != 1)
    yield from zip(indexes[np.concatenate([[0], breaks + 1])].tolist(), indexes[np.concatenate([breaks, [len(indexes) - 1]])].tolist())


class Catalog:
    """The papers of parts in order, positions numbered across them, and each live paper's latest position; for every
    row (numbered across the parts likewise) its paper's position and its chunk index."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts: list[Part] = []
        self.paper_ids: list[str] = []
        self.position: dict[str, int] = {}
        self.dates: dict[str, list[int]] = {}
        self._starts: list[int] = []
        self.n_chunks = np.zeros(0, dtype=np.int32)
        self.first_row = np.zeros(0, dtype=np.int64)
        self.chunk_paper = np.zeros(0, dtype=np.int32)
        self.chunk_index = np.zeros(0, dtype=np.int32)
        self.dead = np.zeros(0, dtype=bool)
        """True for each row of a paper replaced or removed in a later part."""
        self._add(parts)

    def extended(self, parts: list[Part]) -> Catalog:
        """A new catalog of this one's parts and then `parts`; this one is left as it is (questions may be using it).
        Costs copies of its arrays and mappings (memory speed), and work in proportion to the new parts only."""
        grown = Catalog.__new__(Catalog)
        grown.parts, grown.paper_ids, grown._starts = list(self.parts), list(self.paper_ids), list(self._starts)
        grown.position, grown.dates = dict(self.position), dict(self.dates)
        grown.n_chunks, grown.first_row = self.n_chunks, self.first_row
        grown.chunk_paper, grown.chunk_index, grown.dead = self.chunk_paper, self.chunk_index, self.dead.copy()
        grown._add(parts)
        return grown

    def _add(self, parts: list[Part]) -> None:
        if not parts:
            return
        rows, papers = len(self.chunk_paper), len(self.paper_ids)
        firsts, owners, indexes, counts = [self.first_row], [self.chunk_paper], [self.chunk_index], [self.n_chunks]
        for part in parts:
            part_counts = np.asarray(part.n_chunks)
            firsts.append(rows + np.cumsum(part_counts, dtype=np.int64) - part_counts)
            owners.append(np.asarray(part.chunk_paper) + np.int32(papers))
            indexes.append(np.asarray(part.chunk_index))
            counts.append(part_counts)
            rows, papers = rows + part.rows, papers + len(part.paper_ids)
        self.first_row, self.chunk_paper = np.concatenate(firsts), np.concatenate(owners)
        self.chunk_index, self.n_chunks = np.concatenate(indexes), np.concatenate(counts)
        self.dead = np.concatenate([self.dead, np.zeros(rows - len(self.dead), dtype=bool)])
        for part in parts:
            for paper_id in [*part.paper_ids, *part.removed]:
                self._retire(paper_id)
            base = len(self.paper_ids)
            self.parts.append(part)
            self._starts.append(base)
            self.paper_ids.extend(part.paper_ids)
            self.position.update((paper_id, base + index) for index, paper_id in enumerate(part.paper_ids))
            for date, local in part.dates.items():
                self.dates[date] = [*self.dates.get(date, []), *(base + index for index in local)]

    def _retire(self, paper_id: str) -> None:
        """Mark the live version of a paper dead (rows and dates), when there is one."""
        position = self.position.pop(paper_id, None)
        if position is None:
            return
        first = int(self.first_row[position])
        self.dead[first : first + int(self.n_chunks[position])] = True
        for date in self.paper(position).dates:
            self.dates[date] = [other for other in self.dates.get(date, []) if other != position]
            if not self.dates[date]:
                del self.dates[date]

    def __len__(self) -> int:
        """Number of live papers."""
        return len(self.position)

    def paper(self, position: int) -> Paper:
        """The paper at `position`, parsed from its record only now."""
        index = bisect.bisect_right(self._starts, position) - 1
        return self.parts[index].paper(position - self._starts[index])

    def get(self, paper_id: str) -> Paper | None:
        """The live paper with this id, or None."""
        position = self.position.get(paper_id)
        return None if position is None else self.paper(position)

    def papers(self) -> Iterator[Paper]:
        """Every live paper."""
        return (self.paper(position) for position in sorted(self.position.values()))

    def indexed(self) -> list[tuple[str, int]]:
        """(paper id, chunk index) of every live row: what the search covers."""
        live = np.flatnonzero(~self.dead)
        return [(self.paper_ids[paper], int(index)) for paper, index in zip(self.chunk_paper[live].tolist(), self.chunk_index[live])]

    def row_mask(self, dates: list[str]) -> np.ndarray:
        """1.0 for each row of a live paper listed on any of `dates`, else 0.0."""
        listed = np.zeros(len(self.paper_ids), dtype=bool)
        for date in dates:
            listed[self.dates.get(date, [])] = True
        return listed[self.chunk_paper].astype(np.float32)
