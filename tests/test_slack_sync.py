"""The Slack side of the Daily Papers sync against the Slack Web API stand-in: `/papertrail new`, the digest
posted once per sync, and authors with arXiv links in answers about synced papers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import free_port, sync_settings
from hub_server import HubStandIn
from slack_server import APP_TOKEN, TEAM, TOKEN, SlackStandIn, trigger_id
from slack_sdk import WebClient
from test_slack import SECRET, api, block_text, endpoint, mention, post, send_event, wait_replies  # noqa: F401 (fixtures)

import rag
from ui import slack
from ui.settings import SlackSettings

pytestmark = pytest.mark.slow

WAIT = 60.0


@pytest.fixture(scope="module")
def settings(synced_copy: Path) -> rag.Settings:
    """The synced store (test_slack's `endpoint` serves the bot over it)."""
    return rag.Settings(store={"home": synced_copy}, llm={"backend": "extractive"})


def slash(endpoint: str, api: SlackStandIn, channel: str, text: str) -> int:
    form = {
        "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
        "channel_name": "papers", "user_id": "UALICE", "user_name": "alice", "command": "/papertrail", "text": text,
        "api_app_id": "A0PAPER", "is_enterprise_install": "false", "response_url": api.url + "response_url",
        "trigger_id": trigger_id(),
    }
    return post(endpoint, urlencode(form), "application/x-www-form-urlencoded")


def posted_to(api: SlackStandIn, channel: str) -> list[dict]:
    return [args for args in api.calls_to("chat.postMessage") if args.get("channel") == channel]


def test_slash_new_lists_the_latest_sync_with_arxiv_links_authors_and_first_sentences(
    api: SlackStandIn, endpoint: str, settings: rag.Settings  # noqa: F811
) -> None:
    assert slash(endpoint, api, "C0NEW", "new") == 200
    [message] = api.wait_for(lambda: posted_to(api, "C0NEW"), WAIT)
    latest = rag.sync_status(settings).latest
    assert latest and len(latest.papers) == 16
    shown = block_text(message)
    assert shown.startswith("*16 new papers* from Hugging Face Daily Papers")
    for paper in latest.papers:
        assert f"<https://arxiv.org/abs/{paper.arxiv_id}|" in shown
        assert paper.authors[0] in shown and rag.first_sentence(paper.abstract).split(",")[0] in shown
    assert "Holmes" not in shown, "a seed paper the sync only relabelled is not new"
    assert message["text"].startswith("16 new papers from Hugging Face Daily Papers: ")


def test_slash_new_before_any_sync_says_how_to_get_papers(api: SlackStandIn, seeded_home: Path, tmp_path: Path) -> None:
    shutil.copytree(seeded_home, tmp_path / "home")
    settings = rag.Settings(store={"home": tmp_path / "home"}, llm={"backend": "extractive"})
    app = slack.build_app(settings, SlackSettings(api_url=api.url), bot_token=TOKEN, signing_secret=SECRET)
    server = slack.http_server(app, SECRET, "127.0.0.1", free_port())
    threading.Thread(target=server.run, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}{slack.EVENTS_PATH}"
        assert slash(url, api, "C0EMPTY", "new") == 200
        replies = api.wait_for(lambda: [a for a in api.calls_to("response_url") if a.get("text") == slack.NOTHING_NEW], WAIT)
    finally:
        server.close()
    assert replies and replies[0]["response_type"] == "ephemeral"
    assert posted_to(api, "C0EMPTY") == []


def test_answer_about_a_synced_paper_links_arxiv_and_names_its_authors(api: SlackStandIn, endpoint: str) -> None:
    event = mention(api, "C0SYNCED", "What does Sparse Lookahead Decoding speed up on long sequences?")
    assert send_event(endpoint, event, "Ev0SYNCED1") == 200
    [reply] = wait_replies(api, "C0SYNCED", event["ts"])
    shown = block_text(reply)
    assert "<https://arxiv.org/abs/2603.07101|Sparse Lookahead Decoding for Long-Context Language Models>" in shown
    assert "Mira Okafor, Tomasz Lindqvist, Hana Sato" in shown and "listed 2026-03-09, 2026-03-10" in shown


def test_digest_posts_each_sync_once(api: SlackStandIn, synced_home: Path, tmp_path: Path) -> None:
    shutil.copytree(synced_home, tmp_path / "home")
    with HubStandIn() as hub:
        settings = sync_settings(tmp_path / "home", hub.url)
        digest = slack.Digest(WebClient(token=TOKEN, base_url=api.url), "C0DIGEST", settings)
        assert digest.post_pending() == 1
        assert digest.post_pending() == 0, "posted once"
        rag.sync(week="2026-W11", settings=settings)
        assert digest.post_pending() == 0, "a sync that added nothing posts nothing"
        rag.add_arxiv(["2602.04417"], settings)
        assert digest.post_pending() == 1
    first, second = posted_to(api, "C0DIGEST")
    assert block_text(first).count("<https://arxiv.org/abs/") == 16
    assert block_text(second).startswith("*1 new paper* from") and "arxiv.org/abs/2602.04417" in block_text(second)


def test_slack_command_with_digest_channel_posts_after_a_cron_sync(api: SlackStandIn, seeded_home: Path, tmp_path: Path) -> None:
    """`papertrail slack --digest-channel` in Socket Mode; a `papertrail sync` in another process feeds the channel."""
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    env = os.environ | {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive",
        "PAPERTRAIL_SLACK_API_URL": api.url, "PAPERTRAIL_SLACK_DIGEST_INTERVAL": "0.5",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    log_file = tmp_path / "bot.log"
    with log_file.open("w") as log:
        bot = subprocess.Popen([sys.executable, "-m", "ui.cli", "slack", "--digest-channel", "C0CRON"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        with HubStandIn() as hub:
            synced = subprocess.run([sys.executable, "-m", "ui.cli", "sync", "--date", "2026-03-13"],
                                    env=env | {"HF_ENDPOINT": hub.url, "PAPERTRAIL_SYNC_BACKOFF": "0.05"},
                                    capture_output=True, text=True, timeout=600)
        assert synced.returncode == 0, synced.stderr
        posts = api.wait_for(lambda: posted_to(api, "C0CRON"), 180)
        assert posts, f"no digest reached C0CRON: {log_file.read_text()[-2000:]}"
        time.sleep(2)
        [digest] = posted_to(api, "C0CRON")
        assert block_text(digest).startswith("*3 new papers* from Hugging Face Daily Papers")
        assert "<https://arxiv.org/abs/2603.11002|Contrastive Pre-training for Tabular Foundation Models>" in block_text(digest)
    finally:
        bot.send_signal(signal.SIGINT)
        stopped = bot.wait(30)
    assert stopped == 130, f"Ctrl-C did not stop the bot cleanly: {log_file.read_text()[-2000:]}"
    assert "Traceback" not in log_file.read_text()
    assert TOKEN not in log_file.read_text()
