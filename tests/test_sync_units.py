"""The pieces of the Daily Papers sync that need no network or store: listing dates, arXiv ids, listing days,
records that cannot be used, and the Slack list of new papers within Slack's limits."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from hub_server import listing

import rag
from rag import dates
from rag.daily_papers import arxiv_id, listing_days, to_papers
from rag.parse import combine
from ui.slack_blocks import MAX_BLOCKS, SECTION_LIMIT, batch_blocks

TODAY = date(2026, 11, 27)


def test_a_synced_day_takes_the_place_of_the_same_day_without_a_year() -> None:
    assert dates.merge(["Mar 11", "Mar 14"], ["2026-03-11"]) == ["2026-03-11", "Mar 14"]
    assert dates.merge(["2026-03-11"], ["Mar 11", "2025-03-11", "March 11, 2026", "2026-03-11"]) == ["2026-03-11", "2025-03-11"]
    assert dates.merge(["Mar 11", "March 11"], ["2026-03-11"]) == ["2026-03-11"]
    assert dates.merge(["not a date"], ["not a date", "other"]) == ["not a date", "other"]


def test_a_date_filter_matches_every_stored_date_that_may_name_the_day() -> None:
    stored = ["Mar 11", "2026-03-11", "2025-03-11", "Mar 14", "Sep 12"]
    assert dates.matching(["2026-03-11"], stored) == ["2026-03-11", "Mar 11"]
    assert dates.matching(["Mar 11"], stored) == ["Mar 11", "2025-03-11", "2026-03-11"]
    assert dates.matching(["2024-01-01"], stored) == ["2024-01-01"], "an unknown day still filters (to nothing)"
    ordered = sorted(["2026-03-11", "Sep 12", "Mar 11", "odd", "2025-12-01", "May 2"], key=rag.listing_date_key)
    assert ordered == ["Mar 11", "May 2", "Sep 12", "2025-12-01", "2026-03-11", "odd"]


def test_combining_a_seed_paper_with_its_synced_record_keeps_both() -> None:
    seed = rag.Paper(paper_id="p", title="T", abstract="A", dates=["Mar 11"], sources=["000.txt"])
    synced = rag.Paper(paper_id="p", title="T", abstract="A", dates=["2026-03-11"], sources=["Daily Papers 2026-03-11"],
                       url="https://huggingface.co/papers/2603.1", arxiv_id="2603.1", authors=["Ann"], published="2026-03-09")
    both = combine(seed, synced)
    assert (both.dates, both.sources) == (["2026-03-11"], ["000.txt", "Daily Papers 2026-03-11"])
    assert (both.arxiv_id, both.authors, both.published, both.url) == ("2603.1", ["Ann"], "2026-03-09", synced.url)
    assert combine(both, seed) == both, "a later seed ingest takes nothing away"
    assert json.loads(both.model_dump_json())["arxiv_url"] == "https://arxiv.org/abs/2603.1"


@pytest.mark.parametrize(
    "text",
    ["2403.04706", "2403.04706v2", "arXiv:2403.04706", "https://arxiv.org/abs/2403.04706v1", "arxiv.org/pdf/2403.04706v2.pdf",
     "https://huggingface.co/papers/2403.04706", "https://www.arxiv.org/abs/2403.04706/"],
)
def test_arxiv_ids_and_links_give_the_id(text: str) -> None:
    assert arxiv_id(text) == "2403.04706"


@pytest.mark.parametrize("text", ["", "2403.047", "https://example.org/abs/2403.04706", "hep-th/9901001", "2403.04706 junk"])
def test_anything_else_is_refused_by_name(text: str) -> None:
    with pytest.raises(rag.BadInputError, match="is not an arXiv id"):
        arxiv_id(text)


def test_listing_days_asked_for() -> None:
    assert listing_days(TODAY, None) == [TODAY]
    last = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    assert listing_days(TODAY, last)[0] == date(2026, 11, 18), "the days a sync could not yet settle are fetched again"
    assert listing_days(TODAY, None, week="2024-W11") == [date(2024, 3, day) for day in range(11, 18)]
    assert len(listing_days(TODAY, None, month="2024-02")) == 29
    assert listing_days(TODAY, None, month="2026-11")[-1] == TODAY, "never past today"
    assert len(listing_days(TODAY, None, since="2026-11-01")) == 27


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ({"day": "2024-3-11"}, "--date '2024-3-11' is not a day like 2024-03-11"),
        ({"week": "2024-W60"}, "--week '2024-W60' is not a week like 2024-W11"),
        ({"month": "2024-13"}, "--month '2024-13' is not a month like 2024-03"),
        ({"since": "2027-01-01"}, "--since 2027-01-01 is in the future"),
        ({"day": "2024-03-11", "week": "2024-W11"}, "give one of --date, --week, --month or --since"),
    ],
)
def test_bad_listing_days_are_refused_before_any_request(asked: dict, message: str) -> None:
    with pytest.raises(rag.BadInputError, match=message.replace("(", r"\(")):
        listing_days(TODAY, None, **asked)


def test_a_record_without_summary_title_or_id_is_skipped_by_name() -> None:
    records = listing("2026-03-12")
    records.append({"paper": {"id": "2603.10099", "summary": "An abstract long enough to be one for sure."}})
    records.append({"paper": {"summary": "An abstract long enough to be one for sure."}, "title": "No Id Here"})
    papers, skipped = to_papers(records, "2026-03-12", "Daily Papers 2026-03-12")
    assert [p.arxiv_id for p in papers] == ["2603.10011", "2603.10032", "2603.10078"]
    assert skipped == ["2603.10055: no summary", "2603.10099: no title", "a record titled 'No Id Here': no arXiv id"]
    assert all(p.dates == ["2026-03-12"] and p.authors and p.published for p in papers)
    assert "\n" not in papers[0].abstract, "arXiv's hard line breaks are normalised as in files"


def test_a_long_list_of_new_papers_fits_slack_limits_and_counts_what_is_left_out() -> None:
    abstract = "A first sentence that says what the paper does in some detail" + ", and more" * 40 + ". Then more."
    papers = [
        rag.Paper(paper_id=f"p{n}", title=f"Paper <{n}> & more" + " words" * 30, abstract=abstract, arxiv_id=f"2603.{n:05d}",
                  authors=["Ann Author", "Bo Writer", "Cy Coder", "Di Drafter"])
        for n in range(400)
    ]
    blocks = batch_blocks(rag.SyncBatch(number=1, finished=datetime(2026, 3, 13, 6, 0, tzinfo=timezone.utc), papers=papers))
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    shown = sum(b["text"]["text"].count("<https://arxiv.org/abs/") for b in blocks if b["type"] == "section")
    assert shown > 100 and f"…and {400 - shown} more" in blocks[-1]["elements"][0]["text"]
    assert "Ann Author, Bo Writer, Cy Coder et al." in blocks[1]["text"]["text"]
    assert "&lt;0&gt; &amp; more" in blocks[1]["text"]["text"] and "says what the paper does in some detail" in blocks[1]["text"]["text"]
    assert "Then more" not in blocks[1]["text"]["text"], "only the first sentence"
