"""Watches in the web UI, in a real headless Chromium: "Watch this" under an answer saves the question for this
browser; after a Hub stand-in sync (killed mid-way and run again) the header counts the new match once, the list
shows it with its sentence highlighted, and "Ask about it" asks about it in one click."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hub_server import HubStandIn
from test_web import LAPTOP, WAIT_MS, ask, browser, running_app, shoot  # noqa: F401 (browser is a fixture)
from test_watches import killed_sync_then_rerun

pytestmark = pytest.mark.slow

WATCH = "faster decoding for long-context language models"
MATCH = "Sparse Lookahead Decoding for Long-Context Language Models"


def test_watch_this_then_a_sync_shows_the_match_once_per_browser(browser, seeded_home: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub, running_app(home, tmp_path / "serve.log", HF_ENDPOINT=hub.url) as url:
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        page.locator("#pt-watch-listing").get_by_text("No watches yet").wait_for()
        ask(page, WATCH)
        page.locator("#pt-watch-this").click()
        page.locator("#pt-watch-notice .pt-ok").wait_for()
        assert f"Watching “{WATCH}”" in page.locator("#pt-watch-notice").inner_text()
        assert f"1 {WATCH}" in page.locator("#pt-watch-listing .pt-watch-list").inner_text()

        killed_sync_then_rerun(home, hub)
        page.reload()
        page.locator("#pt-watch-count .pt-watch-count").wait_for()
        assert page.locator("#pt-watch-count").inner_text().strip() == "1 new match for your watches"
        [card] = page.locator("#pt-watch-listing .pt-match").all()
        assert card.locator(".pt-title a").inner_text() == MATCH
        assert card.locator(".pt-title a").get_attribute("href") == "https://arxiv.org/abs/2603.07101"
        assert card.locator(".pt-new").count() == 1
        assert card.locator(".pt-abstract mark").count() == 1, "the matching sentence is highlighted"
        shoot(page, "watch-match")

        card.locator(".pt-ask-about").click()  # the chat is empty after the reload: the answer is its first message
        page.wait_for_function("() => document.querySelectorAll('#pt-chat .message.bot').length == 1 && !document.querySelector('.generating')")
        assert page.locator("#pt-chat .message.user").first.inner_text().strip() == f"What does “{MATCH}” propose?"
        page.locator("#source-1 .pt-title").get_by_text(MATCH).wait_for()

        page.reload()
        page.locator("#pt-watch-listing .pt-match").first.wait_for()
        assert page.locator("#pt-watch-count").inner_text().strip() == "", "a match is new once"
        assert page.locator("#pt-watch-listing .pt-new").count() == 0
        context.close()

        other = browser.new_context(viewport=LAPTOP)
        elsewhere = other.new_page()
        elsewhere.set_default_timeout(WAIT_MS)
        elsewhere.goto(url)
        elsewhere.locator("#pt-watch-listing").get_by_text("No watches yet").wait_for()
        other.close()
