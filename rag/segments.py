"""The search index on disk: segments (a catalog part and its BM25 postings) listed by a manifest, every file checksummed.

Under PAPERTRAIL_HOME/index/<collection>/, `manifest.json` names the store generation the index was brought up to
and its segments in order, each file with its SHA-256. A segment's folder never changes once listed: a write appends
a segment of the papers it changed, a merge writes one segment in place of several, and folders no manifest lists
are then deleted. A file that does not match its checksum raises `Damaged` when it is opened, so a garbled catalog
is rebuilt from the store rather than searched or quoted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import POSTINGS_FILES, Postings
from .papers import PART_FILES, Part

MANIFEST = "manifest.json"
LOCK = "index.lock"
TERMS_FILE = "terms.json"
VECTORS_FILE = "vectors.npy"
"""In a segment of recent writes to an embedded store: its rows' vectors, searched by processes whose loaded copy of
Chroma's vector index predates them (rag/retrieve.py's `Recent`)."""
SEGMENT_FILES = (*PART_FILES, *POSTINGS_FILES, TERMS_FILE)
FORMAT = 3
"""Changes when the layout changes: an index of another format is rebuilt."""


class Damaged(Exception):
    """An index file is missing, unreadable or does not match its checksum."""


@dataclass(frozen=True)
class Segment:
    """One saved (or caught-up, in memory) slice of the index: its papers, their postings, the terms it added."""

    name: str
    part: Part
    postings: Postings
    terms: list[str]
    """Terms this segment added to the vocabulary, in id order, from `first_term` on."""
    first_term: int
    since: int
    until: int
    """The store generations it covers: the papers changed after `since`, as they were at `until`."""
    vectors: np.ndarray | None = None
    """Its rows' vectors, kept for segments of recent writes to an embedded store."""


@dataclass
class Manifest:
    """The store generation the saved index reached, and its segments in order (name, first term, file checksums)."""

    generation: int
    segments: list[dict[str, Any]] = field(default_factory=list)
    next: int = 0

    @property
    def names(self) -> list[str]:
        return [entry["name"] for entry in self.segments]


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest, or None when there is none (or of another format); `Damaged` when it cannot be read."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        body = saved["body"]
        if saved["sha256"] != _digest(json.dumps(body, sort_keys=True).encode("utf-8")):
            raise Damaged(f"{path} does not match its checksum")
        if body["format"] != FORMAT:
            return None
        return Manifest(int(body["generation"]), list(body["segments"]), int(body["next"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise Damaged(f"{path} cannot be read: {err}") from None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest whole (written beside it and renamed), so a reader sees the old one or the new one."""
    body = {"format": FORMAT, "generation": manifest.generation, "segments": manifest.segments, "next": manifest.next}
    text = json.dumps({"body": body, "sha256": _digest(json.dumps(body, sort_keys=True).encode("utf-8"))})
    partial = folder / (MANIFEST + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, folder / MANIFEST)


def open_segment(folder: Path, entry: dict[str, Any]) -> Segment:
    """A listed segment, every file checked against its checksum first; `Damaged` when one is missing or differs."""
    path = folder / entry["name"]
    for name in {*SEGMENT_FILES, *entry["files"]}:
        try:
            with (path / name).open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as err:
            raise Damaged(f"{path / name} cannot be read: {err}") from None
        if digest != entry["files"].get(name):
            raise Damaged(f"{path / name} does not match its checksum")
    try:
        terms = json.loads((path / TERMS_FILE).read_text(encoding="utf-8"))
        vectors = np.load(path / VECTORS_FILE, mmap_mode="r") if VECTORS_FILE in entry["files"] else None
        first, since, until = int(entry["first_term"]), int(entry["since"]), int(entry["until"])
        return Segment(entry["name"], Part.load(path), Postings.load(path), terms, first, since, until, vectors)
    except (OSError, ValueError, KeyError) as err:
        raise Damaged(f"{path} cannot be opened: {err}") from None


def read_terms(folder: Path, entry: dict[str, Any]) -> list[str]:
    """Only the terms a listed segment added (checked against their checksum): what appending a segment needs."""
    path = folder / entry["name"] / TERMS_FILE
    try:
        data = path.read_bytes()
    except OSError as err:
        raise Damaged(f"{path} cannot be read: {err}") from None
    if _digest(data) != entry["files"].get(TERMS_FILE):
        raise Damaged(f"{path} does not match its checksum")
    return json.loads(data)


def new_segment(folder: Path, manifest: Manifest) -> Path:
    """An empty folder for the manifest's next segment: named by the manifest's counter and a random part, so a name
    is never given to two segments (a process reuses a segment it opened by its name)."""
    path = folder / f"s{manifest.next:07d}-{secrets.token_hex(4)}"
    manifest.next += 1
    path.mkdir(parents=True)
    return path


def finish_segment(path: Path, segment: Segment) -> dict[str, Any]:
    """Write the terms a segment added (and its vectors, if it has them) beside its part and postings, already in
    `path`; make its files durable; return its manifest entry."""
    (path / TERMS_FILE).write_text(json.dumps(segment.terms), encoding="utf-8")
    if segment.vectors is not None:
        np.save(path / VECTORS_FILE, np.asarray(segment.vectors, dtype=np.float32))
    files = {}
    for name in (*SEGMENT_FILES, *([VECTORS_FILE] if segment.vectors is not None else [])):
        with (path / name).open("rb") as handle:
            os.fsync(handle.fileno())
            files[name] = hashlib.file_digest(handle, "sha256").hexdigest()
    entry = {"name": path.name, "first_term": segment.first_term, "since": segment.since, "until": segment.until}
    return {**entry, "rows": segment.part.rows, "files": files}


def save_segment(folder: Path, manifest: Manifest, segment: Segment) -> dict[str, Any]:
    """Write a segment built in memory as the manifest's next one; its entry (the caller lists it)."""
    path = new_segment(folder, manifest)
    segment.part.save(path)
    segment.postings.save(path)
    return finish_segment(path, segment)


def collect(folder: Path, manifest: Manifest) -> None:
    """Delete what the manifest does not list (segments replaced by a merge, leftovers of a cut-short write, files of
    older formats). A process still searching a deleted segment keeps its memory-mapped files until it lets go."""
    keep = {MANIFEST, LOCK, *manifest.names}
    for path in folder.iterdir():
        if path.name not in keep:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the index's lock while writing it: one process appends, merges or rebuilds at a time; readers never wait."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
