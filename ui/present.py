"""What every front end shows beside an answer, decided once: its text with the reason it declined, its lead or
list items, quotes by source number, which sources to list and under what heading, notes."""

from __future__ import annotations

import logging
import re

import rag

log = logging.getLogger(__name__)

_FIRST_CLAIM = re.compile(r"(.+?\[\d+(?:\s*[,;]\s*\d+)*\][.!?]?)\s+(\S.*)", re.S)
ITEM = "- "
"""How a line of an answer given one line per paper starts ("- <paper name>: <sentence> [n]")."""
CITED_HEADING = "Sources"
CLOSEST_HEADING = "Closest papers (retrieved, not cited)"
CLOSEST_NOTE = "Not answered: the closest papers are listed for reference; none of them is cited."
NO_YEAR = "year not given"
"""Said of a seed page's listing date ("Sep 12"): the pages give no year."""
FAILED = "Sorry, something went wrong; the server's log says what."
"""Shown for an unexpected error: its text stays in the server's log, never in a page or an API's reply."""


def shown_text(answer: rag.Answer) -> str:
    """The answer as every front end shows it: its text, and after the abstention phrase the reason it declined."""
    return f"{answer.text} {answer.reason}" if answer.abstained and answer.reason else answer.text


def is_item(line: str) -> bool:
    """True for a line of an answer given one line per paper."""
    return line.startswith(ITEM)


def lead(answer: rag.Answer) -> tuple[str, str]:
    """The answer's lead (the sentence that answers, with its citation) and the rest, so front ends show it first.

    The extractive backend puts the lead in a paragraph of its own; a model's answer leads with its first cited sentence;
    an answer given one line per paper leads with what comes before its first line (often nothing).
    """
    text = shown_text(answer).strip()
    lines = text.split("\n")
    if any(is_item(line) for line in lines):
        start = next(index for index, line in enumerate(lines) if is_item(line))
        return "\n".join(lines[:start]).strip(), "\n".join(lines[start:])
    first, blank, rest = text.partition("\n\n")
    if blank:
        return first.strip(), rest.strip()
    match = _FIRST_CLAIM.fullmatch(text)
    return (match.group(1), match.group(2)) if match else (text, "")


def quotes_by_source(answer: rag.Answer) -> dict[int, list[str]]:
    """The quoted sentences of each cited source, by source number, in citation order."""
    quotes: dict[int, list[str]] = {}
    for citation in answer.citations:
        quotes.setdefault(citation.n, []).append(citation.quote)
    return quotes


def quotes_to_show(answer: rag.Answer) -> dict[int, list[str]]:
    """The quoted sentences of each cited source that the answer does not already say word for word (an extractive
    answer is made of them), so a front end listing sources under the answer prints each sentence once."""
    said = " ".join(answer.text.split())
    return {
        n: unsaid
        for n, quotes in quotes_by_source(answer).items()
        if (unsaid := [quote for quote in quotes if " ".join(quote.split()) not in said])
    }


def listed_sources(answer: rag.Answer) -> list[rag.Source]:
    """The sources a reader should see: the cited ones, or all of them when the answer abstained."""
    cited = quotes_by_source(answer)
    return [source for source in answer.sources if answer.abstained or source.n in cited]


def sources_heading(answer: rag.Answer) -> str:
    """What the listed sources are: the cited ones, or, for a declined answer, the closest papers, cited by nothing."""
    return CLOSEST_HEADING if answer.abstained else CITED_HEADING


def flags(answer: rag.Answer) -> list[str]:
    """What the citation checks flagged: quotes not found in the cited abstract, sentences citing nothing."""
    lines = [f'Not found verbatim in the cited abstract: "{quote}"' for quote in answer.unverified_quotes]
    return lines + [f"Cites no source: {sentence}" for sentence in answer.uncited_sentences]


def notes(answer: rag.Answer) -> list[str]:
    """Every warning to show next to the answer: that the papers listed for a declined answer are not cited (only
    when there are some), the pipeline's notes (fallbacks, removed citations), flags."""
    return ([CLOSEST_NOTE] if answer.abstained and answer.sources else []) + answer.notes + flags(answer)


def date_label(date: str) -> str:
    """A listing date as shown: a dated day as it is, a seed page's day without a year as "Sep 12 (year not given)"."""
    return f"{date} ({NO_YEAR})" if rag.listing_date_key(date)[0] == 0 else date


def dates_label(dates: list[str]) -> str:
    """A paper's listing dates as one label, "(year not given)" said once after the days without one."""
    if not dates:
        return "no listing date"
    yearless = [date for date in dates if date_label(date) != date]
    dated = [date for date in dates if date not in yearless]
    return ", ".join(dated + [f"{', '.join(yearless)} ({NO_YEAR})"] * bool(yearless))


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
