"""What the CLI, the web page and Slack show beside an answer (ui/present.py): a declined answer's reason, an answer
given one line per paper as a list, each quote once, sources labelled for what they are, dates without a year."""

from __future__ import annotations

import json

import rag
from ui.cli import render
from ui.slack_blocks import answer_blocks
from ui.web import chat_messages
from ui.web_render import link_citations, notes, sources_panel

ABSTRACT = "We count wombats. Wombats dig 3 burrows a night. Their burrows are square."


def source(n: int, title: str, dates: list[str]) -> rag.Source:
    return rag.Source(n=n, paper_id=f"p{n}", title=title, abstract=ABSTRACT, dates=dates, score=1.0, dense_score=0.5)


def answer(text: str, citations: list[rag.Citation], sources: list[rag.Source], reason: str | None = None) -> rag.Answer:
    return rag.Answer(
        question="How many burrows do wombats dig?", text=text, citations=citations, sources=sources,
        abstained=reason is not None, reason=reason, backend="extractive", timings_ms={"total": 3.0},
    )


def cite(n: int, quote: str) -> rag.Citation:
    return rag.Citation(n=n, paper_id=f"p{n}", title=f"Paper {n}", quote=quote, dates=[])


LISTED = answer(
    "- Wombat Census: Wombats dig 3 burrows a night. [1]\n- Square Burrows: Their burrows are square. [2]",
    [cite(1, "Wombats dig 3 burrows a night."), cite(2, "Their burrows are square.")],
    [source(1, "Wombat Census", ["Mar 11"]), source(2, "Square Burrows", ["2025-01-15", "Sep 12"])],
)
DECLINED = answer(rag.ABSTAIN, [], [source(1, "Wombat Census", ["Mar 11"])], reason="The abstracts never mention Kookaburra.")
OFF_TOPIC = answer(rag.ABSTAIN, [], [], reason="It asks for entertainment, not about the papers.")


def slack_text(shown: rag.Answer) -> str:
    return json.dumps(answer_blocks(shown), ensure_ascii=False)


def test_an_answer_given_one_line_per_paper_is_a_list_in_every_front_end() -> None:
    assert render(LISTED).startswith("\nSources:\n[1] Wombat Census · listed Mar 11 (year not given)\n")
    markdown = link_citations(LISTED.text).split("\n")
    assert [line[:2] for line in markdown] == ["- ", "- "], "Markdown list items in the web chat"
    sections = [b["text"]["text"] for b in answer_blocks(LISTED) if b["type"] == "section"]
    assert sections[0] == "• Wombat Census: Wombats dig 3 burrows a night. [1]\n• Square Burrows: Their burrows are square. [2]"


def test_each_quote_is_printed_once_where_the_answer_already_says_it() -> None:
    assert '"' not in render(LISTED), "the answer is made of the quotes: none repeated under the sources"
    paraphrase = LISTED.model_copy(update={"text": "Wombats dig three burrows nightly [1] in a square shape [2]."})
    assert render(paraphrase).count('    "Wombats dig 3 burrows a night."') == 1
    assert "Wombats dig 3 burrows a night." in slack_text(paraphrase)
    assert slack_text(LISTED).count("Wombats dig 3 burrows a night.") == 1


def test_a_declined_answer_shows_its_reason_and_its_papers_as_not_cited_everywhere() -> None:
    shown = f"{rag.ABSTAIN} The abstracts never mention Kookaburra."
    cli = render(DECLINED)
    assert cli.startswith("\nClosest papers (retrieved, not cited):\n- Wombat Census") and "[1]" not in cli
    assert chat_messages([rag.Turn(question="q", answer=rag.ABSTAIN)], {1: DECLINED})[1]["content"] == link_citations(shown)
    assert shown in slack_text(DECLINED) and "*Closest papers (retrieved, not cited)*" in slack_text(DECLINED)
    assert "closest papers are listed for reference" in notes(DECLINED)
    assert "retrieved, not cited" in sources_panel(DECLINED)


def test_a_declined_request_with_no_papers_has_no_notice_of_papers_and_no_blank_lines() -> None:
    assert render(OFF_TOPIC) == "\n(answered by extractive in 3 ms)"
    assert notes(OFF_TOPIC) == "" and "No papers to show" in sources_panel(OFF_TOPIC)
    assert "Closest papers" not in slack_text(OFF_TOPIC) and "entertainment" in slack_text(OFF_TOPIC)


def test_listing_dates_without_a_year_say_so_once() -> None:
    assert "Listed 2025-01-15, Sep 12 (year not given)" in sources_panel(LISTED)
    assert "listed 2025-01-15, Sep 12 (year not given)" in slack_text(LISTED)
