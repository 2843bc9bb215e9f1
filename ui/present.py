"""What every front end shows beside an answer, decided once: its text with the reason it declined, its lead or
list lines, quotes by source number, which sources to list and under what heading, notes, which of its links may
be links, which of its sentences are unverified, listing dates."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import rag

log = logging.getLogger(__name__)

_FIRST_CLAIM = re.compile(r"(.+?\[\d+(?:\s*[,;]\s*\d+)*\][.!?]?)\s+(\S.*)", re.S)
ITEM = "- "
"""How a line of an answer given one line per paper starts ("- <paper name>: <sentence> [n]")."""
_FIRST_ITEM = re.compile(r"^- ", re.M)
CITED_HEADING = "Sources"
CLOSEST_HEADING = "Closest papers (retrieved, not cited)"
CLOSEST_NOTE = "Not answered: the closest papers are listed for reference; none of them is cited."
NO_YEAR = "year not given"
"""Said of a seed page's listing date ("Sep 12"): the pages give no year."""
LINK = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"'`\[\]{}|\\^]+"  # scheme://… or www.…
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # an e-mail address (mailto:)
    re.IGNORECASE,
)
"""Text a chat, Slack or a terminal would turn into a link by itself."""
_LINK_END = ".,;:!?)'\"’”»"
"""Punctuation that ends a sentence around a link rather than the link itself."""

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
    end, rest = lead_span(answer)
    return answer.text[:end].strip(), answer.text[rest:].strip()


def lead_span(answer: rag.Answer) -> tuple[int, int]:
    """Where the lead ends in `answer.text` and where the rest begins (see `lead`)."""
    text = answer.text
    if item := _FIRST_ITEM.search(text):
        return item.start(), item.start()
    blank = text.find("\n\n")
    if blank >= 0:
        return blank, blank + 2
    match = _FIRST_CLAIM.fullmatch(text)
    return (match.end(1), match.start(2)) if match else (len(text), len(text))


def own_links(answer: rag.Answer) -> set[str]:
    """The links an answer may show as links: the cited papers' own (arXiv page, stored page) that are plain web links."""
    cited = {citation.n for citation in answer.citations}
    found = (link for s in answer.sources if s.n in cited for link in (s.arxiv_url, s.url))
    return {link for link in found if rag.web_link(link)}


def link_pieces(text: str, own: set[str]) -> Iterator[tuple[str, bool | None]]:
    """`text` in runs: (text, None) for plain text, (link, True) for one of the `own` links, (link, False) for
    anything else a front end would make a link of, which it must show as text."""
    at = 0
    for match in LINK.finditer(text):
        link = match.group(0).rstrip(_LINK_END)
        if match.start() > at:
            yield text[at : match.start()], None
        yield link, link in own
        at = match.start() + len(link)
    if at < len(text):
        yield text[at:], None


def foreign_links(answer: rag.Answer) -> list[str]:
    """Links in the answer that are not a cited paper's own: shown as text, and named in the flags."""
    own = own_links(answer)
    return list(dict.fromkeys(piece for piece, kind in link_pieces(answer.text, own) if kind is False))


def flagged_runs(
    answer: rag.Answer, start: int = 0, end: int | None = None
) -> Iterator[tuple[str, rag.UnverifiedFigures | None]]:
    """`answer.text[start:end]` in runs: each sentence stating figures no cited source states with its flag, and
    the text between them (flag None), so a front end can mark those sentences as unverified."""
    end = len(answer.text) if end is None else end
    at = start
    for flag in sorted(answer.unverified_figures, key=lambda f: f.start):
        first, last = max(flag.start, at), min(flag.end, end)
        if first >= last:
            continue
        if first > at:
            yield answer.text[at:first], None
        yield answer.text[first:last], flag
        at = last
    if at < end:
        yield answer.text[at:end], None


def unverified_label(flag: rag.UnverifiedFigures) -> str:
    """What a front end writes beside a flagged sentence."""
    return f"unverified: {', '.join(flag.figures)} not in the cited sources"


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


def quotes_to_show(answer: rag.Answer) -> dict[int, list[str]]:
    """The quoted sentences of each cited source that the answer does not already say word for word (an extractive
    answer is made of them), so a front end listing sources under the answer prints each sentence once."""
    said = " ".join(answer.text.split())
    return {
        n: unsaid
        for n, quotes in quotes_by_source(answer).items()
        if (unsaid := [quote for quote in quotes if " ".join(quote.split()) not in said])
    }


def sources_heading(answer: rag.Answer) -> str:
    """What the listed sources are: the cited ones, or, for a declined answer, the closest papers, cited by nothing."""
    return CLOSEST_HEADING if answer.abstained else CITED_HEADING


def flags(answer: rag.Answer) -> list[str]:
    """What the checks flagged: quotes not found in the cited abstract, sentences citing nothing, figures no cited
    source states, links that are not a cited paper's own."""
    lines = [f'Not found verbatim in the cited abstract: "{quote}"' for quote in answer.unverified_quotes]
    lines += [f"Cites no source: {sentence}" for sentence in answer.uncited_sentences]
    lines += [f"Unverified figures ({', '.join(f.figures)} in no cited source): {f.sentence}"
              for f in answer.unverified_figures]
    return lines + [f"Not a link of a cited paper: {address}" for address in foreign_links(answer)]


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
    """One line saying what a sync (`noun` "listing day") or an add (`noun` "arXiv id") did: papers new, updated
    (shown when there are some) and already stored, and how many kept what the store had."""
    before = f" ({_count(report.synced_before, 'day')} synced before)" if report.synced_before else ""
    updated = f"{report.updated} updated (a new abstract), " if report.updated else ""
    kept = f" ({len(report.kept)} kept the stored title or a longer stored abstract)" if report.kept else ""
    return (
        f"{_count(report.files, noun)}{before}, {_count(report.papers, 'paper')}: {report.added} new, {updated}"
        f"{report.relabelled + report.unchanged} already stored{kept}."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
