"""Records of the Hub that are malformed, shorter, renamed or over-long (issue 18, items 8, 12, 13): `papertrail sync`
and `add` with the real huggingface_hub session against the Hub stand-in, one week of scripted listings."""

from __future__ import annotations

import shutil
import subprocess
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from conftest import sync_settings
from hub_server import HubStandIn, listing

import rag
from tests.test_sync import SEED_PAPERS, by_arxiv, papertrail

pytestmark = pytest.mark.slow

WEEK = "2026-W06"
MONDAY, TUESDAY, THURSDAY = "2026-02-02", "2026-02-03", "2026-02-05"
CT_LLM = "Chinese Tiny LLM: Pretraining a Chinese-Centric Large Language Model"
SHORT_SUMMARY = (
    "CT-LLM is a 2B model pre-trained from scratch mostly on Chinese text, showing that Chinese-first "
    "pre-training gives strong Chinese and useful English skills."
)
LONG_TITLE = "Title " * 20_000


def record(arxiv: str, title: str, summary: str, **paper: Any) -> dict[str, Any]:
    """A listing record in the shape the service sends (a recorded one with its id, title and summary changed)."""
    made = deepcopy(listing("2026-03-12")[0])
    made["paper"].update({"id": arxiv, "title": title, "summary": summary, **paper})
    made["title"] = title
    return made


def summary(n: int) -> str:
    return f"We study the quokka problem number {n} with a small retriever and report what it finds. " * 3


MALFORMED = {
    "2602.10001": record("2602.10001", "Authors Named By Numbers", summary(1), authors=[{"name": 5}]),
    "2602.10002": record("2602.10002", "A Lone \udc80 Surrogate", summary(2)),
    "2602.10003": record("2602.10003", "A Broken Summary", "A summary with a lone surrogate \ud800 in it. " * 3),
    "2602.10004": record("2602.10004", "A Broken Date", summary(4), publishedAt="the ides of March"),
    "2602.10005": record("2602.10005", "Authors As Text", summary(5), authors="Ann Author"),
    "２６０２.１０００６": record("２６０２.１０００６", "Fullwidth Digits", summary(6)),
    "2602.10007": record("2602.10007", LONG_TITLE, summary(7)),
}
GOOD_MONDAY = record("2602.10010", "Quokka Ranking With Tiny Retrievers", summary(10))
GOOD_THURSDAY = record("2602.10020", "Marsupial Question Answering At Scale", summary(20))
RENAMED = [record("2602.10030", "Wombat Retrieval: A First Title", summary(30)),
           record("2602.10030", "Wombat Retrieval, Revised: A Second Title", summary(30))]
LISTED = {
    MONDAY: [GOOD_MONDAY, *MALFORMED.values(), "not a record", record("2602.10011", CT_LLM, SHORT_SUMMARY),
             RENAMED[0]],
    TUESDAY: [RENAMED[1]],
    THURSDAY: [GOOD_THURSDAY, record("2602.10010", GOOD_MONDAY["title"], "Quokka ranking, revised: it works. " * 2)],
}


@pytest.fixture(scope="module")
def synced(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess,
                                                                                   subprocess.CompletedProcess]:
    """A copy of the seeded home synced twice over the scripted week; the home and the two runs."""
    home = tmp_path_factory.mktemp("sync-records") / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        for day, records in LISTED.items():
            hub.script(f"daily_papers/{day}", [{"status": 200, "headers": {}, "body": records}])
        first = papertrail(home, hub.url, "sync", "--week", WEEK)
        again = papertrail(home, hub.url, "sync", "--week", WEEK)
    return home, first, again


def test_a_malformed_record_is_skipped_by_name_and_the_rest_of_the_week_is_stored(synced) -> None:
    home, first, again = synced
    assert first.returncode == 0, first.stderr
    skipped = [line for line in first.stderr.splitlines() if line.startswith("papertrail: skipped")]
    assert skipped == [
        "papertrail: skipped 2602.10001: author name is not text (int '5')",
        "papertrail: skipped 2602.10002: title is not valid Unicode (a lone surrogate '\\udc80' at character 8)",
        "papertrail: skipped 2602.10003: summary is not valid Unicode (a lone surrogate '\\ud800' at character 33)",
        "papertrail: skipped 2602.10004: malformed record (ValueError: Cannot parse 'the ides of March' as a datetime. "
        "Date string is expected to follow '%Y-%m-%dT%H:%M:%S.%fZ' pattern.)",
        "papertrail: skipped 2602.10005: 'authors' is not a list of JSON objects",
        "papertrail: skipped ２６０２.１０００６: no arXiv id",
        f"papertrail: skipped 2602.10007: Daily Papers {MONDAY}: title {LONG_TITLE.strip()[:80]!r}… is 119,999 "
        "characters; the limit is 400",
        "papertrail: skipped a record: not a JSON object but str",
    ]
    assert "unexpected error" not in first.stderr
    papers = by_arxiv(sync_settings(home, "http://unused"))
    assert {"2602.10010", "2602.10020", "2602.10011", "2602.10030"} <= set(papers)
    assert not set(MALFORMED) & set(papers)
    assert again.returncode == 0, again.stderr
    assert rag.stats(sync_settings(home, "http://unused"))["papers"] == SEED_PAPERS + 3


def test_a_shorter_summary_keeps_the_longer_stored_abstract_unless_newer_and_the_summary_says_so(synced) -> None:
    home, first, _ = synced
    papers = by_arxiv(sync_settings(home, "http://unused"))
    seed = papers["2602.10011"]
    assert seed.title == CT_LLM and len(seed.abstract) == 1413 and seed.abstract.startswith("In this study, we introduce")
    assert MONDAY in seed.dates and seed.arxiv_id == "2602.10011"
    assert (
        "papertrail: kept 2602.10011: the stored abstract (1,413 characters), not the listing's shorter one "
        f"({len(SHORT_SUMMARY)}), as the listing is no newer"
    ) in first.stderr
    assert papers["2602.10010"].abstract == "Quokka ranking, revised: it works. Quokka ranking, revised: it works."
    assert first.stdout.strip() == (
        "7 listing days, 6 papers: 3 new, 1 updated (a new abstract), 2 already stored "
        "(2 kept the stored title or a longer stored abstract)."
    )


def test_one_arxiv_id_listed_with_two_titles_is_one_paper_under_its_first_title(synced) -> None:
    home, first, _ = synced
    settings = sync_settings(home, "http://unused")
    wombats = [paper for paper in rag.catalog(settings) if "Wombat Retrieval" in paper.title]
    assert [(p.title, p.arxiv_id, p.dates) for p in wombats] == [(RENAMED[0]["title"], "2602.10030", [MONDAY, TUESDAY])]
    assert (
        f"papertrail: kept 2602.10030: the title {RENAMED[0]['title']!r}, not {RENAMED[1]['title']!r} as listed "
        "(one paper per arXiv id)"
    ) in first.stderr


def test_add_skips_a_malformed_record_by_name_and_adds_the_others(
    seeded_home: Path, tmp_path: Path, hub: HubStandIn
) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    hub.script("papers/2602.10001", [{"status": 200, "headers": {}, "body": MALFORMED["2602.10001"]["paper"]}])
    hub.script("papers/2602.10007", [{"status": 200, "headers": {}, "body": MALFORMED["2602.10007"]["paper"]}])
    hub.script("papers/2602.10010", [{"status": 200, "headers": {}, "body": GOOD_MONDAY["paper"]}])
    result = papertrail(home, hub.url, "add", "2602.10001", "2602.10007", "2602.10010")
    assert result.returncode == 0, result.stderr
    assert "papertrail: skipped 2602.10001: author name is not text (int '5')" in result.stderr
    assert "papertrail: skipped 2602.10007: arXiv 2602.10007: title 'Title Title" in result.stderr
    assert set(by_arxiv(sync_settings(home, hub.url))) == {"2602.10010"}
    assert "unexpected error" not in result.stderr
