"""Listing dates, as the seed pages give them ("Mar 11", no year) and as a sync stores them ("2024-03-11").

Two dates name the same day when month and day agree and so do the years wherever both have one: a date
without a year may be any year. Merging keeps one date per listing (a dated day replaces the same day known
without a year); a date filter matches every stored date that may name the day asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_WRITTEN = re.compile(r"([A-Za-z]{3})[a-z]*\.? ([0-9]{1,2})(?:, ([0-9]{4}))?")
EXAMPLE = "2024-03-11, or Mar 11 for that day in any year"
"""How a listing date is written, for messages refusing one."""

Day = tuple[int | None, int, int]
"""(year or None, month, day)."""


def read(text: str) -> Day | None:
    """The day a listing date names ("2024-03-11", "Mar 11", "March 11, 2024"); None when it is not a date."""
    text = text.strip()
    if match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif (match := _WRITTEN.fullmatch(text)) and match.group(1).casefold() in MONTHS:
        year = int(match.group(3)) if match.group(3) else None
        month, day = MONTHS.index(match.group(1).casefold()) + 1, int(match.group(2))
    else:
        return None
    try:
        date(year or 2000, month, day)  # 2000 is a leap year, so a yearless Feb 29 passes
    except ValueError:
        return None
    return year, month, day


def same_day(first: str, second: str) -> bool:
    """True when the two dates may name the same listing day (text that is not a date only matches itself)."""
    a, b = read(first), read(second)
    if a is None or b is None:
        return first == second
    return a[1:] == b[1:] and (a[0] is None or b[0] is None or a[0] == b[0])


def merge(known: Sequence[str], new: Iterable[str]) -> list[str]:
    """`known` plus the days of `new` it lacks; a dated day takes the place of the same day known without a year."""
    dates = list(known)
    for item in new:
        same = [d for d in dates if same_day(d, item)]
        yearless = [d for d in same if _year(d) is None]
        if same and (_year(item) is None or len(yearless) < len(same)):
            continue  # that day is already listed (dated, or without a year when `item` has none either)
        if yearless:
            dates[dates.index(yearless[0])] = item
            dates = [d for d in dates if d not in yearless[1:]]
        else:
            dates.append(item)
    return dates


def _year(text: str) -> int | None:
    day = read(text)
    return day[0] if day else None


def matching(asked: Iterable[str], stored: Iterable[str]) -> list[str]:
    """The stored dates that may name a day asked for, after the asked dates themselves (an unknown one matches nothing)."""
    asked = list(asked)
    found = dict.fromkeys(asked)
    for item in sorted(set(stored)):
        if any(same_day(item, wanted) for wanted in asked):
            found[item] = None
    return list(found)


def sort_key(text: str) -> tuple[int, int, int, str]:
    """Calendar order: dates without a year first (by month and day), then dated ones, then text that is no date."""
    day = read(text)
    if day is None:
        return 10_000, 13, 0, text
    return day[0] or 0, day[1], day[2], text
