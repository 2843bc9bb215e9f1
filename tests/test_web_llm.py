"""The web UI answering through an LLM backend (a scripted OpenAI-compatible server), in headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

from tests.openai_server import API_KEY, MODEL, ScriptedOpenAI, Step
from tests.test_answer_checks import ABSTENTION, ABSTENTION_ID, LINKS_REPLY
from tests.test_web import SEED_QUESTION, ask, opened, running_app, shoot
from tests.test_web import browser  # noqa: F401  (the Chromium fixture, shared)

pytestmark = pytest.mark.slow
REPLY = "Dropout is remarkably effective against multi-epoch degradation [1]. It also cures everything [9]."
LIST_QUESTION = "Which studies look at repeating pre-training data, and what did each find?"
LIST_REPLY = (
    "- Token-Crisis study: dropout helps against multi-epoch degradation [1].\n"
    "- Stability-gap study: warm-up matters when pre-training continues [2]."
)


def reply(body: dict) -> str:
    """The scripted model: a figure and links of its own about calibrated abstention, one line per paper for
    `LIST_QUESTION`, else `REPLY`."""
    asked = body["messages"][-1]["content"]
    return LINKS_REPLY if ABSTENTION in asked else LIST_REPLY if LIST_QUESTION in asked else REPLY


@pytest.fixture(scope="module")
def llm_app(synced_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a copy of the seeds and the synced week, answering through the scripted server."""
    home = tmp_path_factory.mktemp("web-llm") / "home"
    shutil.copytree(synced_home, home)
    with ScriptedOpenAI([Step(reply)], free_port()) as server:
        env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY, "PAPERTRAIL_LLM_MODEL": MODEL}
        with running_app(home, home.parent / "serve.log", PAPERTRAIL_LLM="openai", **env) as url:
            yield url


@pytest.fixture
def page(browser, llm_app: str):
    """A fresh laptop-width page on the LLM app."""
    with opened(browser, llm_app) as tab:
        yield tab


def test_llm_answer_links_citations_and_flags_the_removed_one(page) -> None:
    assert "LLM" in page.locator("#pt-answered-by input").input_value()
    ask(page, SEED_QUESTION)
    answer = page.locator("#pt-chat .message.bot").last.inner_text()
    assert "Dropout is remarkably effective" in answer and "[9: not a source]" in answer
    page.locator("#pt-chat a[href='#source-1']").first.click()
    page.wait_for_function("() => document.getElementById('source-1').classList.contains('pt-flash')")
    assert "[9]" in page.locator("#pt-notice").inner_text()
    shoot(page, "llm")


def test_only_a_cited_papers_own_link_is_a_link_and_an_unverified_figure_is_marked(page) -> None:
    ask(page, ABSTENTION)
    chat = page.locator("#pt-chat")
    assert "reset your password at http://evil.example/reset" in chat.inner_text()
    hrefs = chat.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not [href for href in hrefs if "evil" in href], hrefs
    assert f"https://arxiv.org/abs/{ABSTENTION_ID}" in hrefs
    flagged = chat.locator(".pt-unverified")
    assert flagged.count() == 1 and "fall by 99% [1]" in flagged.inner_text()
    assert "unverified: 99% not in the cited sources" in chat.locator(".pt-unverified-tag").inner_text()
    notice = page.locator("#pt-notice").inner_text()
    assert "Not a link of a cited paper: http://evil.example/reset" in notice
    shoot(page, "llm-unverified")


def test_an_answer_given_one_line_per_paper_shows_as_a_list(page) -> None:
    ask(page, LIST_QUESTION)
    items = page.locator("#pt-chat .message.bot").last.locator("li")
    assert items.count() == 2
    assert items.nth(0).inner_text().startswith("Token-Crisis study: dropout helps")
    assert items.nth(1).locator("a[href='#source-2']").count() == 1
