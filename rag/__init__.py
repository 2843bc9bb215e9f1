"""Papertrail: cited answers over research-paper abstracts.

The public API, all of it here: `ask`, `ask_stream`, `ingest`, `ensure_corpus`, `stats`, `catalog`,
`backend_name`, `check_store`, `search` (retrieval without an answer), `paper`, feedback, the Daily Papers sync
(`sync`, `add_arxiv`, `sync_status`, `added_since`, the digest's `unannounced` and `mark_announced`), `watches`
(saved questions run on each write's new papers: `rag.watches.add`, `list`, `remove`, `check`), `Settings` (and
`EnvSettings`, the base of every settings group), the result types, the one abstention phrase `ABSTAIN`, and the
two rules every front end applies to what it shows
(`strip_controls`, `web_link`).
"""

from types import SimpleNamespace

from .api import (
    AskOptions,
    SearchOptions,
    add_arxiv,
    added_since,
    ask,
    ask_stream,
    backend_name,
    catalog,
    check_store,
    ensure_corpus,
    first_sentence,
    ingest,
    listing_date_key,
    mark_announced,
    paper,
    search,
    stats,
    sync,
    sync_status,
    unannounced,
)
from . import watching
from .clean import strip_controls, web_link
from .errors import BadInputError, PapertrailError, SyncError
from .feedback import export_feedback, record_feedback
from .settings import EnvSettings, Settings
from .types import (
    ABSTAIN,
    Answer,
    CheckReport,
    Citation,
    IngestReport,
    Paper,
    Source,
    SyncBatch,
    SyncReport,
    SyncStatus,
    Turn,
    UnverifiedFigures,
    Watch,
    WatchMatch,
)

watches = SimpleNamespace(**{name: getattr(watching, name) for name in watching.PUBLIC})
"""`rag.watches.add`, `list`, `remove`, `check` (and `deliver`, `waiting`, `matches`, `match_score`, `LOCAL`): a
namespace, not the module (rag/watching.py), so the public name is never a module."""

__all__ = [
    "ABSTAIN",
    "Answer",
    "AskOptions",
    "BadInputError",
    "CheckReport",
    "Citation",
    "EnvSettings",
    "IngestReport",
    "Paper",
    "PapertrailError",
    "SearchOptions",
    "Settings",
    "Source",
    "SyncBatch",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "Turn",
    "UnverifiedFigures",
    "Watch",
    "WatchMatch",
    "add_arxiv",
    "added_since",
    "ask",
    "ask_stream",
    "backend_name",
    "catalog",
    "check_store",
    "ensure_corpus",
    "export_feedback",
    "first_sentence",
    "ingest",
    "listing_date_key",
    "mark_announced",
    "paper",
    "record_feedback",
    "search",
    "stats",
    "strip_controls",
    "sync",
    "sync_status",
    "unannounced",
    "watches",
    "web_link",
]
