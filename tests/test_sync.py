"""`papertrail sync` and `add` with the real huggingface_hub client against a Hub stand-in replaying recorded
listings: exact counts, seed overlaps merged, resumable after a kill or a failure, one line per failure."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from conftest import SYNC_WEEK, free_port, kill_when_seen, store_is_consistent, sync_settings
from hub_server import HubStandIn, exchanges, listing

import rag
from rag.store import Store

pytestmark = pytest.mark.slow

SEED_PAPERS = 339
HOLMES = "Holmes: Towards Distributed Training Across Clusters with Heterogeneous NIC Environment"
BIGRAM = "Bigram Subnetworks: Mapping to Next Tokens in Transformer Language Models"
FIXTURE_DAYS = ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]
ERRORS = json.loads((Path(__file__).parent / "fixtures" / "hub" / "errors.json").read_text())


def fixture_ids() -> dict[str, set[str]]:
    """arXiv ids listed per recorded day, usable records only (with a summary)."""
    return {day: {r["paper"]["id"] for r in listing(day) if r["paper"].get("summary")} for day in FIXTURE_DAYS}


NEW_IDS = set().union(*fixture_ids().values()) - {"2312.03549"}  # Holmes is a seed paper
LISTINGS = sum(len(ids) for ids in fixture_ids().values())


def papertrail(home: Path, endpoint: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The CLI over `home`, syncing from `endpoint` (HF_ENDPOINT, as a user sets it)."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], env=_env(home, endpoint), capture_output=True, text=True, timeout=timeout
    )


def _env(home: Path, endpoint: str) -> dict[str, str]:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", "HF_ENDPOINT": endpoint,
           "PAPERTRAIL_SYNC_PAGE_SIZE": "3", "PAPERTRAIL_SYNC_BACKOFF": "0.05"}
    env.pop("HF_TOKEN", None)
    return env


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("papertrail: error")]


@pytest.fixture
def home(seeded_home: Path, tmp_path: Path) -> Path:
    """A copy of the seeded store this test may sync into."""
    copy = tmp_path / "home"
    shutil.copytree(seeded_home, copy)
    return copy


def by_arxiv(settings: rag.Settings) -> dict[str, rag.Paper]:
    return {paper.arxiv_id: paper for paper in rag.catalog(settings) if paper.arxiv_id}


def test_sync_since_adds_exactly_the_new_papers_then_a_second_run_adds_nothing(home: Path, hub: HubStandIn) -> None:
    today = datetime.now(timezone.utc).date()
    days = (today - date(2026, 3, 9)).days + 1
    first = papertrail(home, hub.url, "sync", "--since", "2026-03-09")
    assert first.returncode == 0, first.stderr
    new = len(NEW_IDS)
    assert first.stdout.strip() == f"{days} listing days, {LISTINGS} papers: {new} new, {LISTINGS - new} already stored."
    assert "papertrail: skipped 2603.10055: no summary" in first.stderr
    settings = sync_settings(home, hub.url)
    assert rag.stats(settings)["papers"] == SEED_PAPERS + new
    papers = by_arxiv(settings)
    assert set(papers) == NEW_IDS | {"2312.03549"}
    holmes = papers["2312.03549"]
    assert holmes.title == HOLMES and holmes.dates == ["2026-03-11"], "the seed's 'Mar 11' became the synced day"
    assert holmes.sources == ["001_9e7297c5397a81b2.txt", "Daily Papers 2026-03-11"]
    twice = papers["2603.07101"]
    assert twice.dates == ["2026-03-09", "2026-03-10"] and twice.authors == ["Mira Okafor", "Tomasz Lindqvist", "Hana Sato"]
    assert (twice.arxiv_url, twice.published) == ("https://arxiv.org/abs/2603.07101", "2026-03-06")
    # a day of 4 papers came in pages of 3; 2026-03-13 answered 429 first and was asked again after its Retry-After
    assert hub.days_asked().count("2026-03-09") == 2
    rate_limited = [r for r in hub.requests if r.query.get("date") == "2026-03-13" and r.query.get("p") == "0"]
    assert len(rate_limited) == 2 and rate_limited[1].at - rate_limited[0].at >= 1.0

    asked_before = len(hub.requests)
    started = time.perf_counter()
    second = papertrail(home, hub.url, "sync", "--since", "2026-03-09")
    print(f"second run: {time.perf_counter() - started:.2f} s")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"2 listing days ({days - 2} days synced before), 0 papers: 0 new, 0 already stored."
    assert {r.query["date"] for r in hub.requests[asked_before:]} == {str(today), str(date.fromordinal(today.toordinal() - 1))}
    assert rag.stats(settings)["papers"] == SEED_PAPERS + new
    latest = rag.sync_status(settings).latest
    assert latest and {p.arxiv_id for p in latest.papers} == NEW_IDS


def test_synced_papers_are_found_by_listing_date_and_show_authors_in_json(synced_home: Path, tmp_path: Path) -> None:
    settings = rag.Settings(store={"home": synced_home}, llm={"backend": "extractive"})
    answer = rag.ask("What does calibrated abstention do for retrieval-augmented question answering?", settings=settings,
                     dates=["2026-03-11"])
    assert answer.sources and all({"2026-03-11", "Mar 11"} & set(s.dates) for s in answer.sources)
    assert answer.sources[0].title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    yearless = rag.ask("training large language models across GPU clusters", settings=settings, dates=["Mar 11"], top_k=15)
    assert all({"2026-03-11", "Mar 11"} & set(s.dates) for s in yearless.sources)
    assert HOLMES in {s.title for s in yearless.sources}, "'Mar 11' finds papers synced on 2026-03-11"
    assert any(s.arxiv_id is None and "Mar 11" in s.dates for s in yearless.sources), "and the seeds' Mar 11 papers"
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ask", "What does Sparse Lookahead Decoding speed up?", "--json"],
        env={**os.environ, "PAPERTRAIL_HOME": str(synced_home), "PAPERTRAIL_LLM": "extractive"},
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    source = json.loads(result.stdout)["sources"][0]
    assert source["title"] == "Sparse Lookahead Decoding for Long-Context Language Models"
    assert source["authors"] == ["Mira Okafor", "Tomasz Lindqvist", "Hana Sato"]
    assert source["arxiv_url"] == "https://arxiv.org/abs/2603.07101" and source["arxiv_id"] == "2603.07101"


def test_sync_killed_mid_way_then_rerun_ends_exact(home: Path, hub: HubStandIn) -> None:
    # The bar counts a day once its papers are stored: kill right after the second, while the third is on its way.
    kill_when_seen([sys.executable, "-m", "ui.cli", "sync", "--week", SYNC_WEEK], _env(home, hub.url), rb"\b2/7\b")
    settings = sync_settings(home, hub.url)
    assert SEED_PAPERS < rag.stats(settings)["papers"] < SEED_PAPERS + len(NEW_IDS)

    rerun = papertrail(home, hub.url, "sync", "--week", SYNC_WEEK)
    assert rerun.returncode == 0, rerun.stderr
    assert re.fullmatch(r"\d listing days \(\d days synced before\), \d+ papers: \d+ new, \d+ already stored\.", rerun.stdout.strip())
    store_is_consistent(settings, SEED_PAPERS + len(NEW_IDS))
    assert by_arxiv(settings)["2312.03549"].dates == ["2026-03-11"]
    latest = rag.sync_status(settings).latest
    assert latest and {p.arxiv_id for p in latest.papers} == NEW_IDS, "papers the killed run added are reported too"


def test_a_500_ends_with_one_line_and_a_rerun_continues_from_the_first_day_not_stored(home: Path, hub: HubStandIn) -> None:
    hub.script("daily_papers/2026-03-12", [ERRORS["500"]])
    failed = papertrail(home, hub.url, "sync", "--week", SYNC_WEEK)
    assert failed.returncode == 1
    assert error_lines(failed) == [
        f"papertrail: error: the listing of 2026-03-12: {hub.url.removeprefix('http://')} answered HTTP 500 4 times "
        "in a row; run sync again later (stored days are kept)"
    ]
    assert "Traceback" not in failed.stderr
    assert failed.stdout.strip() == "3 listing days, 12 papers: 10 new, 2 already stored."
    assert hub.days_asked().count("2026-03-12") == 4, "three retries, then give up"
    settings = sync_settings(home, hub.url)
    assert rag.sync_status(settings).days == 3 and rag.sync_status(settings).last_sync is None

    hub.script("daily_papers/2026-03-12", exchanges("daily_papers", "2026-03-12"))
    asked_before = len(hub.requests)
    rerun = papertrail(home, hub.url, "sync", "--week", SYNC_WEEK)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == "4 listing days (3 days synced before), 6 papers: 6 new, 0 already stored."
    assert "2026-03-11" not in {r.query.get("date") for r in hub.requests[asked_before:]}
    assert rag.stats(settings)["papers"] == SEED_PAPERS + len(NEW_IDS)


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("closed", r"cannot reach http://127\.0\.0\.1:\d+ \(.*\): no network\? Run sync again when it is back"),
        ("http://papertrail-test.invalid", r"cannot look up papertrail-test\.invalid \(DNS failure\): no network, or HF_ENDPOINT is wrong"),
    ],
)
def test_no_network_and_dns_failure_are_one_line_and_exit_1(home: Path, endpoint: str, message: str) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}" if endpoint == "closed" else endpoint
    before = Store(rag.Settings(store={"home": home})).count()
    result = papertrail(home, endpoint, "sync", "--date", "2026-03-09")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert re.fullmatch(f"papertrail: error: {message}", line), line
    assert "Traceback" not in result.stderr
    assert Store(rag.Settings(store={"home": home})).count() == before


def test_long_retry_after_and_unreadable_listing_end_with_one_line(home: Path, hub: HubStandIn) -> None:
    hub.script("daily_papers/2026-03-09", [ERRORS["429-long"]])
    limited = papertrail(home, hub.url, "sync", "--date", "2026-03-09")
    assert limited.returncode == 1
    assert error_lines(limited) == [
        f"papertrail: error: the listing of 2026-03-09: {hub.url.removeprefix('http://')} is rate-limiting requests "
        "(HTTP 429) and asks to wait 3600 s; run sync again later"
    ]
    assert hub.days_asked() == ["2026-03-09"], "no retry when the wait is longer than PAPERTRAIL_SYNC_MAX_WAIT"
    hub.script("daily_papers/2026-03-10", [{"status": 200, "headers": {}, "body": {"unexpected": "shape"}}])
    broken = papertrail(home, hub.url, "sync", "--date", "2026-03-10")
    assert broken.returncode == 1
    [line] = error_lines(broken)
    assert line.startswith("papertrail: error: the listing of 2026-03-10: ") and "sent a response that cannot be read" in line
    assert rag.sync_status(rag.Settings(store={"home": home})).days == 0


def test_add_by_id_and_link_merges_a_seed_paper_and_names_what_it_skips(home: Path, hub: HubStandIn) -> None:
    result = papertrail(home, hub.url, "add", "2602.04417", "https://arxiv.org/abs/2504.15471v1", "2603.10055", "2609.99999")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4 arXiv ids, 2 papers: 1 new, 1 already stored."
    assert "papertrail: skipped 2603.10055: no summary" in result.stderr
    assert f"papertrail: skipped 2609.99999: no such paper on {hub.url.removeprefix('http://')} (HTTP 404)" in result.stderr
    papers = by_arxiv(rag.Settings(store={"home": home}))
    assert papers["2504.15471"].title == BIGRAM and papers["2504.15471"].dates == ["2025-05-02"]
    assert papers["2504.15471"].authors == ["Iris Calloway", "Ben Okonjo"]
    assert papers["2602.04417"].url == "https://huggingface.co/papers/2602.04417"

    missing = papertrail(home, hub.url, "add", "2609.99999")
    assert missing.returncode == 1
    assert error_lines(missing) == [
        f"papertrail: error: none of the 1 papers could be added: 2609.99999: no such paper on "
        f"{hub.url.removeprefix('http://')} (HTTP 404)"
    ]
    asked = len(hub.requests)
    bad = papertrail(home, hub.url, "add", "2602.04417", "not-an-id")
    assert bad.returncode == 1 and len(hub.requests) == asked, "a bad id is refused before any request"
    assert error_lines(bad) == [
        "papertrail: error: 'not-an-id' is not an arXiv id (like 2403.04706) nor an arxiv.org or huggingface.co/papers link"
    ]


def test_the_hub_stays_offline_outside_a_sync_even_while_one_runs(tmp_path: Path, hub: HubStandIn) -> None:
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    settings = sync_settings(tmp_path / "home", hub.url)
    outside = HfApi(endpoint=hub.url, token=False)
    with pytest.raises(OfflineModeIsEnabled):
        list(outside.list_daily_papers(date="2026-03-14"))
    assert hub.requests == []
    hub.delay = 0.3
    refused: list[BaseException] = []

    def meanwhile() -> None:
        time.sleep(0.5)
        try:
            list(outside.list_daily_papers(date="2026-03-15"))
        except OfflineModeIsEnabled as err:
            refused.append(err)

    other = threading.Thread(target=meanwhile)
    other.start()
    rag.sync(week=SYNC_WEEK, settings=settings.model_copy(update={"sync": settings.sync.model_copy(update={"page_size": 50})}))
    other.join()
    assert len(refused) == 1, "another thread's hub request during the sync was refused"
    assert hub.days_asked() == [f"2026-03-{day:02d}" for day in (9, 10, 11, 12, 13, 13, 14, 15)]
    assert all("authorization" not in r.headers for r in hub.requests), "no token unless HF_TOKEN"
    assert constants.HF_HUB_OFFLINE and constants.is_offline_mode()
    with pytest.raises(OfflineModeIsEnabled):
        list(outside.list_daily_papers(date="2026-03-09"))


def test_hf_token_is_sent_with_listing_requests(home: Path, hub: HubStandIn) -> None:
    env = {**_env(home, hub.url), "HF_TOKEN": "hf_test_token_0000"}
    result = subprocess.run([sys.executable, "-m", "ui.cli", "sync", "--date", "2026-03-14"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert [r.headers.get("authorization") for r in hub.requests] == ["Bearer hf_test_token_0000"]
    assert "hf_test_token_0000" not in result.stdout + result.stderr
