"""The web UI's watches: a "Watch this" button under the answers, the header's count of new matches, and a list of
the user's watches with their matches (per logged-in user; without a login, per browser)."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Any

import gradio as gr

import rag

from .web_render import highlight, note_html

BROWSER_KEY = "papertrail-browser"
"""localStorage key of the random id that owns a browser's watches when the UI has no login."""
SHOWN = 20
"""Latest matches listed."""
NO_MATCHES = '<div class="pt-empty">No matches yet: they appear after a sync or an upload adds papers.</div>'
FIRST_ASK = "Ask a question first: “Watch this” saves it as a watch."


@dataclass
class WatchPanel:
    """The components of the watches section, for wiring."""

    browser: gr.BrowserState
    button: gr.Button
    count: gr.HTML
    notice: gr.HTML
    listing: gr.HTML
    chosen: gr.Dropdown
    remove: gr.Button


def owner(request: gr.Request | None, browser: str) -> str:
    """Whose watches the page shows: the logged-in user's, else this browser's."""
    username = getattr(request, "username", None)
    return f"web:{username}" if username else f"browser:{browser}"


def count_html(new: int) -> str:
    """The header's line about new matches (empty when there are none)."""
    if not new:
        return ""
    return f'<a class="pt-watch-count" href="#pt-watches">{new} new match{"" if new == 1 else "es"} for your watches</a>'


def match_card(match: rag.WatchMatch, new: bool) -> str:
    """One match: the watch, the paper linked to arXiv, its abstract with the matching sentence highlighted as in
    the sources panel, and a one-click "Ask about it"."""
    paper = match.paper
    abstract, _ = highlight(paper.abstract, [match.sentence] if match.sentence else [])
    url = rag.web_link(paper.arxiv_url) or rag.web_link(paper.url)
    title = html.escape(paper.title)
    heading = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
    badge = '<span class="pt-new">new</span> ' if new else ""
    return (
        f'<article class="pt-card pt-match" data-paper="{html.escape(paper.paper_id)}">'
        f'<div class="pt-meta">{badge}Watch {match.watch.id}: {html.escape(match.watch.question)}</div>'
        f'<h3 class="pt-title">{heading}</h3>'
        f'<div class="pt-meta">Listed {html.escape(", ".join(paper.dates) or "no listing date")}</div>'
        f'<p class="pt-abstract">{abstract}</p>'
        f'<button class="pt-ask-about" data-question="{html.escape(match.ask)}">Ask about it</button></article>'
    )


def listing_html(watches: list[rag.Watch], new: list[rag.WatchMatch], earlier: list[rag.WatchMatch]) -> str:
    """The user's watches, then their latest matches, new ones first and marked."""
    if not watches:
        return '<div class="pt-empty">No watches yet: ask a question, then press “Watch this”.</div>'
    items = "".join(f"<li><b>{w.id}</b> {html.escape(w.question)}</li>" for w in watches)
    fresh = {match.id for match in new}
    cards = [match_card(match, True) for match in new] + [match_card(m, False) for m in earlier if m.id not in fresh]
    shown = "".join(cards[:SHOWN]) or NO_MATCHES
    return f'<ul class="pt-watch-list">{items}</ul><div class="pt-sources">{shown}</div>'


class WatchHandlers:
    """The section's event handlers over one `Settings`."""

    def __init__(self, settings: rag.Settings) -> None:
        self.settings = settings

    def show(self, browser: str, request: gr.Request) -> tuple[Any, ...]:
        """The browser's id (made on its first visit), the count of new matches and the list; showing the new
        matches here is their delivery, so each is counted as new once."""
        browser = browser or uuid.uuid4().hex
        who = owner(request, browser)
        new = rag.watches.check(owner=who, settings=self.settings)
        watches = rag.watches.list(who, self.settings)
        earlier = rag.watches.matches(who, SHOWN, self.settings)
        choices = [(f"{w.id}: {w.question}", w.id) for w in watches]
        return browser, count_html(len(new)), listing_html(watches, new, earlier), gr.update(choices=choices, value=None)

    def watch_this(self, turns: list[rag.Turn], browser: str, request: gr.Request) -> tuple[Any, ...]:
        """Save the last question asked as a watch of this user (or browser)."""
        if not turns:
            return note_html([FIRST_ASK], "error"), *self.show(browser, request)[1:]
        try:
            watch = rag.watches.add(turns[-1].question, owner(request, browser or ""), settings=self.settings)
        except rag.PapertrailError as err:
            return note_html([f"Not watched: {err}"], "error"), *self.show(browser, request)[1:]
        note = f"Watching “{watch.question}”: new papers that answer it will appear under Your watches."
        return note_html([note], "ok"), *self.show(browser, request)[1:]

    def remove(self, watch_id: int | None, browser: str, request: gr.Request) -> tuple[Any, ...]:
        """Delete the chosen watch of this user (or browser)."""
        if watch_id is None:
            return note_html(["Choose a watch to remove."], "error"), *self.show(browser, request)[1:]
        try:
            removed = rag.watches.remove(int(watch_id), owner(request, browser or ""), self.settings)
        except rag.PapertrailError as err:
            return note_html([str(err)], "error"), *self.show(browser, request)[1:]
        return note_html([f"Watch {removed.id} removed."], "ok"), *self.show(browser, request)[1:]


def button() -> gr.Button:
    """The "Watch this" button, placed under the answers."""
    return gr.Button("Watch this", variant="secondary", size="sm", elem_id="pt-watch-this")


def section(count: gr.HTML, watch_button: gr.Button) -> WatchPanel:
    """The "Your watches" accordion (list, remove), with the header's `count` and the "Watch this" `watch_button`."""
    browser = gr.BrowserState("", storage_key=BROWSER_KEY)
    with gr.Accordion("Your watches", open=True, elem_id="pt-watches"):
        gr.Markdown("Each new paper that answers a watched question is shown here once a sync or an upload adds it.")
        notice = gr.HTML("", elem_id="pt-watch-notice")
        listing = gr.HTML("", elem_id="pt-watch-listing")
        with gr.Row(equal_height=True):
            chosen = gr.Dropdown([], label="Watch", scale=3, elem_id="pt-watch-choice")
            remove = gr.Button("Remove", size="sm", scale=1, elem_id="pt-watch-remove")
    return WatchPanel(browser, watch_button, count, notice, listing, chosen, remove)


def wire(app: gr.Blocks, panel: WatchPanel, turns: gr.State, settings: rag.Settings, writes: list[Any]) -> None:
    """Connect the section: shown on load and after each of the page's `writes` (events that add papers);
    "Watch this" and "Remove" change it."""
    handlers = WatchHandlers(settings)
    shown = [panel.browser, panel.count, panel.listing, panel.chosen]
    for event in [app.load(None), *writes]:  # no progress of its own: the write showed its own in its panel
        event.then(handlers.show, [panel.browser], shown, api_visibility="private", show_progress="hidden")
    panel.button.click(handlers.watch_this, [turns, panel.browser], [panel.notice, *shown[1:]], api_visibility="private")
    panel.remove.click(handlers.remove, [panel.chosen, panel.browser], [panel.notice, *shown[1:]], api_visibility="private")
