"""Parsing: the Daily Papers dumps and JSONL are read right; files that do not fit are refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import BadInputError
from rag.parse import expand_paths, merge, paper_id, parse_file
from rag.text import split_sentences
from tests.conftest import SEEDS


def test_seed_files_hold_404_entries_and_339_papers() -> None:
    entries = [paper for path in expand_paths([SEEDS]) for paper in parse_file(path)]
    papers = merge(entries)
    assert len(entries) == 404
    assert len(papers) == 339
    assert all(p.dates and p.sources and len(p.abstract) > 100 for p in papers)


def test_a_paper_listed_in_several_files_keeps_every_date_and_file() -> None:
    papers = merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))
    repeated = [p for p in papers if len(p.sources) > 1]
    assert repeated, "the seeds list some papers on several days"
    assert all(len(p.dates) >= 1 and len(set(p.sources)) == len(p.sources) for p in repeated)
    assert any(len(p.dates) > 1 for p in repeated)


def test_header_and_listing_date_are_not_papers() -> None:
    first = parse_file(SEEDS / "000_4168fe3027b10dc9.txt")[0]
    assert first.title.startswith("ChineseWebText 2.0")
    assert first.dates == ["Mar 11"]


def test_paper_id_ignores_case_and_spacing() -> None:
    assert paper_id("Chinese Tiny LLM") == paper_id("  chinese   tiny llm ")
    assert paper_id("Chinese Tiny LLM") != paper_id("Chinese Tiny LLMs")


def test_jsonl_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [{"title": "A Paper", "abstract": "We study things. " * 5, "date": "2024-05-01", "url": "https://x.org/1"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (paper,) = parse_file(path)
    assert (paper.title, paper.dates, paper.url, paper.sources) == ("A Paper", ["2024-05-01"], "https://x.org/1", ["mine.jsonl"])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"\n \n", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("latin1.txt", "Mar 11\nTitle\nAbstract caf\xe9 with enough words to pass the length check.".encode("latin-1"), "UTF-8"),
        ("dangling.txt", b"Mar 11\nA title\nAn abstract long enough to count as one, yes indeed.\nA lonely title\n", "no abstract"),
        ("headers.txt", b"new\nSubscribe\nMar 11\n", "no title/abstract"),
        ("broken.jsonl", b'{"title": "T", "abstract": "An abstract"}\n{"title": "U", \n', "broken JSON"),
        ("notitle.jsonl", b'{"abstract": "An abstract that is long enough"}\n', "title"),
    ],
)
def test_bad_files_are_refused_with_their_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInputError) as caught:
        parse_file(path)
    assert name in str(caught.value) and message in str(caught.value)


def test_an_abstract_the_size_of_a_paper_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"title": "Huge", "abstract": "word " * 10_000}) + "\n")
    with pytest.raises(BadInputError, match="huge.jsonl:1: abstract of 'Huge' is 49,999 characters; the limit is 20,000"):
        parse_file(path)


def test_broken_jsonl_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"title": "T", "abstract": "An abstract"}\n\n{oops\n')
    with pytest.raises(BadInputError, match=r"list.jsonl:3"):
        parse_file(path)


def test_sentences_join_back_and_respect_abbreviations() -> None:
    text = "We use e.g. dropout (vs. none). It reaches 44.7 chrF, as Smith et al. show. Done!  Next one."
    pieces = split_sentences(text)
    assert "".join(pieces) == text
    assert [p.strip() for p in pieces] == [
        "We use e.g. dropout (vs. none).",
        "It reaches 44.7 chrF, as Smith et al. show.",
        "Done!",
        "Next one.",
    ]
