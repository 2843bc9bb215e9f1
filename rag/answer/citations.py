"""Checks a model's answer against the numbered sources it was given: real citation numbers, verbatim quotes.

Own code: llama-index's CitationQueryEngine numbers chunks but neither removes citations to numbers
that were never given nor checks quoted text against the cited abstract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text import split_sentences, terms
from ..types import ABSTAIN, Citation, Source

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+[.,;:]?")
_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
_SPACE = re.compile(r"\s+")
NOT_A_SOURCE = "not a source"


@dataclass
class Checked:
    """The answer text after the checks, the citations it keeps, and what a front end should flag."""

    text: str
    citations: list[Citation]
    abstained: bool
    removed_citations: list[int] = field(default_factory=list)
    unverified_quotes: list[str] = field(default_factory=list)
    uncited_sentences: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """Case and white space aside: the form in which quotes are compared with abstracts."""
    return _SPACE.sub(" ", text).strip().casefold()


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


def claims(text: str) -> list[str]:
    """The answer's sentences, with markers that open a sentence ("... models." [1]) given back to the one before."""
    out: list[str] = []
    for sentence in (s.strip() for s in split_sentences(text)):
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group(0).strip()}"
            sentence = sentence[lead.end() :].lstrip(" .,;:")
        if sentence:
            out.append(sentence)
    return out


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


def verify(text: str, sources: list[Source], given: list[Citation] | None = None) -> Checked:
    """Remove and mark unknown citations, quote each cited abstract, flag unverifiable quotes and uncited sentences.

    `given`: citations the backend made itself with their quotes (the extractive backend), kept as they are.
    """
    by_number = {source.n: source for source in sources}
    text, removed = mark_unknown(text.strip(), set(by_number))
    sentences = claims(text)
    cited_anywhere = {n for s in sentences for n in cited_numbers(s, set(by_number))}
    if normalise(ABSTAIN) in normalise(text) and not cited_anywhere:
        return Checked(ABSTAIN, [], True, removed)
    citations = [c for c in given if c.n in by_number] if given else quote_claims(sentences, by_number)
    checked = Checked(text, citations, False, removed)
    for sentence in sentences:
        numbers = cited_numbers(sentence, set(by_number))
        if not numbers and terms(sentence):
            checked.uncited_sentences.append(sentence)
        against = [by_number[n].abstract for n in numbers or sorted(cited_anywhere) or sorted(by_number)]
        for match in _QUOTE.finditer(sentence):
            quoted = (match.group(1) or match.group(2)).strip().rstrip(",.;:")
            if not any(normalise(quoted) in normalise(abstract) for abstract in against):
                checked.unverified_quotes.append(quoted)
    return checked
