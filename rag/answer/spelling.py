"""A question's names typed in lower case, spelled as the library's titles spell them: "tell me about holmes"
asks about "Holmes: Towards Distributed Training ...", "whats lumos" about "Lumos: ...". Read as typed, neither word
is a name (a name has capitals), so the paper was ranked low, declined, or quoted for one sentence instead of
introduced.

Own code: llama-index has no question rewriting that knows the library's names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..text import terms
from .asked import squash, title_name
from .decision import FORM_WORDS
from .english import english

_WORD = re.compile(r"[\w+\-]+")
_ABOUT_IT = FORM_WORDS | terms("work works do does whats wat wats")
"""Words of a question that asks only what a named thing is ("how does holmes work", "what is holmes about")."""


def typed_names(question: str) -> list[str]:
    """The lower-case words of `question` that may be names: no English word ("lumos", "chinesewebtext"), or one the
    question asks nothing else of ("tell me about holmes"; "how does crystal growth work" is about crystals)."""
    asked = terms(question)
    return [word for word in _WORD.findall(question) if _may_name(word, asked)]


def _may_name(word: str, asked: set[str]) -> bool:
    """`word` is typed in lower case and is no English word, or the question's other terms (`asked`, all of them)
    ask nothing else of it."""
    if word != word.lower() or not any(c.isalpha() for c in word):
        return False
    return not english(word) or asked - terms(word) <= _ABOUT_IT


def respelled(question: str, titles: Iterable[str]) -> str:
    """`question` with each of its `typed_names` that is one of `titles`' one-word short names (before the colon)
    written as the title writes it."""
    shorts = {squash(name): name for title in titles if (name := title_name(title)) and " " not in name}
    shorts.pop("", None)
    asked = terms(question)

    def spelled(match: re.Match[str]) -> str:
        word = match.group(0)
        name = shorts.get(squash(word))
        return name if name is not None and _may_name(word, asked) else word

    return _WORD.sub(spelled, question) if shorts else question
