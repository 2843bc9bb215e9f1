"""The web UI in a real headless Chromium and through gradio_client, against a running `papertrail serve`."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import free_port, serving

import rag

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = ROOT / "test-results"
LAPTOP = {"width": 1366, "height": 900}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 180_000
SEED_QUESTION = "In the 'token-crisis' study, which regularization technique was effective against multi-epoch degradation?"
SEED_TITLE = "To Repeat or Not To Repeat: Insights from Scaling LLM under Token-Crisis"
NEW_TITLE = "Quokka Facts: Retrieving Marsupial Trivia with Tiny Transformers"
NEW_FILE = f"""Mar 30

{NEW_TITLE}
We introduce Quokka Facts, a benchmark of marsupial trivia questions. A tiny transformer retriever answers quokka questions with 91.5 percent accuracy, beating keyword search by a wide margin.
"""
BAD_FILE = "A title on its own\ntoo short\n"


@pytest.fixture(scope="module")
def home(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the seeded home the app may write to (uploads, feedback)."""
    copy = tmp_path_factory.mktemp("web") / "home"
    shutil.copytree(seeded_home, copy)
    return copy


@contextmanager
def running_app(home: Path, log_path: Path, **env: str) -> Iterator[str]:
    """`papertrail serve` on a free port over `home`, waited for until it answers HTTP; yields its URL."""
    port = free_port()
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", **env}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    with serving(command, env, log_path, f"http://127.0.0.1:{port}/") as url:
        yield url


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the shared app's output (its log) goes."""
    return tmp_path_factory.mktemp("web-log") / "serve.log"


@pytest.fixture(scope="module")
def app_url(home: Path, serve_log: Path) -> Iterator[str]:
    """The app over `home`, shared by this module's tests."""
    with running_app(home, serve_log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@contextmanager
def opened(browser, url: str) -> Iterator:
    """A fresh laptop-width page on the app at `url`, its heading shown; closed after."""
    context = browser.new_context(viewport=LAPTOP)
    try:
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(url)
        tab.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url: str):
    """A fresh laptop-width page on the app."""
    with opened(browser, app_url) as tab:
        yield tab


def shoot(page, name: str) -> None:
    """Save laptop- and phone-width screenshots of the page to test-results/."""
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"web-{name}-laptop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(RESULTS / f"web-{name}-phone.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


ANSWERED = """n => {
  const bots = document.querySelectorAll('#pt-chat .message.bot');
  if (bots.length <= n || document.querySelector('.generating')) return false;
  const text = bots[bots.length - 1].innerText;
  if (text.includes('Loading content') || text !== window.ptLastText) {
    window.ptLastText = text;
    window.ptSince = Date.now();
    return false;
  }
  return Date.now() - window.ptSince > 1500;
}"""
"""True once the chat holds more than n answers and the last one has stopped changing (a streamed answer grows, then
its checked form replaces it)."""


def ask(page, question: str) -> None:
    """Type a question, press Enter and wait for the whole answer."""
    before = page.locator("#pt-chat .message.bot").count()
    page.locator("#pt-question textarea").fill(question)
    page.locator("#pt-question textarea").press("Enter")
    page.wait_for_function(ANSWERED, arg=before)


def upload(page, path: Path, outcome: str) -> str:
    """Add `path` under "Add papers" and wait for the result box of kind `outcome` ("ok" or "error"); its text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator("#pt-add").get_by_text("Add papers").click()
    page.locator("#pt-add-button").wait_for()
    chooser = page.locator("#pt-upload input[type=file]")
    for attempt in (1, 2):  # on a loaded machine gradio's upload box has twice dropped a file set while it mounted
        if attempt == 1 or chooser.count():  # no chooser: the box holds the file, slow to show its name
            chooser.set_input_files(str(path))
        try:
            page.locator("#pt-upload").get_by_text(path.name).wait_for(timeout=WAIT_MS // 3 * attempt)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.locator("#pt-add-button").click()
    page.locator(f"#pt-added .pt-{outcome}").wait_for()
    return page.locator("#pt-added").inner_text()


def test_seed_question_gets_cited_answer_with_highlighted_quote(page) -> None:
    ask(page, SEED_QUESTION)
    citation = page.locator("#pt-chat a[href='#source-1']").first
    citation.wait_for()
    assert "[1]" in page.locator("#pt-chat .message.bot").last.inner_text()
    card = page.locator("#source-1")
    assert card.locator(".pt-title").inner_text() == SEED_TITLE
    marks = card.locator(".pt-abstract mark")
    assert marks.count() >= 1
    assert "multi-epoch degradation" in " ".join(marks.all_inner_texts())
    assert "arxiv.org/search" in card.locator(".pt-links a", has_text="arXiv").get_attribute("href")
    citation.click()
    page.wait_for_function("() => document.getElementById('source-1').classList.contains('pt-flash')")
    shoot(page, "answer")


def test_follow_up_and_clear_chat(page) -> None:
    ask(page, SEED_QUESTION)
    ask(page, "And what did they find about mixture-of-experts?")
    assert page.locator("#pt-chat .message.bot").count() == 2
    assert page.locator("#pt-sources .pt-card").count() >= 1
    page.locator("#pt-clear").click()
    page.locator("#pt-sources .pt-empty").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#pt-chat .message').length === 0")
    assert page.locator("#pt-notice").inner_text().strip() == "", "no notice left"


def declined(page) -> str:
    """The last answer's text once the reason has followed the abstention phrase (the phrase alone streams first)."""
    page.wait_for_function(
        "phrase => { const bots = document.querySelectorAll('#pt-chat .message.bot');"
        " const text = bots[bots.length - 1].innerText.trim(); return text.startsWith(phrase) && text.length > phrase.length + 10; }",
        arg=rag.ABSTAIN,
    )
    return page.locator("#pt-chat .message.bot").last.inner_text()


def test_a_declined_answer_says_why_and_its_notice_agrees_with_the_sources(page) -> None:
    ask(page, "What is a good recipe for banana bread with walnuts?")
    assert declined(page).startswith(f"{rag.ABSTAIN} No indexed abstract"), "the reason follows the phrase"
    assert page.locator("#pt-sources .pt-card.pt-uncited").count() >= 1 and page.locator(".pt-cited").count() == 0
    assert "closest papers are listed for reference" in page.locator("#pt-notice").inner_text()
    shoot(page, "abstain")

    page.locator("#pt-clear").click()
    page.locator("#pt-sources .pt-empty").wait_for()
    ask(page, "Tell me a joke about GPUs")
    assert "entertainment" in declined(page)
    assert page.locator("#pt-sources .pt-card").count() == 0
    assert "No papers to show" in page.locator("#pt-sources").inner_text()
    assert "closest papers" not in page.locator("#pt-notice").inner_text(), "no notice of papers the panel does not show"


def test_overlong_question_gets_clear_message_in_page(page) -> None:
    page.locator("#pt-question textarea").fill("why " * 600)
    page.locator("#pt-question textarea").press("Enter")
    page.locator("#pt-notice .pt-error").wait_for()
    assert "the limit is 2,000" in page.locator("#pt-notice").inner_text()
    assert page.locator("#pt-chat .message").count() == 0


def test_upload_valid_file_then_bad_file(page, tmp_path: Path) -> None:
    good, bad = tmp_path / "quokka.txt", tmp_path / "broken.txt"
    good.write_text(NEW_FILE, encoding="utf-8")
    bad.write_text(BAD_FILE, encoding="utf-8")
    heading = page.locator("#pt-header").inner_text()

    assert "1 added" in upload(page, good, "ok")
    assert page.locator("#pt-header").inner_text() != heading
    ask(page, "What accuracy does the Quokka Facts retriever reach?")
    assert page.locator("#source-1 .pt-title").inner_text() == NEW_TITLE
    heading = page.locator("#pt-header").inner_text()

    # A fresh page for the second file: in a loaded full-suite run the reused upload box once failed to show it.
    page.reload()
    page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
    message = upload(page, bad, "error")
    assert "broken.txt was not added" in message and "characters" in message
    shoot(page, "upload")
    page.reload()
    page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
    assert page.locator("#pt-header").inner_text() == heading


def test_thumbs_down_is_stored_and_exported(page, home: Path, tmp_path: Path) -> None:
    question = "Which regularization helps when pre-training data is repeated for several epochs?"
    ask(page, question)
    page.locator("#pt-chat button[aria-label='Dislike']").last.click()
    page.locator("#pt-notice .pt-ok").wait_for()
    out = tmp_path / "review.jsonl"
    env = {**os.environ, "PAPERTRAIL_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "feedback", "export", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text(encoding="utf-8").splitlines()[-1])
    assert exported["question"] == question
    assert exported["note"]["backend"] == "extractive" and "[1]" in exported["note"]["answer"], "a nested object"
    shoot(page, "feedback")


def _ratings(home: Path, question: str) -> list[tuple[str, float]]:
    """(rating, time) of every stored rating of the answers to `question` (none before the first rating)."""
    path = home / "feedback.sqlite3"
    if not path.is_file():
        return []
    with sqlite3.connect(path) as db:
        return db.execute("SELECT rating, created FROM feedback WHERE question = ?", (question,)).fetchall()


def test_twenty_thumbs_on_one_answer_keep_one_rating_the_last(page, home: Path) -> None:
    question = "Which pre-training data is repeated in the token-crisis study?"
    ask(page, question)
    for click in range(20):
        before = max((created for _, created in _ratings(home, question)), default=0.0)
        page.locator(f"#pt-chat button[aria-label='{'Dislike' if click % 2 else 'Like'}']").last.click()
        deadline = time.monotonic() + WAIT_MS / 1000
        while max((created for _, created in _ratings(home, question)), default=0.0) == before:
            assert time.monotonic() < deadline, f"click {click + 1} was never recorded"
            time.sleep(0.1)
    assert [rating for rating, _ in _ratings(home, question)] == ["down"]


def test_serve_prints_its_own_address_and_nothing_of_gradio(app_url: str, serve_log: Path) -> None:
    printed = serve_log.read_text()
    address = app_url.rstrip("/")
    assert printed.splitlines()[:2] == ["Starting the web UI…", f"Papertrail is running at {address} (Ctrl-C to stop)."]
    assert "share=True" not in printed and "Running on local URL" not in printed, "no hint a Papertrail user cannot act on"


def test_api_answers_twenty_questions_at_once(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: client.predict(SEED_QUESTION, api_name="/ask"), range(20)))
    assert len(answers) == 20
    assert all(not a["abstained"] and SEED_TITLE in {c["title"] for c in a["citations"]} for a in answers)


def test_api_refuses_overlong_question_with_clear_message(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="limit is 2,000"):
        client.predict("why " * 600, api_name="/ask")


@pytest.fixture(scope="module")
def login_url(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with its login on (alice:s3cret), over a copy of the seeded home."""
    home = tmp_path_factory.mktemp("web-login") / "home"
    shutil.copytree(seeded_home, home)
    with running_app(home, home.parent / "serve.log", PAPERTRAIL_UI_AUTH="alice:s3cret") as url:
        yield url


def test_login_required_when_auth_is_set(login_url: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(login_url, verbose=False).predict(SEED_QUESTION, api_name="/ask")
    answer = Client(login_url, auth=("alice", "s3cret"), verbose=False).predict(SEED_QUESTION, api_name="/ask")
    assert SEED_TITLE in {c["title"] for c in answer["citations"]}


def _login(url: str, password: str, source: str = "127.0.0.1") -> int:
    """POST the login form from the address `source` (any 127.x address reaches the app); returns the HTTP status."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        form = urllib.parse.urlencode({"username": "alice", "password": password})
        connection.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_wrong_passwords_are_throttled_per_client_without_slowing_others(login_url: str) -> None:
    guesses = [_login(login_url, f"guess-{n}", "127.0.0.3") for n in range(20)]
    assert guesses[:5] == [400] * 5, guesses
    assert set(guesses[5:]) == {429}, guesses
    assert _login(login_url, "s3cret", "127.0.0.3") == 429, "a throttled client waits, even with the right password"
    assert _login(login_url, "s3cret", "127.0.0.4") == 200, "another client logs in at once"


HOSTILE_URL = "javascript:fetch('/config').then(r=>r.text()).then(t=>document.title=t)"
WOMBAT_TITLE = "Wombat Burrow Index: Depth Records for Four Thousand Wombats"
WOMBAT_ABSTRACT = (
    "We release the Wombat Burrow Index of burrow depths for four thousand wombats. "
    "The wombat burrow index lists every burrow depth [open the index](javascript:fetch('/config')) "
    "<a href=\"javascript:alert(1)\">here</a> <img src=x onerror=alert(1)> in centimetres."
)


def test_no_javascript_link_reaches_the_page(browser, tmp_path: Path) -> None:
    """A `javascript:` url is refused at upload; script-like links inside a stored abstract stay inert text.

    The store holds the inert paper alone, ingested before the app starts, so the answer is sure to quote it:
    next to the seeds, a paper added this way was not always ranked first (left to issue 13's store items)."""
    home = tmp_path / "home"
    inert = tmp_path / "inert.jsonl"
    inert.write_text(json.dumps({"title": WOMBAT_TITLE, "abstract": WOMBAT_ABSTRACT, "url": "https://example.org/wombats"}) + "\n")
    env = {**os.environ, "PAPERTRAIL_HOME": str(home)}
    added = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(inert)], env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(json.dumps({"title": "Another wombat paper", "abstract": WOMBAT_ABSTRACT, "url": HOSTILE_URL}) + "\n")
    with running_app(home, tmp_path / "serve.log") as url:
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
        assert "hostile.jsonl:1: 'url' must start with http:// or https://" in upload(page, hostile, "error")

        ask(page, "What does the Wombat Burrow Index record?")
        assert page.locator("#source-1 .pt-title").inner_text() == WOMBAT_TITLE
        links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        assert links and not [link for link in links if not link.startswith(("http://", "https://"))], links
        handlers = "#pt-chat [onerror], #pt-chat [onclick], #pt-sources [onerror], #pt-chat img[src='x'], #pt-sources img"
        assert page.locator(handlers).count() == 0
        shown = page.locator("#pt-chat .message.bot").last.inner_text()
        assert "[open the index](javascript:fetch('/config')) <a href=\"javascript:alert(1)\">here</a>" in shown  # as text
        assert page.locator("#source-1 .pt-links a", has_text="Paper page").get_attribute("href") == "https://example.org/wombats"
        assert dialogs == [] and "wombat" not in page.title().casefold()
        context.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("What is MTOB?", "", -5), "top_k must be a whole number from 1 to 50, got -5"),
        (("What is MTOB?", "", 1e9), "top_k must be a whole number from 1 to 50, got 1000000000"),
        (("What is MTOB?", "", "abc"), "top_k must be a whole number from 1 to 50, got 'abc'"),
        ((None, "", 3), "the question must be text, got None"),
        (("What is MTOB?", "no-such-backend", 3), "unknown backend 'no-such-backend'"),
    ],
    ids=["negative", "huge", "text", "null question", "unknown backend"],
)
def test_api_refuses_bad_arguments_in_one_clear_line(app_url: str, serve_log: Path, arguments: tuple, message: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match=re.escape(message)) as refused:
        Client(app_url, verbose=False).predict(*arguments, api_name="/ask")
    assert "Traceback" not in str(refused.value) and "Error:" not in str(refused.value).split(message)[0][-40:]
    log = serve_log.read_text()
    assert "Traceback" not in log
    if "backend" not in message:
        assert f"refused a question: {message}" in log


def box(page, selector: str) -> dict[str, float]:
    """Where the element is on the page (top, bottom, left, right, height, width in CSS pixels)."""
    return page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY, "
        "left: r.left, right: r.right, height: r.height, width: r.width}; }"
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_question_box_is_on_the_first_screen_and_the_sources_follow_the_answer(browser, app_url: str, viewport) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    page.locator("#pt-header").get_by_text("research-paper abstracts").wait_for()
    title = page.locator("#pt-header h1")
    assert title.inner_text() == "Papertrail"
    line = float(title.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    assert box(page, "#pt-header h1")["height"] < 1.5 * line, "the title stays on one line"
    assert box(page, "#pt-question textarea")["bottom"] <= viewport["height"], "the question box is on the first screen"
    gap = box(page, "#pt-chat")["top"] - box(page, "#pt-top")["bottom"]
    assert gap <= 40, f"{gap} px between the header and the chat: empty notices take no room"
    assert page.locator("#pt-chat .label, #pt-chat [data-testid='block-label']").count() == 0, "no badge over the chat"

    ask(page, SEED_QUESTION)
    chat, question, sources = box(page, "#pt-chat"), box(page, "#pt-question"), box(page, "#pt-sources .pt-card")
    controls, examples = box(page, "#pt-controls"), box(page, "#pt-examples")
    if viewport is PHONE:
        assert chat["bottom"] <= question["top"] < sources["top"] < min(examples["top"], controls["top"]), "reading order"
        for part in ("#pt-answered-by", "#pt-top-k", "#pt-dates"):
            assert box(page, part)["width"] >= viewport["width"] - 80, f"{part} has the phone's width"
        assert box(page, "#pt-update")["top"] > box(page, "#pt-header h1")["bottom"], "Update sits under the title"
    else:
        assert sources["left"] >= chat["right"] and sources["top"] < question["top"], "the sources beside the chat"
    ends = [page.locator(f"#pt-top-k .{end}_value") for end in ("min", "max")]
    assert [end.inner_text() for end in ends if end.is_visible()] == ["1", "15"], "the slider shows its range"
    shoot_at(page, f"layout-{'phone' if viewport is PHONE else 'desktop'}")
    context.close()


def shoot_at(page, name: str) -> None:
    """Save a screenshot of the page's first screen, at its current size, to test-results/."""
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"web-{name}.png"))


def test_papers_to_draw_on_is_capped_and_answered_by_says_how_to_add_an_llm(page) -> None:
    number = page.locator("#pt-top-k input[type=number]")
    number.fill("40")
    number.press("Enter")
    assert number.input_value() == "15", "the box shows what is used"
    ask(page, "Which papers study continual pre-training?")
    assert page.locator("#pt-sources .pt-card").count() == 15 and number.input_value() == "15"
    hint = page.locator("#pt-answered-by").inner_text()
    assert "OPENAI_API_KEY" in hint and "docs/backends.md" in hint


def test_an_example_question_is_shown_whole_and_asked_on_click(page) -> None:
    example = page.locator(".pt-example").first
    text = example.inner_text()
    assert text.startswith("What does “") and text.endswith("” propose?") and "…" not in text
    assert example.evaluate("el => el.scrollWidth <= el.clientWidth"), "not cut"
    example.click()
    page.wait_for_function(ANSWERED, arg=0)
    assert page.locator("#pt-chat .message.user").last.inner_text() == text
    assert page.locator("#pt-sources .pt-card").count() >= 1


def test_listing_dates_without_a_year_say_so(page) -> None:
    ask(page, SEED_QUESTION)
    assert "Listed Mar 11, Sep 12 (year not given)" in page.locator("#source-1 .pt-meta").inner_text()
    page.locator("#pt-dates input").click()
    assert page.get_by_role("option", name="Mar 11 (year not given)").count() == 1


def test_only_the_add_panel_shows_progress_while_papers_are_added(page, tmp_path: Path) -> None:
    papers = tmp_path / "forty.jsonl"
    papers.write_text("".join(
        json.dumps({"title": f"Progress Probe {i}: Counting Wombats", "abstract": f"We count {i} wombats. They dig."}) + "\n"
        for i in range(40)
    ))
    busy = (  # a progress text inside a hidden tracker (show_progress="hidden") stays in the page, unseen
        "() => [...document.querySelectorAll('.wrap.translucent, .wrap.pending, .progress-text')]"
        ".filter(el => !el.closest('.wrap.hide')).map(el => (el.closest('[id]') || {}).id)"
    )
    seen: set[str] = set()
    page.locator("#pt-add").get_by_text("Add papers").click()
    page.locator("#pt-add-button").wait_for()  # the upload box drops a file set while it mounts
    page.locator("#pt-upload input[type=file]").set_input_files(str(papers))
    page.locator("#pt-upload").get_by_text(papers.name).wait_for()
    page.locator("#pt-add-button").click()
    while not page.locator("#pt-added .pt-ok, #pt-added .pt-error").count():
        seen.update(page.evaluate(busy))
        page.wait_for_timeout(50)
    assert "40 added" in page.locator("#pt-added").inner_text()
    assert seen == {"pt-added"}, f"progress shown on {sorted(seen)}"
