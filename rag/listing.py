"""What the store holds, paper by paper: titles and listing dates, for front ends' filters and examples."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Settings
from .store import Store


@dataclass(frozen=True)
class PaperEntry:
    """One stored paper as a front end lists it."""

    paper_id: str
    title: str
    dates: tuple[str, ...]


def catalog(settings: Settings | None = None) -> list[PaperEntry]:
    """Every stored paper once (from its first chunk's metadata), in title order."""
    entries: dict[str, PaperEntry] = {}
    for node in Store(settings or Settings()).iter_nodes():
        meta = node.metadata
        if meta.get("paper_id") and meta["paper_id"] not in entries:
            entries[meta["paper_id"]] = PaperEntry(meta["paper_id"], meta.get("title", ""), tuple(meta.get("dates", ())))
    return sorted(entries.values(), key=lambda entry: entry.title.casefold())
