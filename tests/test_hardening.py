"""Hostile input refused or made harmless (issue 13, items 4-7 and 11): links that could run script or break a
Slack message, terminal escapes, files that are not what they claim, and bad arguments to the public API."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import unicodedata
from pathlib import Path

import pytest

import rag
from rag.parse import expand_paths, parse_file
from ui.slack_blocks import answer_blocks
from ui.web_render import source_card

ABSTRACT = "We study how small retrieval models answer questions about marsupials, and find they do well."
HOSTILE_URLS = {
    "javascript": "javascript:fetch('/config').then(r=>r.text()).then(alert)",
    "javascript in capitals": "JaVaScRiPt:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "slack pipe injection": "http://x.org|click> <!channel> <http://evil.example",
    "a space": "https://x.org/a b",
    "a leading control character": "\x01javascript:alert(1)",
    "a quote ending the attribute": 'https://x.org/" onmouseover="alert(1)',
    "no host": "http:///etc/passwd",
    "bidi override": "https://x.org/\u202egpj.exe",
}
SAFE_URLS = ["https://arxiv.org/abs/2401.00001", "http://x.org/search?a=1&b=2#top", "https://de.wikipedia.org/wiki/Köln"]


def jsonl(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def paper(title: str = "Marsupial Retrieval", **fields: str) -> dict:
    return {"title": title, "abstract": ABSTRACT, **fields}


def source(url: str | None, title: str = "Marsupial Retrieval", dates: list[str] | None = None) -> rag.Source:
    return rag.Source(n=1, paper_id="p1", title=title, abstract=ABSTRACT, dates=dates or ["Mar 11"], url=url,
                      score=1.0, dense_score=0.9)


def cited(src: rag.Source) -> rag.Answer:
    citation = rag.Citation(n=1, paper_id=src.paper_id, title=src.title, quote=ABSTRACT, dates=src.dates)
    return rag.Answer(question="q", text="They do well [1].", citations=[citation], sources=[src], abstained=False,
                      backend="extractive", timings_ms={"total": 3.0})


def controls(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]


# 4 and 5: links


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS.keys())
def test_a_url_that_is_not_a_plain_web_link_is_refused_with_file_and_line(tmp_path: Path, url: str) -> None:
    path = jsonl(tmp_path / "upload.jsonl", paper("A fine paper", url="https://x.org/1"), paper(url=url))
    with pytest.raises(rag.BadInputError, match=r"^upload\.jsonl:2: 'url' "):
        parse_file(path)


def test_plain_web_links_are_kept_as_given(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "ok.jsonl", *(paper(f"Paper {n}", url=url) for n, url in enumerate(SAFE_URLS)))
    assert [p.url for p in parse_file(path)] == SAFE_URLS


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS.keys())
def test_a_stored_hostile_url_never_becomes_a_link_in_the_sources_panel(url: str) -> None:
    card = source_card(source(url), [])
    hrefs = re.findall(r'href="([^"]*)"', card)
    assert all(href.startswith("https://") for href in hrefs) and len(hrefs) == 2, hrefs
    assert "Paper page" not in card and "javascript" not in card.casefold()


def test_a_web_url_is_the_paper_page_link_with_its_ampersands_escaped() -> None:
    card = source_card(source(SAFE_URLS[1]), [])
    assert '<a href="http://x.org/search?a=1&amp;b=2#top" target="_blank" rel="noopener">Paper page</a>' in card


def section_text(blocks: list[dict]) -> str:
    return "\n".join(block.get("text", {}).get("text", "") for block in blocks)


@pytest.mark.parametrize("url", [*HOSTILE_URLS.values(), *SAFE_URLS], ids=[*HOSTILE_URLS.keys(), *SAFE_URLS])
def test_slack_source_links_cannot_be_broken_out_of(url: str) -> None:
    title = "Pipes | and <brackets> & <!here> in a title"
    blocks = answer_blocks(cited(source(url, title=title, dates=["Mar 11 <!channel>"])))
    links = re.findall(r"<([^<>]*)>", section_text(blocks))
    assert len(links) == 1 and links[0].count("|") == 1, links
    target, label = links[0].split("|")
    assert target == (url.replace("&", "&amp;") if url in SAFE_URLS else target)
    assert target.startswith(("https://", "http://")) and " " not in target
    assert label == "Pipes ¦ and &lt;brackets&gt; &amp; &lt;!here&gt; in a title"
    shown = section_text(blocks)
    assert "<!" not in shown and "listed Mar 11 &lt;!channel&gt;" in shown


# 6: terminal escapes


def test_control_characters_are_stripped_from_titles_and_abstracts_at_ingest(tmp_path: Path) -> None:
    title = "Évil\x1b]0;owned\x07 Title\x08\x08 🦘"
    abstract = "Clear\x1b[2J screen\x9b31m and caf\u00e9 na\u00efve\x00 text,\ttabs and\x85next lines stay words. " * 2
    (read,) = parse_file(jsonl(tmp_path / "escapes.jsonl", {"title": title, "abstract": abstract, "date": "Mar\x1b[5m 11"}))
    assert read.title == "Évil]0;owned Title 🦘"
    assert read.abstract.startswith("Clear[2J screen31m and café naïve text, tabs and next lines stay words. Clear")
    assert read.dates == ["Mar[5m 11"]
    text_file = tmp_path / "escapes.txt"
    text_file.write_text(f"Mar 11\n{title}\n{abstract.replace(chr(0), '')}\n", encoding="utf-8")  # NUL: binary
    (read_txt,) = parse_file(text_file)
    assert (read_txt.paper_id, read_txt.title, read_txt.abstract) == (read.paper_id, read.title, read.abstract)
    assert not controls(read.title + read.abstract)


def test_a_title_made_only_of_control_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(rag.BadInputError, match=r"bells.jsonl:1: missing or empty 'title'"):
        parse_file(jsonl(tmp_path / "bells.jsonl", {"title": "\x07\x07\x1b", "abstract": ABSTRACT}))


# 11: clear messages about files


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x1c"], ids=["U+2028", "U+2029", "U+0085", "U+001C"])
def test_jsonl_with_unicode_line_separators_inside_strings_is_accepted(tmp_path: Path, separator: str) -> None:
    path = tmp_path / "wide.jsonl"
    records = [paper("First" + separator + "paper"), paper("Second paper", abstract=ABSTRACT + separator + "More.")]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + "{oops\n", encoding="utf-8")
    with pytest.raises(rag.BadInputError, match=r"wide.jsonl:3: broken JSON"):
        parse_file(path)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in records), encoding="utf-8")
    first, second = parse_file(path)
    assert first.title == "First paper" and second.abstract == ABSTRACT + " More."


def test_a_daily_papers_abstract_holding_u2028_stays_one_abstract(tmp_path: Path) -> None:
    path = tmp_path / "day.txt"
    path.write_text(f"Mar 11\nMarsupial Retrieval\n{ABSTRACT}\u2028Second sentence here.\n", encoding="utf-8")
    (read,) = parse_file(path)
    assert read.abstract == ABSTRACT + " Second sentence here."


def _parse_in_thread(path: Path) -> str:
    """parse_file's error message; a daemon thread keeps a FIFO that blocks from hanging the test run."""
    outcome: list[str] = []

    def run() -> None:
        try:
            parse_file(path)
            outcome.append("accepted")
        except rag.BadInputError as err:
            outcome.append(str(err))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert outcome, f"parsing {path.name} hung"
    return outcome[0]


def test_fifo_symlink_loop_and_folder_named_like_a_file_are_not_regular_files(tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jsonl")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "x.txt").mkdir()
    found = {path.name: path for path in expand_paths([folder])}
    assert sorted(found) == ["loop.txt", "pipe.jsonl", "x.txt"]
    messages = {name: _parse_in_thread(path) for name, path in found.items()}
    assert messages["pipe.jsonl"].endswith("pipe.jsonl: not a regular file (a named pipe (FIFO))")
    assert messages["loop.txt"].endswith("loop.txt: not a regular file (a symbolic link loop)")
    assert messages["x.txt"].endswith("x.txt: not a regular file (a folder)")
    assert _parse_in_thread(tmp_path / "missing.txt").endswith("missing.txt: no such file")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_named_as_such_and_binary_stays_binary(tmp_path: Path, encoding: str) -> None:
    wide = tmp_path / "wide.jsonl"
    wide.write_bytes(json.dumps(paper()).encode(encoding))
    assert _parse_in_thread(wide) == f"{wide}: the file is UTF-16: save as UTF-8"
    scan = tmp_path / "scan.txt"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    assert "binary file" in _parse_in_thread(scan)


# 7: arguments of the public entry points


BAD_ASK = [
    ({"top_k": -5}, "top_k must be a whole number from 1 to 50, got -5"),
    ({"top_k": 0}, "top_k must be a whole number from 1 to 50, got 0"),
    ({"top_k": 1e9}, "top_k must be a whole number from 1 to 50, got 1000000000.0"),
    ({"top_k": "abc"}, "top_k must be a whole number from 1 to 50, got 'abc'"),
    ({"top_k": 2.5}, "top_k must be a whole number from 1 to 50, got 2.5"),
    ({"top_k": True}, "top_k must be a whole number from 1 to 50, got True"),
    ({"dates": "Mar 11"}, "dates must be a list of listing dates"),
    ({"dates": [None]}, "dates must be a list of listing dates"),
    ({"dates": ["Feb 30"]}, "'Feb 30' is not a listing date; write a day as 2024-03-11, or Mar 11"),
    ({"dates": ["2024-02-30"]}, "'2024-02-30' is not a listing date"),
    ({"dates": ["Mar 11", "yesterday"]}, "'yesterday' is not a listing date"),
    ({"dates": ["２０２４-03-11"]}, "'２０２４-03-11' is not a listing date"),
    ({"backend": 3}, "backend must be the name of an answering backend"),
    ({"topk": 3}, "unknown option 'topk'"),
    ({"question": None}, "the question must be text, got None"),
    ({"question": ["what"]}, "the question must be text, got ['what']"),
    ({"question": " \x07 "}, "the question is empty"),
    ({"history": "earlier question"}, "history must be a list of earlier turns"),
    ({"history": [{"answer": "no question"}]}, "history turn 1 must be a question string"),
    ({"settings": {"store": {"home": "x"}}}, "settings must be a rag.Settings"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_ASK, ids=[str(a) for a, _ in BAD_ASK])
def test_bad_ask_arguments_are_refused_clearly_and_logged_in_one_line(
    fresh: rag.Settings, caplog: pytest.LogCaptureFixture, arguments: dict, message: str
) -> None:
    caplog.set_level(logging.INFO)
    call = {"question": "What do marsupial retrievers do?", "settings": fresh, **arguments}
    for entry in (rag.ask, rag.ask_stream):
        with pytest.raises(rag.BadInputError) as refused:
            entry(**call)
        assert message in str(refused.value) and "\n" not in str(refused.value)
    refusals = [r for r in caplog.records if r.name == "rag.arguments"]
    assert len(refusals) == 2 and all(r.exc_info is None and message in r.getMessage() for r in refusals)
    assert not fresh.store.home.exists(), "a refused question must not open the store"


def test_good_arguments_pass_unchanged(fresh: rag.Settings) -> None:
    from rag.arguments import check_ask

    checked = check_ask("  Why? \x07", ["first", {"question": "second", "answer": "a"}], fresh,
                        {"top_k": 50.0, "dates": [" Mar 11 "], "backend": "extractive"})
    assert (checked.question, checked.top_k, checked.dates, checked.backend) == ("Why?", 50, ["Mar 11"], "extractive")
    assert [t.question for t in checked.turns] == ["first", "second"][-fresh.answer.history_turns:]
    assert check_ask("Why?", None, fresh, {}).top_k == fresh.retrieval.top_k


def test_since_takes_a_date_or_a_time_and_reads_them_as_utc() -> None:
    from datetime import date, datetime, timezone

    from rag.arguments import check_since

    utc = timezone.utc
    assert check_since("2026-03-11") == check_since(date(2026, 3, 11)) == datetime(2026, 3, 11, tzinfo=utc)
    assert check_since("2026-03-11T06:15Z") == check_since(datetime(2026, 3, 11, 6, 15)) == datetime(2026, 3, 11, 6, 15, tzinfo=utc)
    assert check_since(None) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: rag.ingest("papers.jsonl", s), "paths must be a list of files or folders, got 'papers.jsonl'"),
        (lambda s: rag.ingest([None], s), "each path must be a file or folder name, got None"),
        (lambda s: rag.ingest(["x.jsonl"], s, progress=5), "progress must be a function"),
        (lambda s: rag.stats({"home": "x"}), "settings must be a rag.Settings"),
        (lambda s: rag.catalog("x"), "settings must be a rag.Settings"),
        (lambda s: rag.export_feedback(Path("out.jsonl"), s, rating="meh"), "rating must be 'up' or 'down'"),
        (lambda s: rag.export_feedback(None, s), "out must be a file or folder name"),
        (lambda s: rag.record_feedback("answer", "up", "web", s), "answer must be the rag.Answer"),
        (lambda s: rag.record_feedback(cited(source(None)), "sideways", "web", s), "rating must be 'up' or 'down'"),
        (lambda s: rag.search("BM25", s, backend="extractive"), "unknown option 'backend'; the options are top_k, dates"),
        (lambda s: rag.search("BM25", s, top_k=51), "top_k must be a whole number from 1 to 50, got 51"),
        (lambda s: rag.paper(" ", s), "the paper id or arXiv id must be non-empty text, got ' '"),
        (lambda s: rag.added_since("last week", s), "since must be a date such as 2026-03-11"),
    ],
    ids=["ingest str", "ingest None path", "progress", "stats", "catalog", "export rating", "export out", "answer", "rating",
         "search option", "search top_k", "paper", "added_since"],
)
def test_bad_arguments_to_the_other_entry_points_are_refused(fresh: rag.Settings, call, message: str) -> None:
    with pytest.raises(rag.BadInputError, match=re.escape(message)):
        call(fresh)
    assert not fresh.store.home.exists()


# issue 18, item 13: dates, arXiv ids, titles


@pytest.mark.parametrize("date", ["Feb 30", "2024-02-30", "yesterday"])
def test_a_date_that_is_no_calendar_day_is_refused_by_the_cli_in_one_line(
    seeded: rag.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, date: str
) -> None:
    from ui.cli import main

    monkeypatch.setenv("PAPERTRAIL_HOME", str(seeded.store.home))
    monkeypatch.setenv("PAPERTRAIL_LLM", "extractive")
    assert main(["ask", "--date", date, "Which papers study continual pre-training?"]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err == (
        f"papertrail: error: {date!r} is not a listing date; write a day as 2024-03-11, or Mar 11 for that day in any "
        "year\n"
    )


def test_a_daily_papers_page_with_an_impossible_date_line_is_refused_with_file_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(f"Feb 30\nMarsupial Retrieval\n{ABSTRACT}\n", encoding="utf-8")
    with pytest.raises(rag.BadInputError, match=r"page.txt:1: listing date 'Feb 30' is not a calendar day"):
        parse_file(page)


@pytest.mark.parametrize("text", ["２４０３.０４７０６", "arXiv:２４０３.04706", "https://arxiv.org/abs/2403.０４７０６"])
def test_fullwidth_digits_are_not_an_arxiv_id(
    fresh: rag.Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, text: str
) -> None:
    from ui.cli import main

    monkeypatch.setenv("PAPERTRAIL_HOME", str(fresh.store.home))
    assert main(["add", text]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("papertrail")]
    assert errors == [
        f"papertrail: error: {text!r} is not an arXiv id (like 2403.04706) nor an arxiv.org or huggingface.co/papers link"
    ]


def test_a_title_over_the_one_cap_is_refused_in_jsonl_as_in_daily_papers_pages(tmp_path: Path, fresh: rag.Settings) -> None:
    long_title = "Marsupial " * 10_000
    cut = long_title.strip()[:80]
    records = jsonl(tmp_path / "long.jsonl", paper(), paper(long_title))
    with pytest.raises(rag.BadInputError) as refused:
        rag.ingest([records], fresh)
    assert str(refused.value) == f"long.jsonl:2: title {cut!r}… is 99,999 characters; the limit is 400"
    assert rag.stats(fresh) == {"papers": 0, "chunks": 0}
    at_cap = jsonl(tmp_path / "cap.jsonl", paper("M" * 400))
    assert [len(p.title) for p in parse_file(at_cap)] == [400]
    page = tmp_path / "long.txt"
    page.write_text(f"Mar 11\n{long_title}\n{ABSTRACT}\n", encoding="utf-8")
    with pytest.raises(rag.BadInputError, match=r"long.txt:2: expected a paper title \(at most 400 characters\), found a line of 99,999"):
        parse_file(page)
