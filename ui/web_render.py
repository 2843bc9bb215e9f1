"""HTML and Markdown for the web UI: linked [n] markers, the sources panel and answer notes (no gradio here)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote_plus

from rag import Answer, Source, web_link

from .present import byline, dates_label, flagged_runs, link_pieces, own_links, quotes_by_source, unverified_label
from .present import notes as answer_notes

MARKER = re.compile(r"\[(\d+)\]")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|])")
"""Characters that would turn text into a link, an image, HTML or emphasis in the chat's Markdown."""
EMPTY_PANEL = '<div class="pt-empty">Ask a question: the papers behind the answer appear here.</div>'


AUTOLINK = re.compile(r"(?<=\w)(:)(?=//)|(?<=\bwww)(\.)|(@)", re.IGNORECASE)
"""The characters after which the chat's Markdown would make a link of bare text (`http://`, `www.`, `a@b.c`)."""


def plain(text: str) -> str:
    """Markdown showing `text` as it is: a `[x](javascript:...)`, `<a href>`, `<img>`, or a bare `http://…`,
    `www.…` or e-mail address (which the chat would link by itself) stays inert text."""
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return AUTOLINK.sub(lambda match: "\\" + match.group(0), escaped)


def link_citations(text: str) -> str:
    """The answer as Markdown showing its text as it is (see `plain`), each [n] marker linked to source card n."""
    pieces = MARKER.split(text)  # text, n, text, n, ..., text: the odd ones are marker numbers
    return "".join(f"[[{piece}]](#source-{piece})" if index % 2 else plain(piece) for index, piece in enumerate(pieces))


def answer_markdown(answer: Answer) -> str:
    """The finished answer for the chat: text as it is, [n] linked to the source cards, only the cited papers' own
    links as links, each sentence stating figures that no cited source states marked unverified, and after the
    abstention phrase the reason it declined."""
    own = own_links(answer)
    parts = []
    for text, flag in flagged_runs(answer):
        shown = "".join(
            link_citations(piece) if kind is None else f"<{piece}>" if kind else plain(piece)
            for piece, kind in link_pieces(text, own)
        )
        if flag:
            label = html.escape(unverified_label(flag))
            tag = f'<span class="pt-unverified-tag">⚠ {label}</span>'
            shown = f'<span class="pt-unverified" title="{label}">{shown}</span> {tag}'
        parts.append(shown)
    return "".join(parts) + (f" {plain(answer.reason)}" if answer.abstained and answer.reason else "")


def highlight(abstract: str, quotes: list[str]) -> tuple[str, list[str]]:
    """The abstract as HTML with each quote found in it wrapped in <mark>; also the quotes not found."""
    marked = html.escape(abstract)
    missing = []
    for quote in quotes:
        escaped = html.escape(quote.strip())
        if escaped and escaped in marked:
            marked = marked.replace(escaped, f"<mark>{escaped}</mark>", 1)
        elif escaped:
            missing.append(quote)
    return marked, missing


def source_card(source: Source, quotes: list[str]) -> str:
    """One numbered card: title, dates, authors, the abstract with its quoted sentences highlighted, links (straight to
    arXiv when the arXiv id is known, else a title search)."""
    abstract, missing = highlight(source.abstract, quotes)
    title = html.escape(source.title)
    dates = html.escape(dates_label(source.dates))
    query = quote_plus(source.title)
    status = "cited" if quotes else "uncited"
    extra = "".join(f'<blockquote class="pt-quote">{html.escape(q)}</blockquote>' for q in missing)
    authors = f'<div class="pt-authors">{html.escape(byline(source))}</div>' if source.authors else ""
    page = web_link(source.url)  # http(s) only: a stored `javascript:` URL never becomes a link
    links = [
        (page, "Paper page") if page else None,
        (web_link(source.arxiv_url) or f"https://arxiv.org/search/?query={query}&searchtype=title", "arXiv"),
        None if page else (f"https://huggingface.co/papers?q={query}", "Hugging Face papers"),
    ]
    anchors = " · ".join(
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{label}</a>' for url, label in filter(None, links)
    )
    return (
        f'<article class="pt-card pt-{status}" id="source-{source.n}">'
        f'<header><span class="pt-n">{source.n}</span><h3 class="pt-title">{title}</h3></header>'
        f'<div class="pt-meta">Listed {dates}{"" if quotes else " · retrieved, not cited"}</div>{authors}'
        f'<details{" open" if quotes else ""}><summary>Abstract</summary><p class="pt-abstract">{abstract}</p></details>'
        f"{extra}<div class=\"pt-links\">Look up: {anchors}</div></article>"
    )


def sources_panel(answer: Answer) -> str:
    """Cards for every source of the answer, cited ones first, in number order."""
    if not answer.sources:
        return '<div class="pt-empty">No papers to show for this question.</div>'
    quotes = quotes_by_source(answer)
    ordered = sorted(answer.sources, key=lambda s: (s.n not in quotes, s.n))
    return '<div class="pt-sources">' + "".join(source_card(s, quotes.get(s.n, [])) for s in ordered) + "</div>"


def notes(answer: Answer) -> str:
    """Warnings a reader should see next to the answer, in a notice box."""
    return note_html(answer_notes(answer))


def note_html(lines: list[str], kind: str = "warn") -> str:
    """A visible notice box (empty string when there is nothing to say)."""
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in dict.fromkeys(lines))
    return f'<div class="pt-note pt-{kind}" role="status"><ul>{items}</ul></div>'
