"""Text and links from outside made safe to store and to show: no control characters, only plain web links.

Ingest cleans titles and abstracts and refuses other links; the front ends apply the same two rules to
whatever they show, so a store written before these rules (or by another tool) cannot reach a terminal,
a page or a Slack message with a terminal escape or a `javascript:` link.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

WEB_SCHEMES = {"http", "https"}
LINK_BREAKERS = set('<>"|\\^{}`')
"""Characters a URL may not hold unencoded (RFC 3986) that end an HTML attribute or a Slack link early."""


def strip_controls(text: str, keep: str = "\n\t") -> str:
    """`text` without control characters (escape, bell, backspace, C1 codes): white-space ones other than
    those in `keep` become a space, the rest are dropped; every other character is kept as it is."""
    return "".join(
        ch if ch in keep or unicodedata.category(ch) != "Cc" else " " if ch.isspace() else "" for ch in text
    )


def text_problem(value: object) -> str | None:
    """What makes `value` unfit to store as text (None when it is text): not a string, or a string holding a lone
    surrogate (JSON's "\\udc80"), which no UTF-8 file, tokenizer or database can hold."""
    if not isinstance(value, str):
        return f"is not text ({type(value).__name__} {str(value)[:40]!r})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"is not valid Unicode (a lone surrogate {value[err.start]!r} at character {err.start + 1:,})"
    return None


def url_problem(url: str) -> str | None:
    """What makes `url` unfit to be a link (None when it is a plain http(s) link with a host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return "must start with http:// or https://"
    if any(ch in LINK_BREAKERS or ch == " " or not ch.isprintable() for ch in url):
        return 'holds a space, a control character or one of < > " | \\ ^ { } `'
    return None if host else "has no host name"


def web_link(url: str | None) -> str | None:
    """`url` when it is safe to show as a link (see `url_problem`), else None."""
    return url if isinstance(url, str) and url_problem(url) is None else None
