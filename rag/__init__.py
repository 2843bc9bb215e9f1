"""Papertrail: cited answers over research-paper abstracts.

The public API, all of it here: `ask`, `ask_stream`, `ingest`, `ensure_corpus`, `stats`, `catalog`,
`backend_name`, feedback, `Settings`, the result types, the one abstention phrase `ABSTAIN`, and the two
rules every front end applies to what it shows (`strip_controls`, `web_link`).
"""

from .api import AskOptions, ask, ask_stream, backend_name, catalog, ensure_corpus, ingest, stats
from .clean import strip_controls, web_link
from .errors import BadInputError, PapertrailError
from .feedback import export_feedback, record_feedback
from .settings import Settings
from .types import ABSTAIN, Answer, Citation, IngestReport, Paper, Source, Turn

__all__ = [
    "ABSTAIN",
    "Answer",
    "AskOptions",
    "BadInputError",
    "Citation",
    "IngestReport",
    "Paper",
    "PapertrailError",
    "Settings",
    "Source",
    "Turn",
    "ask",
    "ask_stream",
    "backend_name",
    "catalog",
    "ensure_corpus",
    "export_feedback",
    "ingest",
    "record_feedback",
    "stats",
    "strip_controls",
    "web_link",
]
