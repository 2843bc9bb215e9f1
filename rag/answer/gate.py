"""The abstention gate, run before any backend: is there evidence to answer from at all?

A question about "GCG" or "how many days" cannot be answered from abstracts that never say
"GCG" or "days", however close they are in topic; nor can one whose closest chunk is far from it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..types import Source

_TOKEN = re.compile(r"[^\s,;:?!()\[\]{}'\"“”]+")
_GENERIC_SUFFIX = re.compile(
    r"-(style|like|based|generated|parameter|scale|sized|level|specific|free|aware|only)$", re.I
)
_HOW_MANY = re.compile(
    r"\bhow (?:many|much)\s+((?:[\w\-]+\s+){0,3}?)"
    r"(?=(?:did|does|do|is|are|was|were|in|of|for|on|and|has|have|had|can|could|would|will)\b|[?,])",
    re.I,
)
_FUNCTION_WORDS = {"the", "a", "an", "of", "more", "fewer", "less"}


def _squash(text: str) -> str:
    """Lower-case letters and digits only, accents dropped: "TÜLU" and 'T\\"ULU' both become "tulu"."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).casefold())


def _parts(word: str) -> list[str]:
    return [p for p in (_squash(x) for x in re.split(r"[-/]", word)) if p]


def vocabulary(text: str) -> set[str]:
    """Every word of `text`, squashed, with hyphenated compounds also split into their parts."""
    words: set[str] = set()
    for token in _TOKEN.findall(text):
        words.add(_squash(token))
        words.update(_parts(token))
    words.discard("")
    return words


def _mentioned(words: set[str], term: str) -> bool:
    """Every part of `term` is a word of the text, or the start of one (plurals, suffixes)."""
    return all(p in words or any(w.startswith(p) for w in words) for p in _parts(term))


def names(question: str) -> list[str]:
    """Terms that name something: acronyms, model names, anything with two capitals or a digit."""
    found = []
    for token in _TOKEN.findall(question):
        token = _GENERIC_SUFFIX.sub("", token.strip(".-"))
        core = re.sub(r"\W", "", token)
        if len(core) >= 2 and (any(c.isdigit() for c in core) or sum(c.isupper() for c in core) >= 2):
            found.append(token)
    return found


def asked_units(question: str) -> list[str]:
    """The thing counted in "how many X" / "how much X" (its head word), e.g. "hours" in "how many GPU hours"."""
    units = []
    for match in _HOW_MANY.finditer(question):
        words = [w for w in match.group(1).split() if w.casefold() not in _FUNCTION_WORDS]
        units.extend(words[-1:])
    return units


def missing_evidence(question: str, top_text: str, all_text: str) -> list[str]:
    """What the question names or counts that the abstracts never mention (empty when all is there).

    Names may be in any retrieved abstract; the counted unit must be in the top one, which answers.
    """
    everywhere, top = vocabulary(all_text), vocabulary(top_text)
    missing = [name for name in names(question) if not _mentioned(everywhere, name)]
    missing += [unit for unit in asked_units(question) if not _mentioned(top, unit[: max(3, len(unit) - 2)])]
    return missing


def abstain_reason(question: str, sources: list[Source], min_dense_score: float) -> str | None:
    """Why the sources cannot answer `question`, or None when a backend should try."""
    if not sources:
        return "no indexed paper matches the question"
    if max(source.dense_score for source in sources) < min_dense_score:
        return "no indexed abstract is close to the question"
    top = f"{sources[0].title} {sources[0].abstract}"
    missing = missing_evidence(question, top, " ".join(f"{s.title} {s.abstract}" for s in sources))
    return f"the abstracts never mention {', '.join(missing)}" if missing else None
