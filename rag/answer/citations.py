"""Checks a model's answer against the numbered sources it was given: real citation numbers, verbatim quotes in
whatever quotation marks, and every figure stated by a cited source.

Own code: llama-index's CitationQueryEngine numbers chunks but neither removes citations to numbers
that were never given nor checks quoted text or figures against the cited abstract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text import split_sentences, terms
from ..types import ABSTAIN, Citation, Source, UnverifiedFigures
from .figures import unstated

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+[.,;:]?")
NOT_A_SOURCE = "not a source"
_ANY_MARKER = re.compile(rf"\[\d+(?::\s*{NOT_A_SOURCE})?(?:\s*[,;]\s*\d+)*\]")
_PAIRS = ("\"\"", "“”", "„“", "„”", "””", "«»", "»«", "‹›", "›‹", "「」", "『』", "〝〞", "〝〟")
"""Quotation marks that are never apostrophes: (opening, closing)."""
_QUOTE = re.compile(
    "|".join(f"{re.escape(o)}([^{re.escape(o + c)}\\n]+){re.escape(c)}" for o, c in _PAIRS)
    # single marks double as apostrophes ("model's", "models’"): a quote opens after no letter and closes before none
    + r"|(?<!\w)['‘‚](\S(?:[^\n]*?\S)?)['’‘](?!\w)"
)
_LINKISH = re.compile(r"\S*(?:://|www\.)\S*", re.IGNORECASE)
"""A link in an answer: its digits are an address, not figures (front ends decide whether to show it as a link)."""
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*")
_SAME_MARKS = str.maketrans({"’": "'", "‘": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_SPACE = re.compile(r"\s+")


@dataclass
class Checked:
    """The answer text after the checks, the citations it keeps, and what a front end should flag."""

    text: str
    citations: list[Citation]
    abstained: bool
    removed_citations: list[int] = field(default_factory=list)
    unverified_quotes: list[str] = field(default_factory=list)
    uncited_sentences: list[str] = field(default_factory=list)
    unverified_figures: list[UnverifiedFigures] = field(default_factory=list)


def normalise(text: str) -> str:
    """Case, white space and the curly or straight form of quotes and apostrophes aside: the form in which quotes
    are compared with abstracts."""
    return _SPACE.sub(" ", text.translate(_SAME_MARKS)).strip().casefold()


def mark_unknown(text: str, known: set[int]) -> tuple[str, list[int]]:
    """Text with each [n] for a number not in `known` rewritten as [n: not a source], and those numbers."""
    removed: list[int] = []

    def rewrite(match: re.Match) -> str:
        parts = []
        for number in (int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))):
            if number in known:
                parts.append(f"[{number}]")
            else:
                parts.append(f"[{number}: {NOT_A_SOURCE}]")
                removed.append(number)
        return "".join(parts)

    return _MARKER.sub(rewrite, text), sorted(set(removed))


def cited_numbers(sentence: str, known: set[int]) -> list[int]:
    """The valid source numbers a sentence cites, in order of first mention."""
    found: list[int] = []
    for match in _MARKER.finditer(sentence):
        for number in (int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))):
            if number in known and number not in found:
                found.append(number)
    return found


def best_sentence(claim: str, abstract: str) -> str:
    """The sentence of `abstract` sharing the most content words with `claim` (the first one on ties)."""
    wanted = terms(_MARKER.sub(" ", claim))
    sentences = [s.strip() for s in split_sentences(abstract) if s.strip()]
    return max(sentences, key=lambda s: len(wanted & terms(s)), default=abstract.strip())


def claims(text: str) -> list[tuple[int, int]]:
    """Where the answer's sentences are in `text` (start, end), with markers that open a sentence ("... models."
    [1]) given back to the one before."""
    spans: list[tuple[int, int]] = []
    start = 0
    for piece in split_sentences(text):
        begin, end = start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())
        start += len(piece)
        lead = _LEADING_MARKERS.match(text, begin, end)
        if lead and spans:
            spans[-1] = (spans[-1][0], begin + len(lead.group(0).rstrip()))
            begin = lead.end()
            while begin < end and text[begin] in " .,;:":
                begin += 1
        if begin < end:
            spans.append((begin, end))
    return spans


def quote_claims(sentences: list[str], by_number: dict[int, Source]) -> list[Citation]:
    """One citation per cited (source, backing sentence) pair, in order of first mention."""
    citations: list[Citation] = []
    seen: set[tuple[int, str]] = set()
    for sentence in sentences:
        for number in cited_numbers(sentence, set(by_number)):
            source = by_number[number]
            quote = best_sentence(sentence, source.abstract)
            if (number, quote) not in seen:
                seen.add((number, quote))
                citations.append(
                    Citation(n=number, paper_id=source.paper_id, title=source.title, quote=quote, dates=source.dates)
                )
    return citations


def quotes(sentence: str) -> list[str]:
    """The spans of `sentence` inside quotation marks of any kind, without the marks and trailing punctuation."""
    found = (next(group for group in match.groups() if group is not None) for match in _QUOTE.finditer(sentence))
    return [quoted for text in found if (quoted := text.strip().rstrip(",.;:").strip())]


def verbatim(quoted: str, abstracts: list[str]) -> bool:
    """True when one of `abstracts` holds the quoted text word for word (each part of a quote cut with "..." in turn)."""
    parts = [normalise(part) for part in _ELLIPSIS.split(quoted) if part.strip()]
    for abstract in (normalise(text) for text in abstracts):
        at = 0
        for part in parts:
            at = abstract.find(part, at)
            if at < 0:
                break
            at += len(part)
        else:
            return True
    return False


def source_text(source: Source) -> str:
    """All a model reads of a source: title, listing dates and abstract (where its figures may come from)."""
    return f"{source.title}\n{' '.join(source.dates)}\n{source.abstract}"


def verify(text: str, sources: list[Source], given: list[Citation] | None = None) -> Checked:
    """Remove and mark unknown citations, quote each cited abstract, flag unverifiable quotes, uncited sentences
    and, in a model's answer, sentences stating figures that no source they cite states.

    `given`: citations the backend made itself with their quotes (the extractive backend), kept as they are.
    """
    by_number = {source.n: source for source in sources}
    text, removed = mark_unknown(text.strip(), set(by_number))
    spans = claims(text)
    sentences = [text[start:end] for start, end in spans]
    cited_anywhere = {n for s in sentences for n in cited_numbers(s, set(by_number))}
    if normalise(ABSTAIN) in normalise(text) and not cited_anywhere:
        return Checked(ABSTAIN, [], True, removed)
    citations = [c for c in given if c.n in by_number] if given else quote_claims(sentences, by_number)
    checked = Checked(text, citations, False, removed)
    for (start, end), sentence in zip(spans, sentences):
        numbers = cited_numbers(sentence, set(by_number))
        if not numbers and terms(sentence):
            checked.uncited_sentences.append(sentence)
        against = [by_number[n] for n in numbers or sorted(cited_anywhere) or sorted(by_number)]
        abstracts = [source.abstract for source in against]
        checked.unverified_quotes += [quoted for quoted in quotes(sentence) if not verbatim(quoted, abstracts)]
        claim = _LINKISH.sub(" ", _ANY_MARKER.sub(" ", sentence))
        figures = unstated(claim, [source_text(source) for source in against])
        if figures and not given:
            checked.unverified_figures.append(UnverifiedFigures(sentence=sentence, start=start, end=end, figures=figures))
    return checked
