"""Papertrail: cited answers over research-paper abstracts.

Public API: `ask`, `ask_stream`, `ingest`, `stats`, `record_feedback`, `export_feedback`, `Settings`, the result types and `ABSTAIN`. Heavy modules
(llama-index, torch, chromadb) load on first use, so importing `rag` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import offline

offline.apply()

if TYPE_CHECKING:
    from .answering import ask, ask_stream
    from .api import ingest, stats
    from .backends import backend_name
    from .listing import PaperEntry, catalog
    from .errors import BadInputError, PapertrailError
    from .feedback import export_feedback, record_feedback
    from .settings import Settings
    from .types import ABSTAIN, Answer, Citation, Source, Turn

_EXPORTS = {
    "ask": ".answering",
    "ask_stream": ".answering",
    "record_feedback": ".feedback",
    "export_feedback": ".feedback",
    "ingest": ".api",
    "stats": ".api",
    "backend_name": ".backends",
    "catalog": ".listing",
    "PaperEntry": ".listing",
    "Settings": ".settings",
    "PapertrailError": ".errors",
    "BadInputError": ".errors",
    "ABSTAIN": ".types",
    "Answer": ".types",
    "Citation": ".types",
    "Source": ".types",
    "Turn": ".types",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
