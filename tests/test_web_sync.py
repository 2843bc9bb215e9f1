"""The web UI over a synced store, in a real headless Chromium: the header says when the last sync ran, source
cards show authors and arXiv links, Update runs a sync with progress; read-only and login hide Update."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from hub_server import HubStandIn, listing
from rag import sync_state
from rag.daily_papers import SETTLE_DAYS
from test_web import LAPTOP, WAIT_MS, ask, browser, running_app, shoot  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.slow

SYNCED_TITLE = "Sparse Lookahead Decoding for Long-Context Language Models"
TODAY_TITLE = "Lossless Streaming Compression of Key-Value Caches"


def list_today(hub: HubStandIn, home: Path) -> date:
    """Has the Hub stand-in list one more paper today (what Update should bring in), and makes `home`'s last sync
    now, so that Update fetches today and the settling days before it; returns today's date (UTC)."""
    record = copy.deepcopy(listing("2026-03-09")[1])
    record["paper"].update(id="2611.09999", title=TODAY_TITLE, summary=(
        "Key-value caches dominate the memory of long-context inference. We compress them while streaming with an "
        "entropy coder conditioned on the previous layer, losslessly, at 3.1 bits per value."))
    record["title"] = TODAY_TITLE
    with sync_state.editing(home) as state:
        state.last_sync = sync_state.now()
    today = state.last_sync.date()
    hub.script(f"daily_papers/{today}", [{"status": 200, "headers": {}, "body": [record]}])
    return today


@contextmanager
def served_page(browser, home: Path, log: Path, **env: str) -> Iterator:  # noqa: F811 (the fixture's value)
    """`papertrail serve` over `home` with `env`, and a fresh laptop-width page on it."""
    with running_app(home, log, **env) as url:
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        try:
            yield page
        finally:
            context.close()


SHOWN_WHILE_UPDATING = """() => {
  window.ptProgressShown = false;
  const box = document.querySelector('#pt-updated');
  new MutationObserver(() => {
    const working = !box.querySelector('.pt-note') && box.innerText.includes('Fetching Daily Papers');
    if (working && getComputedStyle(box).display !== 'none') window.ptProgressShown = true;
  }).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
"""Watches the update's result box: true once its progress ("Fetching Daily Papers") shows before the result does."""


def test_header_cards_and_update(browser, synced_copy: Path, hub: HubStandIn, tmp_path: Path) -> None:  # noqa: F811
    today = list_today(hub, synced_copy)
    with served_page(browser, synced_copy, tmp_path / "serve.log", HF_ENDPOINT=hub.url) as page:
        header = page.locator("#pt-header")
        header.get_by_text("research-paper abstracts").wait_for()
        assert "355" in header.inner_text(), "339 seeds and 16 synced papers"
        assert "Last sync with Hugging Face Daily Papers: " in header.inner_text()

        ask(page, "What does Sparse Lookahead Decoding speed up on long sequences?")
        card = page.locator("#source-1")
        assert card.locator(".pt-title").inner_text() == SYNCED_TITLE
        assert card.locator(".pt-authors").inner_text() == "Mira Okafor, Tomasz Lindqvist, Hana Sato"
        assert card.locator(".pt-links a", has_text="arXiv").get_attribute("href") == "https://arxiv.org/abs/2603.07101"
        assert card.locator(".pt-links a", has_text="Paper page").get_attribute("href") == "https://huggingface.co/papers/2603.07101"
        shoot(page, "synced-source")

        asked = len(hub.requests)
        page.evaluate(SHOWN_WHILE_UPDATING)
        page.locator("#pt-update").click()
        page.locator("#pt-updated .pt-ok").wait_for()
        assert page.evaluate("window.ptProgressShown"), "the update's progress shows under the header while it runs"
        days = 1 + SETTLE_DAYS + (sync_state.now().date() - today).days  # one more if midnight (UTC) passed meanwhile
        updated = page.locator("#pt-updated").inner_text()
        assert f"Updated: {days} listing days, 1 paper: 1 new, 0 already stored." in updated
        assert len(hub.requests) > asked
        page.wait_for_function("() => document.querySelector('#pt-header').innerText.includes('356')")
        page.locator("#pt-clear").click()  # a new conversation, not a follow-up
        page.locator("#pt-sources .pt-empty").wait_for()
        ask(page, "How are key-value caches compressed losslessly while streaming?")
        assert page.locator("#source-1 .pt-title").inner_text() == TODAY_TITLE
        shoot(page, "update")


def test_read_only_hides_update_and_add(browser, synced_copy: Path, tmp_path: Path) -> None:  # noqa: F811
    with served_page(browser, synced_copy, tmp_path / "serve.log", PAPERTRAIL_UI_READ_ONLY="true") as page:
        page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
        assert page.locator("#pt-update").count() == 0 or not page.locator("#pt-update").is_visible()
        assert page.locator("#pt-add").count() == 0 or not page.locator("#pt-add").is_visible()


def test_update_is_shown_only_after_login_when_auth_is_on(browser, synced_copy: Path, tmp_path: Path) -> None:  # noqa: F811
    with served_page(browser, synced_copy, tmp_path / "serve.log", PAPERTRAIL_UI_AUTH="alice:s3cret") as page:
        page.get_by_label("username").wait_for()
        assert page.locator("#pt-update").count() == 0
        page.get_by_label("username").fill("alice")
        page.get_by_label("password").fill("s3cret")
        page.get_by_role("button", name="Login").click()
        page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
        assert page.locator("#pt-update").is_visible()
