"""Watches from Python and the CLI: a watch receives exactly the papers of a Hub stand-in sync that answer it, once,
across a sync killed mid-way and run again; the watch state survives restarts; bad input is refused clearly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SYNC_WEEK, kill_when_seen, sync_settings
from hub_server import HubStandIn

import rag

pytestmark = pytest.mark.slow

WATCHES = {
    "speculative decoding that drafts tokens for long-context language models": {
        "Sparse Lookahead Decoding for Long-Context Language Models"
    },
    "storing Adam optimizer states in low precision to save memory": {"Quantized Optimizer States at Two Bits"},
    "abstention in retrieval-augmented question answering": {
        "Calibrated Abstention for Retrieval-Augmented Question Answering"
    },
    "protein folding with diffusion models": set(),
}
"""Watch → the titles of the synced week (tests/fixtures/hub) that answer it; the last answers none of them."""


def env_for(home: Path, hub: HubStandIn) -> dict[str, str]:
    return os.environ | {
        "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", "HF_ENDPOINT": hub.url,
        "PAPERTRAIL_SYNC_PAGE_SIZE": "3", "PAPERTRAIL_SYNC_BACKOFF": "0.05",
    }


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True, timeout=600)


def killed_sync_then_rerun(home: Path, hub: HubStandIn) -> None:
    """`papertrail sync --week` SIGKILLed once two of its five listing days are stored, then run again to the end."""
    hub.delay = 0.3
    kill_when_seen([sys.executable, "-m", "ui.cli", "sync", "--week", SYNC_WEEK], env_for(home, hub), rb"\| 2/5 ")
    hub.delay = 0.0
    assert 0 < rag.stats(rag.Settings(store={"home": home}))["papers"] - 339 < 16, "the kill came mid-way"
    rerun = cli("sync", "--week", SYNC_WEEK, env=env_for(home, hub))
    assert rerun.returncode == 0, rerun.stderr


def test_python_watches_get_exactly_their_papers_once_across_a_killed_sync(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        settings = sync_settings(home, hub.url)
        watches = {rag.watches.add(question, settings=settings).id: question for question in WATCHES}
        assert rag.watches.check(settings=settings) == [], "papers stored before a watch are not new to it"
        killed_sync_then_rerun(home, hub)
    found = rag.watches.check(settings=settings)
    got = {question: {m.paper.title for m in found if m.watch.id == watch_id} for watch_id, question in watches.items()}
    assert got == WATCHES
    for match in found:
        assert match.paper.arxiv_url and match.paper.arxiv_url.startswith("https://arxiv.org/abs/2603.")
        assert match.sentence and match.sentence in match.paper.abstract
        assert rag.ask(match.ask, settings=settings).citations[0].title == match.paper.title, "ask about it answers from it"
    assert rag.watches.check(settings=settings) == [], "each match is delivered once"
    with HubStandIn() as hub:
        rag.sync(week=SYNC_WEEK, settings=sync_settings(home, hub.url))
    assert rag.watches.check(settings=settings) == [], "a sync that adds nothing matches nothing"
    assert [w.question for w in rag.watches.list(settings=settings)] == list(WATCHES)


def test_cli_watch_add_sync_killed_and_rerun_then_check_prints_each_match_once(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        env = env_for(home, hub)
        added = cli("watch", "add", "speculative decoding that drafts tokens for long-context language models", env=env)
        assert added.returncode == 0, added.stderr
        assert added.stdout.startswith("Watch 1 saved: ")
        assert cli("watch", "add", "protein folding with diffusion models", env=env).returncode == 0
        killed_sync_then_rerun(home, hub)
        synced = cli("sync", "--week", SYNC_WEEK, env=env)
    assert "new match" not in synced.stdout, "nothing new: nothing to announce"
    first = cli("watch", "check", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("Sparse Lookahead Decoding for Long-Context Language Models") == 1
    assert "https://arxiv.org/abs/2603.07101" in first.stdout
    assert 'Ask about it: papertrail ask "What does “Sparse Lookahead Decoding for Long-Context Language Models” propose?"' in first.stdout
    assert first.stdout.rstrip().endswith("1 new match.")
    again = cli("watch", "check", env=env)
    assert again.returncode == 0 and again.stdout.strip() == "No new matches."
    listed = cli("watch", "list", env=env)
    assert listed.stdout.startswith("1  speculative decoding")
    removed = cli("watch", "remove", "2", env=env)
    assert removed.returncode == 0 and "Watch 2 removed" in removed.stdout
    missing = cli("watch", "remove", "2", env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "papertrail: error: no watch 2 of yours: `watch list` shows them"


def test_cli_sync_announces_the_matches_waiting(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        env = env_for(home, hub)
        assert cli("watch", "add", "abstention in retrieval-augmented question answering", env=env).returncode == 0
        synced = cli("sync", "--date", "2026-03-11", env=env)
    assert synced.returncode == 0, synced.stderr
    assert "1 new match for your watches: `papertrail watch check` shows them." in synced.stdout


def test_bad_watches_are_refused_in_one_line(seeded_home: Path, tmp_path: Path) -> None:
    settings = rag.Settings(store={"home": tmp_path / "home"})
    for bad, message in (("", "the question is empty"), ("tell me a joke", "not something papers can answer")):
        with pytest.raises(rag.BadInputError, match=message):
            rag.watches.add(bad, settings=settings)
    with pytest.raises(rag.BadInputError, match="a watch id is a whole number"):
        rag.watches.remove("1", settings=settings)  # type: ignore[arg-type]
    with pytest.raises(rag.BadInputError, match="not a day like 2024-03-11"):
        rag.watches.check("yesterday", settings=settings)


def test_a_sender_killed_between_sending_and_recording_sends_that_match_again_once(seeded_home: Path, tmp_path: Path) -> None:
    """At least once: a kill after Slack took a match and before it was marked sent repeats that one match once."""
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        settings = sync_settings(home, hub.url)
        rag.watches.add("abstention in retrieval-augmented question answering", owner="slack:UALICE", settings=settings)
        rag.sync(date="2026-03-11", settings=settings)
    sent = tmp_path / "sent.txt"
    script = (
        "import os, signal, sys, rag\n"
        f"settings = rag.Settings(store={{'home': {str(home)!r}}})\n"
        "def send(match):\n"
        f"    open({str(sent)!r}, 'a').write(match.paper.title + '\\n')\n"
        "    if sys.argv[1] == 'die': os.kill(os.getpid(), signal.SIGKILL)\n"
        "print(rag.watches.deliver(send, 'slack:', settings))\n"
    )
    died = subprocess.run([sys.executable, "-c", script, "die"], capture_output=True, text=True, timeout=300)
    assert died.returncode == -signal.SIGKILL
    for expected in ("1", "0"):
        run = subprocess.run([sys.executable, "-c", script, "live"], capture_output=True, text=True, timeout=300)
        assert run.stdout.strip() == expected, run.stderr
    assert sent.read_text().splitlines() == ["Calibrated Abstention for Retrieval-Augmented Question Answering"] * 2
