"""How text is compared: abstracts split into exact sentences, and text reduced to stemmed content words.

Own sentence splitter rather than llama-index's punkt splitter, which breaks after "e.g." and "vs." in
abstracts (measured on the seeds); answers quote whole sentences, so the cuts must be right.
"""

from __future__ import annotations

import re
import unicodedata

import Stemmer

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "al", "fig", "figs", "eq", "eqs", "approx", "cf", "resp",
    "no", "nos", "vol", "sec", "ref", "refs", "dr", "prof", "mr", "ms", "st", "viz", "inc", "ltd",
}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"(\S+)[.!?][\"')\]]*$")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` with their trailing white space, so that `"".join(result) == text`."""
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()]
        last = _LAST_WORD.search(head)
        word = last.group(1).casefold().lstrip("([\"'") if last else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


_WORD = re.compile(r"[^\W\d_][\w\-]*\w|\d+(?:[.,]\d+)*%?|[^\W\d_]")
_STOP = set(
    """a an and are as at be been being but by can could did do does doing done for from had has have how i if in
    into is it its of on or so such than that the their them then there these they this those to too was we were
    what when where which who whom why will with would you your our us about any some much many more most other
    paper papers work works study studies studied approach method methods use used using based also give gave
    get got make made one both either way ways kind kinds type types sort""".split()
)
_stemmer = Stemmer.Stemmer("english")


def terms(text: str) -> set[str]:
    """Stemmed content words (the BM25 index's stemmer): the unit in which questions and sentences are compared."""
    return set(stems(text)) - {""}


def compounds(text: str) -> set[str]:
    """Each two neighbouring words written as one, stemmed ("data sets" → "dataset", "fine tuning" → "finetun"): what a
    question that writes them as one word ("datasets") finds in a text that writes them apart."""
    words = _words(text)
    pairs = [a + b for a, b in zip(words, words[1:]) if a not in _STOP and b not in _STOP and (a + b).isalpha()]
    return set(_stemmer.stemWords(pairs))


def stems(text: str) -> list[str]:
    """Every word of `text` in order, stemmed, with stop words as "": the positions of `terms` (how far apart)."""
    words = _words(text)
    stemmed = iter(_stemmer.stemWords([w for w in words if w not in _STOP]))
    return ["" if w in _STOP else next(stemmed) for w in words]


def _words(text: str) -> list[str]:
    """The words of `text` in order, lower case, accents dropped."""
    return [w.casefold() if w.isascii() else fold(w) for w in _WORD.findall(text)]


def fold(text: str) -> str:
    """Lower case with accents dropped ("TÜLU" → "tulu"): people type names without them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text).casefold() if not unicodedata.combining(c))
