"""Block Kit layout of a Papertrail answer for Slack, kept within Slack's size limits so a reply is never rejected."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import rag

from .present import ITEM, byline, dates_label, flagged_runs, is_item, lead_span, link_pieces, listed_sources, own_links
from .present import quotes_to_show, sources_heading, unverified_label
from .present import notes as answer_notes

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
FIRST_SENTENCE_LIMIT = 400
"""Longest first sentence shown for a new paper."""

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
    """`text` in pieces of at most `limit` characters, broken at a line end where one falls in a piece's second half
    (a list's line stays whole, its bullet first), else at a space, else at the limit."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else text.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces + [text] if text else pieces


def fallback_text(answer: rag.Answer) -> str:
    """The plain text of the reply: shown in notifications and read back as history of the thread."""
    return trim(escape(answer.text), TEXT_LIMIT)


def _section(text: str, verbatim: bool = False) -> Block:
    """A mrkdwn section; `verbatim`: Slack leaves bare URLs, channel names and mentions in it as text."""
    shown = {"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}
    return {"type": "section", "text": shown | {"verbatim": True} if verbatim else shown}


def answer_mrkdwn(answer: rag.Answer, start: int, end: int) -> str:
    """`answer.text[start:end]` as mrkdwn: escaped, only the cited papers' own links linked (anything else a client
    would link shows as code), and each sentence stating figures no cited source states marked unverified."""
    own = own_links(answer)
    parts = []
    for text, flag in flagged_runs(answer, start, end):
        shown = "".join(
            escape(piece) if kind is None else link(piece, piece) if kind else f"`{escape(piece)}`"
            for piece, kind in link_pieces(text, own)
        )
        parts.append(f"{shown} :warning: _{escape(unverified_label(flag))}_" if flag else shown)
    return "".join(parts).strip()


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}]}


def _link(paper: rag.Paper) -> str:
    """The paper's title linked to arXiv when its id is known, else to its own (http/https) page or a title search."""
    url = rag.web_link(paper.arxiv_url) or rag.web_link(paper.url) or LOOKUP_URL.format(quote_plus(paper.title))
    return link(url, trim(paper.title, 300))


def _source_block(source: rag.Source, quotes: list[str], cited: bool) -> Block:
    dates = escape(dates_label(source.dates))
    lines = [f"{f'*[{source.n}]*' if cited else '•'} {_link(source)} · listed {dates}"]
    lines += [escape(byline(source))] if source.authors else []
    lines += [f"> “{escape(quote)}”" for quote in quotes]
    return _section("\n".join(lines))


def source_blocks(answer: rag.Answer) -> list[Block]:
    """One section per listed source under a heading saying which they are: number (when cited), linked title, listing
    date and the quoted sentences the answer does not already say."""
    quotes = quotes_to_show(answer)
    listed = listed_sources(answer)
    if not listed:
        return []
    heading = _section(f"*{sources_heading(answer)}*")
    return [heading] + [_source_block(source, quotes.get(source.n, []), not answer.abstained) for source in listed]


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
    """The answer's lead in bold (with the reason when it declined), the rest or its one line per paper as a bulleted
    list (split across sections), the listed sources, notes, backend and time, feedback."""
    end, rest = lead_span(answer)
    first = answer_mrkdwn(answer, 0, end)
    if answer.abstained and answer.reason:
        first = f"{first} {escape(answer.reason)}"
    lines = answer_mrkdwn(answer, rest, len(answer.text)).split("\n")
    rest_text = "\n".join(f"• {line.removeprefix(ITEM)}" if is_item(line) else line for line in lines)
    body = [_section(f"*{first}*", verbatim=True)] if first else []
    body += [_section(piece, verbatim=True) for piece in split(rest_text)]
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


def batch_text(batch: rag.SyncBatch) -> str:
    """The plain text of a new-papers message: how many and their titles."""
    titles = "; ".join(paper.title for paper in batch.papers)
    return trim(escape(f"{_count_papers(batch)} from Hugging Face Daily Papers: {titles}"), TEXT_LIMIT)


def batch_blocks(batch: rag.SyncBatch) -> list[Block]:
    """The papers one sync added, each its title linked to arXiv, its authors and first sentence, in as few sections
    as Slack's limits allow; what does not fit is counted at the end."""
    heading = f"*{_count_papers(batch)}* from Hugging Face Daily Papers (sync of {batch.finished:%Y-%m-%d %H:%M} UTC)"
    sections: list[tuple[str, int]] = []
    for paper in batch.papers:
        authors = f" · {escape(byline(paper))}" if paper.authors else ""
        sentence = escape(trim(rag.first_sentence(paper.abstract), FIRST_SENTENCE_LIMIT))
        entry = f"• {_link(paper)}{authors}\n{sentence}"
        if sections and len(sections[-1][0]) + 2 + len(entry) <= SECTION_LIMIT:
            sections[-1] = (f"{sections[-1][0]}\n\n{entry}", sections[-1][1] + 1)
        else:
            sections.append((entry, 1))
    shown = sections[: MAX_BLOCKS - 2]
    left = len(batch.papers) - sum(count for _, count in shown)
    tail = [_context(f"…and {left} more: ask me about them.")] if left else []
    return [_section(heading)] + [_section(text) for text, _ in shown] + tail


def _count_papers(batch: rag.SyncBatch) -> str:
    return f"{len(batch.papers)} new paper{'' if len(batch.papers) == 1 else 's'}"


ASK_ABOUT_ACTION = "papertrail_ask_about"
"""Action id of the "Ask about it" button under a watch match; its value is the question to ask."""


def match_text(match: rag.WatchMatch) -> str:
    """The plain text of a watch match: notifications and history."""
    return trim(escape(f"New paper for your watch “{match.watch.question}”: {match.paper.title}"), TEXT_LIMIT)


def match_blocks(match: rag.WatchMatch) -> list[Block]:
    """A new paper that matched a watch: the watch, the paper linked to arXiv with its dates, the matching sentence
    quoted as the sources of an answer quote theirs, and an "Ask about it" button."""
    paper = match.paper
    dates = escape(", ".join(paper.dates) or "no listing date")
    lines = [f"*New paper for your watch* “{escape(trim(match.watch.question, 300))}” (watch {match.watch.id})",
             f"{_link(paper)} · listed {dates}"]
    lines += [escape(byline(paper))] if paper.authors else []
    lines += [f"> “{escape(match.sentence)}”"] if match.sentence else []
    button = {
        "type": "button",
        "action_id": ASK_ABOUT_ACTION,
        "text": {"type": "plain_text", "text": "Ask about it", "emoji": True},
        "value": trim(match.ask, 2000),
    }
    return [_section("\n".join(lines)), {"type": "actions", "elements": [button]}]


def watches_text(watches: list[rag.Watch]) -> str:
    """`/papertrail watches`: the user's watches, one a line, or how to add one."""
    if not watches:
        return "You have no watches yet: `/papertrail watch <question or topic>`."
    lines = [f"*{watch.id}* {escape(watch.question)}" + (f" (posted to <#{escape(watch.channel)}>)" if watch.channel else "")
             for watch in watches]
    return "Your watches (remove one with `/papertrail unwatch <id>`):\n" + "\n".join(lines)
