"""The answer as other programs receive it: as data (the MCP `ask` tool, the OpenAI endpoint's `reference` extra),
and as Markdown text whose Sources block survives front ends that ignore extras."""

from __future__ import annotations

from pydantic import BaseModel, Field

import rag

from .present import byline, link, listed_sources, notes, quotes_by_source
from .web_render import plain

DIVIDER = "\n\n---\n\n"
"""Between the answer text and what follows it (notes, Sources): where a front end's copy of the answer is cut."""
SOURCES_HEADING = "**Sources**"


class LinkedCitation(BaseModel):
    """One [n] of the answer: the sentence of the paper's abstract behind it, and where to read the paper."""

    n: int = Field(description="The number in the answer's [n] marker; `sources` holds the paper with this n.")
    paper_id: str
    title: str
    quote: str = Field(description="A sentence copied verbatim from the paper's abstract (checked, never paraphrased).")
    link: str | None = Field(description="The paper's arXiv page, else its own web page; None when neither is known.")


class Reference(BaseModel):
    """One numbered paper the answer drew on."""

    n: int
    paper_id: str
    title: str
    authors: list[str]
    dates: list[str] = Field(description="Hugging Face Daily Papers listing dates.")
    link: str | None = Field(description="The paper's arXiv page, else its own web page; None when neither is known.")
    abstract: str
    cited: bool = Field(description="Whether the answer cites it; uncited papers were retrieved but not used.")


class CitedAnswer(BaseModel):
    """An answer from the indexed abstracts, every claim cited with a verbatim quote, or a declined one with its reason."""

    question: str
    text: str = Field(description=f"The answer, each claim ending in [n] markers; when declined exactly {rag.ABSTAIN!r}.")
    citations: list[LinkedCitation]
    sources: list[Reference]
    abstained: bool = Field(description="True when the abstracts do not support an answer (nothing is cited then).")
    reason: str | None = Field(description="Why it declined, one sentence; None when it answered.")
    notes: list[str] = Field(description="Warnings to show beside the answer.")
    backend: str = Field(description="What wrote the answer: 'extractive' (offline quotes) or a language model backend.")


def cited_answer(answer: rag.Answer) -> CitedAnswer:
    """The answer with a link on every citation and every source."""
    by_number = {source.n: source for source in answer.sources}
    cited = quotes_by_source(answer)
    return CitedAnswer(
        question=answer.question,
        text=answer.text,
        citations=[
            LinkedCitation(**c.model_dump(include={"n", "paper_id", "title", "quote"}), link=_link(by_number.get(c.n)))
            for c in answer.citations
        ],
        sources=[
            Reference(
                **s.model_dump(include={"n", "paper_id", "title", "authors", "dates", "abstract"}),
                link=link(s),
                cited=s.n in cited,
            )
            for s in answer.sources
        ],
        abstained=answer.abstained,
        reason=answer.reason,
        notes=notes(answer),
        backend=answer.backend,
    )


def markdown_tail(answer: rag.Answer) -> str:
    """What follows the answer text: why it declined, the notes, then the numbered sources with their quoted sentences
    (the cited ones; all of them when it declined). Titles and quotes are shown as text, never as Markdown."""
    lines = [answer.reason] if answer.abstained and answer.reason else []
    lines += [f"_Note: {plain(note)}_" for note in notes(answer)]
    quotes = quotes_by_source(answer)
    sources = []
    for source in listed_sources(answer):
        page = link(source)
        title = f"[{plain(source.title)}](<{page}>)" if page else plain(source.title)
        detail = plain(", ".join(filter(None, [byline(source), *source.dates])))
        entry = f"[{source.n}] {title}" + (f" ({detail})" if detail else "")
        sources.append(entry + "".join(f'\n> "{plain(quote)}"' for quote in quotes.get(source.n, [])))
    if sources:
        lines.append("\n\n".join([SOURCES_HEADING, *sources]))
    return DIVIDER + "\n\n".join(lines) if lines else ""


def answer_part(content: str) -> str:
    """The answer text of an earlier reply (what preceded its notes and Sources block), for the history."""
    return content.split(DIVIDER, 1)[0]


def _link(source: rag.Source | None) -> str | None:
    return link(source) if source else None
