"""The Slack bot end to end: its real HTTP endpoint, signed Slack-shaped requests, and a Web API stand-in."""

from __future__ import annotations

import hashlib
import html
import hmac
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import rag
from ui.cli import main
from conftest import free_port
from slack_server import APP_TOKEN, BOT_USER, TEAM, TOKEN, SlackStandIn, trigger_id
from ui import slack
from ui.settings import SlackSettings
from ui.slack_blocks import MAX_BLOCKS, SECTION_LIMIT, answer_blocks

pytestmark = pytest.mark.slow

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
QUESTION = (
    "In the 'token-crisis' study on repeating pre-training data for several epochs, "
    "which regularization technique turned out to be effective against multi-epoch degradation?"
)
FOLLOW_UP = "How much tuning does that technique need?"
WAIT = 60.0


@pytest.fixture(scope="module")
def api() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def settings(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory, api: SlackStandIn) -> rag.Settings:
    """The seeded store copied (the feedback buttons write to it), talking to the stand-in."""
    home = tmp_path_factory.mktemp("slack") / "home"
    shutil.copytree(seeded_home, home)
    return rag.Settings(store={"home": home}, llm={"backend": "extractive"})


@pytest.fixture(scope="module")
def endpoint(settings: rag.Settings, api: SlackStandIn) -> Iterator[str]:
    """The bot's real HTTP endpoint on 127.0.0.1."""
    app = slack.build_app(settings, SlackSettings(api_url=api.url), bot_token=TOKEN, signing_secret=SECRET)
    server = slack.http_server(app, SECRET, "127.0.0.1", free_port())
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}{slack.EVENTS_PATH}"
    server.close()


def post(
    url: str, body: str | bytes, content_type: str, *, age: int = 0, forged: bool = False, retry: int = 0,
    timestamp: str | None = None,
) -> int:
    """Send `body` as Slack does, signed with v0 HMAC-SHA256 over "v0:{ts}:{body}"; returns the HTTP status."""
    raw = body.encode() if isinstance(body, str) else body
    ts = timestamp or str(int(time.time()) - age)
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + ("0" * 64 if forged else digest),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    request = urllib.request.Request(url, raw, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def send_event(url: str, event: dict[str, Any], event_id: str, **kwargs: Any) -> int:
    """An Events API `event_callback` envelope around `event`."""
    body = {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0PAPER",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }
    return post(url, json.dumps(body), "application/json", **kwargs)


def mention(api: SlackStandIn, channel: str, question: str, thread_ts: str | None = None) -> dict[str, Any]:
    """A person's message mentioning the bot, stored in the stand-in, and the app_mention event about it."""
    message = api.add_user_message(channel, f"<@{BOT_USER}> {question}", thread_ts=thread_ts)
    event = {"type": "app_mention", "channel": channel, "event_ts": message["ts"], "client_msg_id": message["ts"]}
    return event | {k: v for k, v in message.items() if k != "type"}


def direct_message(api: SlackStandIn, channel: str, text: str) -> dict[str, Any]:
    """A DM to the bot, stored in the stand-in, and the message.im event about it."""
    message = api.add_user_message(channel, text)
    return message | {"channel": channel, "channel_type": "im", "event_ts": message["ts"]}


def final_replies(api: SlackStandIn, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    """The bot's finished answers in a thread (the progress messages updated into answers)."""
    return [
        m for m in api.thread(channel, thread_ts)
        if m.get("bot_id") and (m.get("metadata") or {}).get("event_type") == slack.ANSWER_EVENT
    ]


def wait_replies(api: SlackStandIn, channel: str, thread_ts: str, count: int = 1) -> list[dict[str, Any]]:
    replies = api.wait_for(lambda: len(final_replies(api, channel, thread_ts)) >= count and final_replies(api, channel, thread_ts), WAIT)
    assert replies, f"no answer reached the thread {thread_ts} in {channel}; calls: {[c[0] for c in api.calls]}"
    return replies


def block_text(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks", []):
        parts.append((block.get("text") or {}).get("text", ""))
        parts += [element.get("text", "") for element in block.get("elements", []) if isinstance(element.get("text"), str)]
    return "\n".join(parts)


def test_mention_is_answered_in_its_thread_with_cited_sources(api: SlackStandIn, endpoint: str, settings: rag.Settings) -> None:
    event = mention(api, "C0MENTION", QUESTION)
    assert send_event(endpoint, event, "Ev0MENTION1") == 200
    [reply] = wait_replies(api, "C0MENTION", event["ts"])
    expected = rag.ask(QUESTION, settings=settings)
    assert not expected.abstained and expected.citations
    assert reply["thread_ts"] == event["ts"]
    assert html.unescape(reply["text"]) == expected.text
    shown = block_text(reply)
    for citation in expected.citations:
        assert f"*[{citation.n}]*" in shown and citation.title in shown and citation.quote in shown
    assert "huggingface.co/papers?q=" in shown and "Answered by `extractive`" in shown
    assert [b["block_id"] for b in reply["blocks"] if b["type"] == "actions"] == ["papertrail_feedback"]
    reactions = api.calls_to("reactions.add")
    assert {"channel": "C0MENTION", "timestamp": event["ts"], "name": "eyes"}.items() <= reactions[0].items()
    assert any(args.get("text") == slack.SEARCHING for args in api.calls_to("chat.postMessage"))


def test_follow_up_in_the_thread_uses_its_history(api: SlackStandIn, endpoint: str, settings: rag.Settings) -> None:
    first = mention(api, "C0THREAD", QUESTION)
    send_event(endpoint, first, "Ev0THREAD1")
    [answer] = wait_replies(api, "C0THREAD", first["ts"])
    follow = mention(api, "C0THREAD", FOLLOW_UP, thread_ts=first["ts"])
    send_event(endpoint, follow, "Ev0THREAD2")
    replies = wait_replies(api, "C0THREAD", first["ts"], count=2)
    history = [rag.Turn(question=QUESTION, answer=html.unescape(answer["text"]))]
    assert replies[1]["thread_ts"] == first["ts"]
    assert html.unescape(replies[1]["text"]) == rag.ask(FOLLOW_UP, history, settings).text
    assert {"channel": "C0THREAD", "ts": first["ts"]}.items() <= api.calls_to("conversations.replies")[-1].items()


def test_direct_message_is_answered_once_despite_retries_and_twin_events(api: SlackStandIn, endpoint: str) -> None:
    event = direct_message(api, "D0DIRECT", QUESTION)
    assert send_event(endpoint, event, "Ev0DIRECT1") == 200
    assert send_event(endpoint, event, "Ev0DIRECT1", retry=1) == 200
    twin = event | {"type": "app_mention"}
    assert send_event(endpoint, twin, "Ev0DIRECT2") == 200
    wait_replies(api, "D0DIRECT", event["ts"])
    assert send_event(endpoint, event, "Ev0DIRECT1", retry=2) == 200
    sentinel = direct_message(api, "D0DIRECT", "What is Chinchilla scaling about?")
    send_event(endpoint, sentinel, "Ev0DIRECT3")
    wait_replies(api, "D0DIRECT", sentinel["ts"])
    placeholders = [a for a in api.calls_to("chat.postMessage") if a.get("thread_ts") == event["ts"]]
    assert len(placeholders) == 1 and len(final_replies(api, "D0DIRECT", event["ts"])) == 1


def test_slash_command_posts_the_question_and_answers_in_its_thread(api: SlackStandIn, endpoint: str, settings: rag.Settings) -> None:
    form = {
        "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "test", "channel_id": "C0SLASH",
        "channel_name": "papers", "user_id": "UALICE", "user_name": "alice", "command": "/papertrail",
        "text": QUESTION, "api_app_id": "A0PAPER", "is_enterprise_install": "false",
        "response_url": api.url + "response_url", "trigger_id": trigger_id(),
    }
    assert post(endpoint, urlencode(form), "application/x-www-form-urlencoded") == 200
    roots = api.wait_for(lambda: [m for m in api.messages.get("C0SLASH", []) if "thread_ts" not in m], WAIT)
    assert len(roots) == 1 and "<@UALICE> asked:" in roots[0]["text"]
    [reply] = wait_replies(api, "C0SLASH", roots[0]["ts"])
    expected = rag.ask(QUESTION, settings=settings)
    assert html.unescape(reply["text"]) == expected.text
    assert all(c.title in block_text(reply) for c in expected.citations)


def test_feedback_button_is_recorded_and_acknowledged(api: SlackStandIn, endpoint: str, settings: rag.Settings, tmp_path: Path) -> None:
    event = mention(api, "C0RATE", QUESTION)
    send_event(endpoint, event, "Ev0RATE1")
    [reply] = wait_replies(api, "C0RATE", event["ts"])
    payload = {
        "type": "block_actions",
        "user": {"id": "UBOB", "username": "bob", "name": "bob", "team_id": TEAM},
        "api_app_id": "A0PAPER",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": reply["ts"], "channel_id": "C0RATE", "is_ephemeral": False},
        "trigger_id": trigger_id(),
        "team": {"id": TEAM, "domain": "test"},
        "channel": {"id": "C0RATE", "name": "papers"},
        "message": {"type": "message", "user": BOT_USER, "bot_id": "BBOTPAPER", "ts": reply["ts"],
                    "text": reply["text"], "blocks": reply["blocks"]},
        "response_url": api.url + "response_url",
        "actions": [{"action_id": "papertrail_feedback_down", "block_id": "papertrail_feedback", "type": "button",
                     "text": {"type": "plain_text", "text": ":thumbsdown: Not helpful", "emoji": True},
                     "action_ts": str(time.time())}],
    }
    assert post(endpoint, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded") == 200
    rated = api.wait_for(lambda: "Rated by <@UBOB>" in block_text(final_replies(api, "C0RATE", event["ts"])[0]), WAIT)
    assert rated
    assert all(b["type"] != "actions" for b in final_replies(api, "C0RATE", event["ts"])[0]["blocks"])
    out = tmp_path / "down.jsonl"
    assert rag.export_feedback(out, settings, rating="down") == 1
    assert json.loads(out.read_text())["question"] == QUESTION


def test_unsigned_forged_and_stale_requests_get_401_and_do_nothing(api: SlackStandIn, endpoint: str) -> None:
    forged = direct_message(api, "D0FORGED", QUESTION)
    stale = direct_message(api, "D0STALE", QUESTION)
    assert send_event(endpoint, forged, "Ev0FORGED", forged=True) == 401
    assert send_event(endpoint, stale, "Ev0STALE", age=5 * 60 + 30) == 401
    unsigned = urllib.request.Request(endpoint, b"{}", {"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)
    assert refused.value.code == 401
    sentinel = direct_message(api, "D0FORGED", "What is Chinchilla scaling about?")
    send_event(endpoint, sentinel, "Ev0FORGED2")
    wait_replies(api, "D0FORGED", sentinel["ts"])
    touched = [a for _, a in api.calls if a.get("channel") == "D0STALE" or a.get("thread_ts") == forged["ts"]]
    assert touched == []


BURST = 50
ACK_DEADLINE_S = 3.0
"""Slack retries a delivery that is not acknowledged within 3 seconds."""


def test_fifty_concurrent_deliveries_are_each_acknowledged_in_time_and_answered_once(api: SlackStandIn, endpoint: str) -> None:
    events = [mention(api, f"C0BURST{n:02d}", QUESTION) for n in range(BURST)]
    start = threading.Barrier(BURST)

    def deliver(n: int) -> tuple[int, float]:
        start.wait()
        clock = time.monotonic()
        status = send_event(endpoint, events[n], f"Ev0BURST{n:02d}")
        return status, time.monotonic() - clock

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        acks = list(pool.map(deliver, range(BURST)))
    assert [status for status, _ in acks] == [200] * BURST
    slowest = max(seconds for _, seconds in acks)
    assert slowest < ACK_DEADLINE_S, f"the slowest acknowledgement took {slowest:.2f} s"
    answered = lambda: all(final_replies(api, e["channel"], e["ts"]) for e in events)  # noqa: E731
    assert api.wait_for(answered, 10 * WAIT), "not every delivery was answered"
    for event in events:
        placeholders = [a for a in api.calls_to("chat.postMessage") if a.get("channel") == event["channel"]]
        assert len(placeholders) == 1 and len(final_replies(api, event["channel"], event["ts"])) == 1, event["channel"]


MALFORMED = [
    ("timestamp not a number", b'{"type": "event_callback"}', "application/json", "soon", 401),
    ("malformed JSON", b'{"type": "event_callback", "event": {', "application/json", None, 400),
    ("a JSON list", b'[{"type": "event_callback"}]', "application/json", None, 400),
    ("an event that is not an object", b'{"type": "event_callback", "event": "x"}', "application/json", None, 400),
    ("actions that are not a list", b'{"type": "block_actions", "actions": "x"}', "application/json", None, 400),
    ("garbage form data", b"payload=%7Bnot+json%7D&&&", "application/x-www-form-urlencoded", None, 400),
    ("bytes that are not UTF-8 (slack_sdk verifies text)", b"payload=\xff\xfe", "application/x-www-form-urlencoded", None, 401),
    ("a 400-digit timestamp (slack_sdk's check overflows)", b'{"type": "event_callback"}', "application/json", "9" * 400, 401),
]


@pytest.mark.parametrize(("what", "body", "content_type", "timestamp", "status"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_get_400_or_401_and_one_log_line(
    endpoint: str, caplog: pytest.LogCaptureFixture, what: str, body: bytes, content_type: str, timestamp: str | None, status: int
) -> None:
    caplog.set_level(logging.INFO)
    assert post(endpoint, body, content_type, timestamp=timestamp) == status, what
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].name == "ui.slack", [r.getMessage() for r in records]
    assert records[0].exc_info is None and "\n" not in records[0].getMessage()


def test_failed_answer_is_a_short_apology_without_traceback_or_token(
    api: SlackStandIn, endpoint: str, settings: rag.Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    event = direct_message(api, "D0ERROR", "why " * settings.answer.max_question_chars)
    send_event(endpoint, event, "Ev0ERROR")
    apology = api.wait_for(
        lambda: [m for m in api.thread("D0ERROR", event["ts"]) if m.get("bot_id") and m["text"].startswith("Sorry")], WAIT
    )
    assert apology, f"no apology reached the thread; calls: {[c[0] for c in api.calls]}"
    assert len(apology[0]["text"]) < 300 and "Traceback" not in apology[0]["text"]
    assert "the limit is" in apology[0]["text"]
    posted = json.dumps([args for _, args in api.calls])
    assert TOKEN not in posted and SECRET not in posted
    assert TOKEN not in caplog.text and SECRET not in caplog.text


def test_unexpected_failure_is_the_fixed_apology_and_one_log_line(
    api: SlackStandIn, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = mention(api, "C0LOST", FOLLOW_UP, thread_ts="1600000000.000100")
    send_event(endpoint, event, "Ev0LOST")
    replies = lambda: [m for m in api.thread("C0LOST", event["thread_ts"]) if m.get("bot_id") and m["text"] != slack.SEARCHING]  # noqa: E731
    apology = api.wait_for(replies, WAIT)
    assert [m["text"] for m in apology] == [slack.APOLOGY]
    failures = [r for r in caplog.records if r.name == "ui.slack" and r.levelno == logging.ERROR]
    assert len(failures) == 1 and "thread_not_found" in failures[0].getMessage()
    assert "\n" not in failures[0].getMessage() and TOKEN not in caplog.text


def test_socket_mode_answers_a_mention_from_the_cli(api: SlackStandIn, seeded_home: Path, tmp_path: Path) -> None:
    """`papertrail slack` with SLACK_APP_TOKEN connects over Socket Mode, acknowledges and answers in the thread."""
    shutil.copytree(seeded_home, tmp_path / "home")
    env = os.environ | {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "PAPERTRAIL_HOME": str(tmp_path / "home"),
        "PAPERTRAIL_SLACK_API_URL": api.url, "PAPERTRAIL_LLM": "extractive",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    log_file = tmp_path / "bot.log"
    with log_file.open("w") as log:
        bot = subprocess.Popen([sys.executable, "-m", "ui.cli", "slack"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert api.socket.connected.wait(180), f"the bot never connected: {log_file.read_text()[-2000:]}"
        event = mention(api, "C0SOCKET", QUESTION)
        body = {"team_id": TEAM, "api_app_id": "A0PAPER", "event": event, "type": "event_callback",
                "event_id": "Ev0SOCKET", "event_time": int(time.time()), "authorizations": []}
        api.socket.send_event(body, "57d6a792-4d35-4d0b-b6aa-3361493e1caf")
        [reply] = wait_replies(api, "C0SOCKET", event["ts"])
        assert "*Sources*" in block_text(reply)
        assert {"envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf"} in api.socket.acks
    finally:
        bot.terminate()
        bot.wait(30)
    assert TOKEN not in log_file.read_text() and APP_TOKEN not in log_file.read_text()


LIST_QUESTION = "Which papers study continual pre-training?"


def section_lines(message: dict[str, Any]) -> list[str]:
    """The lines of the message's sections as a reader sees them (Slack's escapes undone)."""
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    return [html.unescape(line) for text in texts for line in text.split("\n")]


def test_a_which_papers_question_is_answered_one_bullet_per_paper_each_quote_once(
    api: SlackStandIn, endpoint: str, settings: rag.Settings
) -> None:
    event = mention(api, "C0LIST", LIST_QUESTION)
    assert send_event(endpoint, event, "Ev0LIST1") == 200
    [reply] = wait_replies(api, "C0LIST", event["ts"])
    expected = rag.ask(LIST_QUESTION, settings=settings)
    papers = expected.text.split("\n")
    assert len(papers) >= 3 and all(line.startswith("- ") for line in papers), "the answer is one line per paper"
    lines = section_lines(reply)
    assert [line for line in lines if line.startswith("• ")] == [f"• {line[2:]}" for line in papers]
    assert not [line for line in lines if line.startswith("- ")], "no Markdown dash left for Slack to show as is"
    shown = html.unescape(block_text(reply))
    for citation in expected.citations:
        assert shown.count(citation.quote) == 1, f"quoted once, in its bullet: {citation.quote}"
        assert f"*[{citation.n}]* <" in shown, "each cited paper listed under Sources with its number"


@pytest.mark.parametrize(
    ("question", "reason", "closest"),
    [("What did the Kookaburra paper find about GPUs?", "No indexed abstract mentions Kookaburra.", True),
     ("Tell me a joke about GPUs", "entertainment", False)],
    ids=["unknown name", "off topic"],
)
def test_a_declined_question_says_why_and_never_numbers_papers_it_did_not_cite(
    api: SlackStandIn, endpoint: str, question: str, reason: str, closest: bool
) -> None:
    channel = f"C0DECLINE{int(closest)}"
    event = mention(api, channel, question)
    assert send_event(endpoint, event, f"Ev0DECLINE{int(closest)}") == 200
    [reply] = wait_replies(api, channel, event["ts"])
    lines, shown = section_lines(reply), html.unescape(block_text(reply))
    assert lines[0].startswith(f"*{rag.ABSTAIN} ") and reason in lines[0], "the reason follows the abstention phrase"
    assert "*[" not in shown, "no paper is numbered as if cited"
    assert ("*Closest papers (retrieved, not cited)*" in lines) is closest
    assert ("closest papers are listed for reference" in shown) is closest, "the notice agrees with what is listed"


def test_a_long_list_is_split_between_its_lines() -> None:
    sentence = "Wombats dig square burrows under the eucalyptus trees of the southern hills every night. " * 2
    sources = [rag.Source(n=n, paper_id=f"p{n}", title=f"Wombat Study {n}", abstract=sentence, dates=["2024-05-01"],
                          score=1.0, dense_score=0.9) for n in range(1, 16)]
    citations = [rag.Citation(n=n, paper_id=f"p{n}", title=f"Wombat Study {n}", quote=sentence.strip(), dates=[])
                 for n in range(1, 16)]
    text = "\n".join(f"- Wombat Study {n}: {sentence.strip()} [{n}]" for n in range(1, 16))
    answer = rag.Answer(question="Which papers study wombats?", text=text, citations=citations, sources=sources,
                        abstained=False, backend="extractive", timings_ms={"total": 5.0})
    blocks = answer_blocks(answer)
    listed = [b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("• ")]
    assert len(text) > SECTION_LIMIT and len(listed) == 2, "the list needs two sections"
    lines = [line for piece in listed for line in piece.split("\n")]
    assert lines == [f"• {line[2:]}" for line in text.split("\n")], "every bullet whole, none cut between sections"


def test_long_answers_fit_slack_block_limits() -> None:
    long_quote = "A sentence that goes on and on. " * 150
    sources = [
        rag.Source(n=n, paper_id=f"p{n}", title=f"Paper {n} <b>&", abstract=long_quote, dates=["2024-05-01"],
                   score=1.0, dense_score=0.9)
        for n in range(1, 61)
    ]
    citations = [rag.Citation(n=s.n, paper_id=s.paper_id, title=s.title, quote=long_quote, dates=s.dates) for s in sources]
    answer = rag.Answer(question="q", text="Word [1]. " * 1500, citations=citations, sources=sources,
                        abstained=False, backend="extractive", timings_ms={"total": 12.0})
    blocks = answer_blocks(answer)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len((b.get("text") or {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    assert sum(len(b["text"]["text"]) for b in blocks[:5]) > 10_000
    assert blocks[-1]["block_id"] == "papertrail_feedback" and "Answered by" in blocks[-2]["elements"][0]["text"]
    assert "<b>" not in json.dumps(blocks)


def test_missing_credentials_are_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["slack"]) == 1
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    assert main(["slack"]) == 1
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET is not set" in err and TOKEN not in err


def _huge_post(endpoint: str, chunked: bool) -> tuple[bytes, int]:
    """POST an unsigned body announced as 300 MB (or sent chunked), a 64 KB piece at a time until the server
    answers; returns the status line and how many body bytes were sent by then."""
    url = urllib.parse.urlsplit(endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {300_000_000}"
        sock.sendall(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n{length}\r\n\r\n".encode()
        )
        piece = b"x" * 65_536
        sent = 0
        sock.settimeout(0.05)
        while sent < 300_000_000:
            try:
                answer = sock.recv(4096)
                return answer.split(b"\r\n", 1)[0], sent
            except TimeoutError:
                pass
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                sock.settimeout(10)
                return sock.recv(4096).split(b"\r\n", 1)[0], sent
            sent += len(piece)
    return b"", sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_huge_body_gets_413_before_it_is_read(endpoint: str, chunked: bool) -> None:
    status, sent = _huge_post(endpoint, chunked)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert sent <= 4 * slack.MAX_BODY_BYTES, f"the server read {sent:,} bytes before refusing"


def test_a_slash_command_replayed_within_five_minutes_is_answered_once(api: SlackStandIn, endpoint: str) -> None:
    form = {
        "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "test", "channel_id": "C0REPLAY",
        "channel_name": "papers", "user_id": "UALICE", "user_name": "alice", "command": "/papertrail",
        "text": QUESTION, "api_app_id": "A0PAPER", "is_enterprise_install": "false",
        "response_url": api.url + "response_url", "trigger_id": trigger_id(),
    }
    signed_at = str(int(time.time()))
    for _ in range(3):  # the same signed request, byte for byte
        assert post(endpoint, urlencode(form), "application/x-www-form-urlencoded", timestamp=signed_at) == 200
    again = form | {"trigger_id": trigger_id(), "text": "What is Chinchilla scaling about?"}
    assert post(endpoint, urlencode(again), "application/x-www-form-urlencoded") == 200
    roots = api.wait_for(lambda: len(_roots(api, "C0REPLAY")) >= 2 and _roots(api, "C0REPLAY"), WAIT)
    for root in roots:
        wait_replies(api, "C0REPLAY", root["ts"])
    assert len(_roots(api, "C0REPLAY")) == 2, [m["text"] for m in _roots(api, "C0REPLAY")]


def _roots(api: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [m for m in api.messages.get(channel, []) if "thread_ts" not in m]
