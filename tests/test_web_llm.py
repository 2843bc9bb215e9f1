"""The web UI answering through an LLM backend (a scripted OpenAI-compatible server), in headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

from tests.openai_server import API_KEY, MODEL, ScriptedOpenAI, Step
from tests.test_web import LAPTOP, SEED_QUESTION, WAIT_MS, ask, running_app, shoot
from tests.test_web import browser  # noqa: F401  (the Chromium fixture, shared)

pytestmark = pytest.mark.slow
REPLY = "Dropout is remarkably effective against multi-epoch degradation [1]. It also cures everything [9]."


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedOpenAI]:
    """The scripted OpenAI-compatible server the app answers through (a test may give it another reply)."""
    with ScriptedOpenAI([Step(REPLY)], free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def llm_app(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory, llm_server: ScriptedOpenAI) -> Iterator[str]:
    """The app over a copy of the seeds, answering through the scripted server."""
    home = tmp_path_factory.mktemp("web-llm") / "home"
    shutil.copytree(seeded_home, home)
    env = {"OPENAI_BASE_URL": llm_server.url, "OPENAI_API_KEY": API_KEY, "PAPERTRAIL_LLM_MODEL": MODEL}
    with running_app(home, home.parent / "serve.log", PAPERTRAIL_LLM="openai", **env) as url:
        yield url


def test_llm_answer_links_citations_and_flags_the_removed_one(browser, llm_app: str) -> None:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(llm_app)
    page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
    assert "LLM" in page.locator("#pt-answered-by input").input_value()
    ask(page, SEED_QUESTION)
    answer = page.locator("#pt-chat .message.bot").last.inner_text()
    assert "Dropout is remarkably effective" in answer and "[9: not a source]" in answer
    page.locator("#pt-chat a[href='#source-1']").first.click()
    page.wait_for_function("() => document.getElementById('source-1').classList.contains('pt-flash')")
    assert "[9]" in page.locator("#pt-notice").inner_text()
    shoot(page, "llm")
    context.close()


def test_an_answer_given_one_line_per_paper_shows_as_a_list(browser, llm_app: str, llm_server: ScriptedOpenAI) -> None:
    llm_server.steps = [Step("- Token-Crisis study: dropout helps against multi-epoch degradation [1].\n"
                             "- Stability-gap study: warm-up matters when pre-training continues [2].")]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(llm_app)
    page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
    ask(page, SEED_QUESTION)
    items = page.locator("#pt-chat .message.bot").last.locator("li")
    assert items.count() == 2
    assert items.nth(0).inner_text().startswith("Token-Crisis study: dropout helps")
    assert items.nth(1).locator("a[href='#source-2']").count() == 1
    context.close()
