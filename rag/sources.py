"""The ledger of ingested sources: a copy of every paper list ingested, and the arXiv ids added, under
PAPERTRAIL_HOME/sources/, so that a store whose database is damaged beyond reading can be rebuilt from them
(`papertrail ingest --check`). Listing days a sync stored are in sync.json already.

Each file is kept once per content, in a folder named for its SHA-256 and under its own name (the papers it gave
name it as their source); `ledger.json` lists them in the order they were last ingested, the order a rebuild
ingests them in. Paper lists are small (the bundled seeds: 672 KB).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from .parse import expand_paths
from .read_only import writable
from .settings import Settings

SOURCES_DIR = "sources"
LEDGER_FILE = "ledger.json"


class Entry(BaseModel):
    """One file ingested: its name, where it was, its content's SHA-256, when it was last ingested."""

    name: str
    path: str
    digest: str
    ingested: datetime


class Ledger(BaseModel):
    """The contents of ledger.json."""

    files: list[Entry] = Field(default_factory=list, description="Files ingested, the last ingested last.")
    arxiv: list[str] = Field(default_factory=list, description="arXiv ids or links given to `add`, in order.")


def folder(settings: Settings) -> Path:
    return settings.store.home / SOURCES_DIR


def read(settings: Settings) -> Ledger:
    """The ledger (empty when none was kept, or when it cannot be read)."""
    try:
        return Ledger.model_validate_json((folder(settings) / LEDGER_FILE).read_bytes())
    except (OSError, ValidationError):
        return Ledger()


def copy_of(entry: Entry, settings: Settings) -> Path:
    """Where the ledger keeps the copy of `entry`."""
    return folder(settings) / entry.digest[:32] / entry.name


def remember(paths: Sequence[Path], settings: Settings) -> None:
    """Keep a copy of each file under `paths` (files, folders) and note it as ingested now."""
    if not writable(settings.store.home):
        return
    entries: list[Entry] = []
    for path in expand_paths(paths):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        entry = Entry(name=path.name, path=str(path.resolve()), digest=digest, ingested=datetime.now(timezone.utc))
        copy = copy_of(entry, settings)
        if not copy.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            _replace(copy, data)
        entries.append(entry)
    ledger = read(settings)
    if [entry.digest for entry in ledger.files[-len(entries) :]] == [entry.digest for entry in entries]:
        return  # the same files ingested last time, in the same order
    fresh = {entry.digest for entry in entries}
    ledger.files = [entry for entry in ledger.files if entry.digest not in fresh] + entries
    _save(ledger, settings)


def remember_arxiv(ids: Sequence[str], settings: Settings) -> None:
    """Note the arXiv ids (or links) an `add` stored."""
    if not writable(settings.store.home):
        return
    ledger = read(settings)
    new = [text for text in ids if text not in ledger.arxiv]
    if new:
        ledger.arxiv += new
        _save(ledger, settings)


def _save(ledger: Ledger, settings: Settings) -> None:
    folder(settings).mkdir(parents=True, exist_ok=True)
    _replace(folder(settings) / LEDGER_FILE, ledger.model_dump_json(indent=1).encode("utf-8"))


def _replace(path: Path, data: bytes) -> None:
    """Write `path` beside and rename it over, so a kill leaves the old file or the new one."""
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_bytes(data)
    os.replace(staging, path)
