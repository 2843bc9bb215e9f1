"""Block Kit layout of a Papertrail answer for Slack, kept within Slack's size limits so a reply is never rejected."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import rag

from .present import notes as answer_notes
from .present import listed_sources, quotes_by_source

SECTION_LIMIT = 3000
"""Slack rejects a section whose text is longer than this."""
MAX_BLOCKS = 50
"""Slack rejects a message with more blocks than this."""
TEXT_LIMIT = 3000
"""Length kept of the plain `text` of a message (notifications and history; Slack truncates at 40,000)."""
FEEDBACK_ACTION = "papertrail_feedback_"
"""Prefix of the action ids of the thumbs buttons; the suffix is the rating ("up" or "down")."""
LOOKUP_URL = "https://huggingface.co/papers?q={}"
"""Where a paper without its own URL is looked up (the seeds are Hugging Face Daily Papers)."""

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text with the three characters Slack's mrkdwn reserves escaped, so user text cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A mrkdwn link neither part of which can end it early or add a mention: &, < and > escaped in both, and
    | (which Slack cannot escape) percent-encoded in the URL and shown as ¦ in the label."""
    return f"<{escape(url).replace('|', '%7C')}|{escape(label).replace('|', '¦')}>"


def mention(user: str) -> str:
    """A mention of the Slack user id `user`, escaped like a link."""
    return f"<@{escape(user).replace('|', '%7C')}>"


def unescape(text: str) -> str:
    """Text as a person typed it: Slack delivers &, < and > in message text escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def trim(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, broken at line ends or spaces where possible."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces + [text] if text else pieces


def fallback_text(answer: rag.Answer) -> str:
    """The plain text of the reply: shown in notifications and read back as history of the thread."""
    return trim(escape(answer.text), TEXT_LIMIT)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}]}


def _source_block(source: rag.Source, quotes: list[str]) -> Block:
    url = rag.web_link(source.url) or LOOKUP_URL.format(quote_plus(source.title))
    dates = escape(", ".join(source.dates) or "no listing date")
    lines = [f"*[{source.n}]* {link(url, trim(source.title, 300))} · listed {dates}"]
    lines += [f"> “{escape(quote)}”" for quote in quotes]
    return _section("\n".join(lines))


def source_blocks(answer: rag.Answer) -> list[Block]:
    """One section per listed source (the cited ones): number, linked title, listing date and the quoted sentences."""
    quotes = quotes_by_source(answer)
    listed = listed_sources(answer)
    if not listed:
        return []
    return [_section("*Sources*")] + [_source_block(source, quotes.get(source.n, [])) for source in listed]


def feedback_block() -> Block:
    """The thumbs-up/down buttons; the answer they rate is found from the message they sit on."""
    buttons = [("up", ":thumbsup: Helpful"), ("down", ":thumbsdown: Not helpful")]
    return {
        "type": "actions",
        "block_id": "papertrail_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": FEEDBACK_ACTION + rating,
                "text": {"type": "plain_text", "text": label, "emoji": True},
            }
            for rating, label in buttons
        ],
    }


def answer_blocks(answer: rag.Answer) -> list[Block]:
    """The answer text (split across sections), its cited sources, notes, backend and time, and feedback buttons."""
    body = [_section(piece) for piece in split(escape(answer.text))]
    body += source_blocks(answer)
    notes = answer_notes(answer)
    seconds = answer.timings_ms.get("total", 0) / 1000
    tail = [_context(escape(note)) for note in notes[:3]]
    tail += [_context(f"Answered by `{answer.backend}` in {seconds:.1f} s"), feedback_block()]
    return body[: MAX_BLOCKS - len(tail)] + tail


def rated_blocks(blocks: list[Block], rating: str, user: str) -> list[Block]:
    """The message's blocks with the buttons replaced by a line saying who rated it and how."""
    thumb = ":thumbsup:" if rating == "up" else ":thumbsdown:"
    kept = [block for block in blocks if block.get("block_id") != "papertrail_feedback"]
    return kept + [_context(f"{thumb} Rated by {mention(user)}, thank you.")]
