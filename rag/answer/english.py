"""Which words are ordinary English: the question's wording, not its topic, when no abstract has them.

The measure is the bundled embedding model's WordPiece vocabulary (BERT's, chosen by frequency from Wikipedia and
books): its whole words, stemmed as the BM25 index stems. "whoever", "flatter" and "hack" are in it; "watermark",
"zorbleformer" and "Quokka" are not. Nothing is downloaded: the file ships with the model package.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..embed import local_model_dir
from ..errors import ModelError
from ..text import terms

_WHOLE_WORD = re.compile(r"[a-z]{2,}")


@lru_cache(maxsize=1)
def ordinary_terms() -> frozenset[str]:
    """The stems of the vocabulary's whole words (empty when the model package is missing: then no word is)."""
    try:
        lines = (local_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (ModelError, OSError):
        return frozenset()
    return frozenset(terms(" ".join(word for word in lines if _WHOLE_WORD.fullmatch(word))))


def ordinary(term: str) -> bool:
    """Whether a stemmed term is an ordinary English word."""
    return term in ordinary_terms()


def english(word: str) -> bool:
    """Whether a word as typed is English: a stop word ("that") or one whose stem is ordinary."""
    found = terms(word)
    return not found or any(ordinary(t) for t in found)
