"""What every front end shows beside an answer, decided once: its lead, quotes by source number, which sources
to list, notes."""

from __future__ import annotations

import logging
import re

import rag

log = logging.getLogger(__name__)

_FIRST_CLAIM = re.compile(r"(.+?\[\d+(?:\s*[,;]\s*\d+)*\][.!?]?)\s+(\S.*)", re.S)

FAILED = "Sorry, something went wrong; the server's log says what."
"""Shown for an unexpected error: its text stays in the server's log, never in a page or an API's reply."""
ABSTAINED_NOTE = "No answer: the indexed abstracts do not support one. The closest papers are listed for reference."


def lead(answer: rag.Answer) -> tuple[str, str]:
    """The answer's lead (the sentence that answers, with its citation) and the rest, so front ends show it first.

    The extractive backend puts the lead in a paragraph of its own; a model's answer leads with its first cited sentence.
    """
    first, blank, rest = answer.text.partition("\n\n")
    if blank:
        return first.strip(), rest.strip()
    match = _FIRST_CLAIM.fullmatch(answer.text.strip())
    return (match.group(1), match.group(2)) if match else (answer.text.strip(), "")


def quotes_by_source(answer: rag.Answer) -> dict[int, list[str]]:
    """The quoted sentences of each cited source, by source number, in citation order."""
    quotes: dict[int, list[str]] = {}
    for citation in answer.citations:
        quotes.setdefault(citation.n, []).append(citation.quote)
    return quotes


def listed_sources(answer: rag.Answer) -> list[rag.Source]:
    """The sources a reader should see: the cited ones, or all of them when the answer abstained."""
    cited = quotes_by_source(answer)
    return [source for source in answer.sources if answer.abstained or source.n in cited]


def flags(answer: rag.Answer) -> list[str]:
    """What the citation checks flagged: quotes not found in the cited abstract, sentences citing nothing."""
    lines = [f'Not found verbatim in the cited abstract: "{quote}"' for quote in answer.unverified_quotes]
    return lines + [f"Cites no source: {sentence}" for sentence in answer.uncited_sentences]


def notes(answer: rag.Answer) -> list[str]:
    """Every warning to show next to the answer: abstention, the pipeline's notes (fallbacks, removed citations), flags."""
    return ([ABSTAINED_NOTE] if answer.abstained else []) + answer.notes + flags(answer)


def link(paper: rag.Paper) -> str | None:
    """Where a reader opens the paper: its arXiv page when the id is known, else its stored page (http(s) only)."""
    return rag.web_link(paper.arxiv_url) or rag.web_link(paper.url)


def byline(paper: rag.Paper, shown: int = 3) -> str:
    """The paper's authors as a source listing shows them: the first `shown`, then "et al." (empty when unknown)."""
    return ", ".join(paper.authors[:shown]) + (" et al." if len(paper.authors) > shown else "")


def client_message(err: Exception, doing: str) -> str:
    """What a page or API client is told: a refusal's own one-line message; for any other error a fixed
    apology, the error itself going to the log in one line (no traceback)."""
    if isinstance(err, rag.PapertrailError):
        return str(err)
    log.error("%s failed: %s: %s", doing, type(err).__name__, " ".join(str(err).splitlines()))
    return FAILED


def sync_summary(report: rag.SyncReport, noun: str = "listing day") -> str:
    """One line saying what a sync (`noun` "listing day") or an add (`noun` "arXiv id") did."""
    before = f" ({_count(report.synced_before, 'day')} synced before)" if report.synced_before else ""
    return (
        f"{_count(report.files, noun)}{before}, {_count(report.papers, 'paper')}: {report.added} new, "
        f"{report.relabelled + report.unchanged} already stored."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
