"""Figures in text read as values, so a number an answer states can be looked up in its sources whatever the
notation: "1.2 trillion" = "1,200B" = "1200 billion", "64%" = "64 percent" = "64.0 per cent", "32K" = "32,000".

Own code: neither llama-index nor the standard library reads numbers out of running text with their scale.
A figure is its value (exact, a `Decimal`) and whether it is a percentage; signs are ignored ("-0.5" in an
abstract and "drops by 0.5" in an answer are the same figure), and so are digits inside names ("T5", "v2").
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

_SCALES = {
    "thousand": 3, "k": 3,
    "million": 6, "m": 6, "mn": 6,
    "billion": 9, "b": 9, "bn": 9,
    "trillion": 12, "t": 12,
}
_FIGURE = re.compile(
    r"(?<![^\W\d_])(?<![\d.])"  # not inside a name ("T5") nor inside a longer number
    r"(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?"
    r"(?:\s?(?P<percent>%|percent\b|per\s?cent\b|percentage points?\b)"
    r"|\s?(?P<word>thousand|million|billion|trillion)\b"
    r"|(?P<letter>k|mn|m|bn|b|t)(?![^\W\d_]))?",
    re.IGNORECASE,
)

Figure = tuple[Decimal, bool]
"""A figure's value and whether it is a percentage."""


def figures(text: str) -> dict[str, Figure]:
    """The figures of `text`, each as written ("1,200B") with its value ((1.2E+12, False))."""
    found: dict[str, Figure] = {}
    normal = unicodedata.normalize("NFKC", text)  # fullwidth digits and ％ read as the ASCII ones
    for match in _FIGURE.finditer(normal):
        number = Decimal(match.group("whole").replace(",", "") + (match.group("fraction") or ""))
        scale = (match.group("word") or match.group("letter") or "").casefold()
        value = number.scaleb(_SCALES.get(scale, 0)).normalize()
        found.setdefault(match.group(0).strip(), (value, bool(match.group("percent"))))
    return found


def unstated(text: str, sources: list[str]) -> list[str]:
    """The figures of `text` (as written) that none of `sources` states, in order of appearance."""
    stated = {figure for source in sources for figure in figures(source).values()}
    return [written for written, figure in figures(text).items() if figure not in stated]
