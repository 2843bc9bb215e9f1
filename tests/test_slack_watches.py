"""Watches in Slack against the Web API stand-in: `/papertrail watch`, `watches`, `unwatch`; the bot's poller sends
each match of a Hub stand-in sync (killed mid-way and run again) once, by DM or to the channel the watch was made
in, with an "Ask about it" button that asks in that conversation."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import free_port
from hub_server import HubStandIn
from slack_server import BOT_USER, TEAM, TOKEN, SlackStandIn, trigger_id
from slack_sdk import WebClient
from test_slack import SECRET, api, block_text, post, wait_replies  # noqa: F401 (api is a fixture)
from test_watches import killed_sync_then_rerun

import rag
from ui import slack
from ui.settings import SlackSettings

pytestmark = pytest.mark.slow

WAIT = 60.0
DM_WATCH = "faster decoding for long-context language models"
CHANNEL_WATCH = "abstention in retrieval-augmented question answering"


@pytest.fixture
def home(seeded_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(seeded_home, copy)
    return copy


@pytest.fixture
def bot(home: Path, api: SlackStandIn) -> Iterator[str]:  # noqa: F811 (the fixture's value)
    """The bot's HTTP endpoint over `home`."""
    settings = rag.Settings(store={"home": home}, llm={"backend": "extractive"})
    app = slack.build_app(settings, SlackSettings(api_url=api.url), bot_token=TOKEN, signing_secret=SECRET)
    server = slack.http_server(app, SECRET, "127.0.0.1", free_port())
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}{slack.EVENTS_PATH}"
    server.close()


def slash(api: SlackStandIn, endpoint: str, channel: str, text: str, user: str = "UALICE") -> str:  # noqa: F811
    """`/papertrail <text>` typed by `user` in `channel`; the ephemeral reply's text."""
    before = len(api.calls_to("response_url"))
    form = {
        "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "papers", "user_id": user, "user_name": "alice",
        "command": "/papertrail", "text": text, "api_app_id": "A0PAPER", "is_enterprise_install": "false",
        "response_url": api.url + "response_url", "trigger_id": trigger_id(),
    }
    assert post(endpoint, urlencode(form), "application/x-www-form-urlencoded") == 200
    replies = api.wait_for(lambda: api.calls_to("response_url")[before:], WAIT)
    assert replies and replies[0]["response_type"] == "ephemeral"
    return replies[0]["text"]


def posted_to(api: SlackStandIn, channel: str) -> list[dict]:  # noqa: F811
    return [args for args in api.calls_to("chat.postMessage") if args.get("channel") == channel]


def test_slack_watches_get_their_matches_once_by_dm_or_in_their_channel(
    api: SlackStandIn, bot: str, home: Path  # noqa: F811
) -> None:
    assert slash(api, bot, "D0ALICE", f"watch {DM_WATCH}").startswith("Watch 1 saved: ")
    reply = slash(api, bot, "C0WATCH", f"watch {CHANNEL_WATCH}")
    assert reply.startswith("Watch 2 saved: ") and reply.endswith("will be posted to <#C0WATCH>.")
    assert slash(api, bot, "C0WATCH", "watches", user="UBOB").startswith("You have no watches yet")
    listed = slash(api, bot, "D0ALICE", "watches")
    assert f"*1* {DM_WATCH}" in listed and f"*2* {CHANNEL_WATCH} (posted to <#C0WATCH>)" in listed
    assert slash(api, bot, "C0WATCH", "unwatch 1", user="UBOB") == "Sorry: no watch 1 of yours: `watch list` shows them."

    with HubStandIn() as hub:
        killed_sync_then_rerun(home, hub)
    settings = rag.Settings(store={"home": home}, llm={"backend": "extractive"})
    poller = slack.Digest(WebClient(token=TOKEN, base_url=api.url), None, settings)
    poller.poll()
    [dm] = posted_to(api, "UALICE")
    [in_channel] = posted_to(api, "C0WATCH")
    assert "<https://arxiv.org/abs/2603.07101|Sparse Lookahead Decoding for Long-Context Language Models>" in block_text(dm)
    assert f"*New paper for your watch* “{DM_WATCH}” (watch 1)" in block_text(dm)
    assert "\n> “" in block_text(dm), "the matching sentence is quoted"
    assert "Calibrated Abstention for Retrieval-Augmented Question Answering" in block_text(in_channel)
    poller.poll()
    assert len(posted_to(api, "UALICE")) == 1 and len(posted_to(api, "C0WATCH")) == 1, "each match is sent once"

    button = in_channel["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "Ask about it"
    payload = {
        "type": "block_actions", "user": {"id": "UALICE", "username": "alice", "name": "alice", "team_id": TEAM},
        "api_app_id": "A0PAPER", "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0WATCH", "is_ephemeral": False},
        "trigger_id": trigger_id(), "team": {"id": TEAM, "domain": "test"},
        "channel": {"id": "C0WATCH", "name": "papers"}, "response_url": api.url + "response_url",
        "message": {"type": "message", "user": BOT_USER, "ts": "1.0", "text": in_channel["text"], "blocks": in_channel["blocks"]},
        "actions": [{"action_id": button["action_id"], "block_id": "b", "type": "button", "value": button["value"],
                     "text": button["text"], "action_ts": str(time.time())}],
    }
    assert post(bot, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded") == 200
    question = api.wait_for(lambda: [m for m in posted_to(api, "C0WATCH") if "asked:" in m.get("text", "")], WAIT)
    assert question and question[0]["metadata"]["event_payload"]["question"] == button["value"]
    root = next(m for m in api.messages["C0WATCH"] if "asked:" in m.get("text", ""))
    [answer] = wait_replies(api, "C0WATCH", root["ts"])
    assert "Calibrated Abstention for Retrieval-Augmented Question Answering" in block_text(answer)

    assert slash(api, bot, "D0ALICE", "unwatch 1") == f"Watch 1 removed: {DM_WATCH}"
    assert slash(api, bot, "D0ALICE", "unwatch one").startswith("Say which watch")
