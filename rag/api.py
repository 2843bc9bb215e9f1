"""The whole public surface: ask, ingest, and what the store holds. Every function takes optional settings.

Heavy libraries (llama-index, torch, chromadb) are imported inside the functions, so `import rag` stays fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

from .arguments import SEARCH_OPTIONS, check_ask, check_paths, check_progress, check_settings, check_since, check_text
from .errors import BadInputError
from .settings import Settings
from .types import Answer, CheckReport, IngestReport, Paper, Source, SyncBatch, SyncReport, SyncStatus, Turn

if TYPE_CHECKING:
    from .sync_state import Batch

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (papers embedded so far, papers to embed)."""
Report = TypeVar("Report", bound=IngestReport)
"""What a write command returns: an `IngestReport`, or a `SyncReport` for sync and add."""
History = Sequence[Turn | dict | str] | None
"""Earlier turns of a conversation: `Turn`s, dicts with question/answer, or bare questions."""


class SearchOptions(TypedDict, total=False):
    """Per-search choices, each defaulting to the settings."""

    top_k: int | None
    """How many papers to draw on."""
    dates: list[str] | None
    """Only papers listed on one of these dates ("2024-03-11", or "Mar 11": any year)."""


class AskOptions(SearchOptions, total=False):
    """Per-question choices, each defaulting to the settings."""

    backend: str | None
    """Answering backend by name ("extractive", "openai", "llamacpp", or a registered one)."""


def ask(question: str, history: History = None, settings: Settings | None = None, **options: Unpack[AskOptions]) -> Answer:
    """Answer `question` from the indexed abstracts, every claim cited; abstains when the evidence is weak."""
    final = None
    for item in ask_stream(question, history, settings, **options):
        final = item
    assert isinstance(final, Answer)
    return final


def ask_stream(
    question: str, history: History = None, settings: Settings | None = None, **options: Unpack[AskOptions]
) -> Iterator[str | Answer]:
    """The answer text in pieces as it is produced, then the final `Answer` (the same as `ask` returns).

    Bad arguments are refused here, before the first piece is asked for."""
    from .pipeline import ask_stream as run

    return run(check_ask(question, history, settings, options))


def search(query: str, settings: Settings | None = None, **options: Unpack[SearchOptions]) -> list[Source]:
    """The papers that best match `query`, numbered best first: what `ask` would draw on, without an answer."""
    from .pipeline import loaded_search, retrieve

    args = check_ask(query, None, settings, options, SEARCH_OPTIONS)
    return retrieve(loaded_search(args.settings), args.question, args.top_k, args.dates).sources


def paper(reference: str, settings: Settings | None = None) -> Paper | None:
    """One stored paper by its id, arXiv id, or arxiv.org / huggingface.co/papers link; None when none is stored."""
    from .daily_papers import arxiv_id
    from .engine import get_engine

    reference = check_text(reference, "the paper id or arXiv id")
    engine = get_engine(check_settings(settings))
    if found := engine.paper(reference):
        return found
    try:
        wanted = arxiv_id(reference)
    except BadInputError:
        return None
    return next((stored for stored in engine.papers().values() if stored.arxiv_id == wanted), None)


def ingest(
    paths: Sequence[str | Path] | None = None, settings: Settings | None = None, progress: Progress | None = None
) -> IngestReport:
    """Ingest paper lists (default: the seeds); a bad file refuses the whole call and leaves the store as it was."""
    from .ledger import holds
    from .parse import load_papers
    from .sources import remember

    paths, progress, settings = check_paths(paths), check_progress(progress), check_settings(settings)
    sources = paths or [settings.store.seeds_dir]
    n_files, papers = load_papers(sources)
    if holds(papers, settings):  # the last write stored exactly these papers: nothing to do, the store unopened
        report = IngestReport(files=n_files, papers=len(papers), added=0, relabelled=0, unchanged=len(papers), chunks_added=0)
    else:
        from .engine import get_engine

        report = _then_ready(settings, lambda: get_engine(settings).add(papers, n_files, progress))
    remember(sources, settings)
    return report


def check_store(settings: Settings | None = None, progress: Progress | None = None) -> CheckReport:
    """Repair damaged store files (rebuilding what can be rebuilt, `notes` saying what and what cannot), then find
    chunks whose vector is missing (two writers on one embedded store could lose some) and re-embed them, and check
    every search index file against its checksum, rebuilding the index from the store when one fails."""
    from .repair import check

    settings = check_settings(settings)
    return _then_ready(settings, lambda: check(settings, check_progress(progress)))


def ensure_corpus(settings: Settings | None = None, progress: Progress | None = None) -> IngestReport | None:
    """Ingest the seeds when the store is empty (the report), else do nothing (None). Front ends call it at start."""
    from .engine import get_engine

    settings = check_settings(settings)
    store = get_engine(settings).store
    if store.count():
        return None
    if older := store.older_versions():
        log.warning(
            "the store at %s holds papers written by an older Papertrail (%s), in a format this one does not read: "
            "the seeds are ingested again; run `papertrail ingest` on your own paper files too",
            store.where,
            ", ".join(older),
        )
    return ingest(None, settings, progress)


def stats(settings: Settings | None = None) -> dict[str, int]:
    """How many papers and chunks the store holds."""
    from .engine import get_engine
    from .store import never_written

    settings = check_settings(settings)
    if never_written(settings):
        return {"papers": 0, "chunks": 0}
    store = get_engine(settings).store
    return {"papers": store.paper_count(), "chunks": store.count()}


def catalog(settings: Settings | None = None) -> list[Paper]:
    """Every stored paper once, in title order (abstracts rebuilt from their chunks)."""
    from .engine import get_engine
    from .store import never_written

    settings = check_settings(settings)
    if never_written(settings):
        return []
    papers = get_engine(settings).papers().values()
    return sorted(papers, key=lambda paper: paper.title.casefold())


def backend_name(settings: Settings | None = None) -> str:
    """The backend that answers by default: `auto` resolved to `openai` or `extractive`."""
    from .answer import backend_name as resolve

    return resolve(check_settings(settings))


def sync(
    date: str | None = None,
    *,
    week: str | None = None,
    month: str | None = None,
    since: str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Add the papers of Hugging Face Daily Papers listing days: one `date` (2024-03-11), a `week` (2024-W11), a
    `month` (2024-03), every day `since` a date, or by default today and the days missed since the last sync.

    Reaches the network (HF_ENDPOINT); days stored by earlier syncs are skipped. `progress` gets (days done, days to
    do). A failure raises `SyncError` after keeping every day fetched before it (`err.report` counts them)."""
    from .daily_papers import sync as run

    settings = check_settings(settings)
    progress = check_progress(progress)
    return _then_ready(settings, lambda: run(settings, day=date, week=week, month=month, since=since, progress=progress))


def add_arxiv(ids: Sequence[str], settings: Settings | None = None, progress: Progress | None = None) -> SyncReport:
    """Add papers by arXiv id or arxiv.org / huggingface.co/papers link (fetched from HF_ENDPOINT); ids that cannot
    be used are skipped by name in the report; `SyncError` when none could be added."""
    from .daily_papers import add
    from .sources import remember_arxiv

    settings = check_settings(settings)
    report = _then_ready(settings, lambda: add(ids, settings, check_progress(progress)))
    remember_arxiv(ids, settings)
    return report


def sync_status(settings: Settings | None = None) -> SyncStatus:
    """When the last sync ran, how many listing days are stored, and the papers the latest sync added."""
    from .sync_state import read

    settings = check_settings(settings)
    state = read(settings.store.home)
    latest = _batches(state.batches[-1:], settings)
    return SyncStatus(last_sync=state.last_sync, days=len(state.days), latest=latest[0] if latest else None)


def added_since(since: str | date | datetime | None = None, settings: Settings | None = None) -> list[SyncBatch]:
    """The papers syncs added at or after `since` (a date, a time, or ISO text; None: the latest sync that added
    any), one batch per sync, oldest first."""
    from .sync_state import read

    settings = check_settings(settings)
    moment = check_since(since)
    batches = read(settings.store.home).batches
    return _batches(batches[-1:] if moment is None else [batch for batch in batches if batch.finished >= moment], settings)


def unannounced(channel: str, settings: Settings | None = None) -> list[SyncBatch]:
    """The batches of added papers not yet posted to `channel` (only the latest for a channel never posted to)."""
    from .sync_state import unannounced as pending

    settings = check_settings(settings)
    return _batches(pending(settings.store.home, channel), settings)


def mark_announced(channel: str, batch: SyncBatch, settings: Settings | None = None) -> None:
    """Note that `batch` (and every earlier one) was posted to `channel`, so it is posted once."""
    from .sync_state import mark_announced as mark

    mark(check_settings(settings).store.home, channel, batch.number)


def first_sentence(text: str) -> str:
    """The first sentence of an abstract, as answers quote sentences."""
    from .text import split_sentences

    return next(iter(split_sentences(text.strip())), "").strip()


def listing_date_key(date: str) -> tuple[int, int, int, str]:
    """Sort key putting listing dates in calendar order ("Mar 11" without a year first, then dated ones)."""
    from .dates import sort_key

    return sort_key(date)


def _then_ready(settings: Settings, write: Callable[[], Report]) -> Report:
    """Run a write command, then build the search over what it wrote (once per command, not per commit), so the
    next question, in this process or a new one, starts from it; then run the watches on the papers it added."""
    from .engine import get_engine

    from .watching import after_write

    report = write()
    get_engine(settings).ready()
    after_write(settings)
    return report


def _batches(batches: Sequence[Batch], settings: Settings) -> list[SyncBatch]:
    """Sync batches with their papers as the store holds them now (papers removed since are left out)."""
    if not batches:
        return []
    from .engine import get_engine

    engine = get_engine(settings)
    return [
        SyncBatch(
            number=batch.number,
            finished=batch.finished,
            papers=[paper for paper_id in batch.paper_ids if (paper := engine.paper(paper_id))],
        )
        for batch in batches
    ]
