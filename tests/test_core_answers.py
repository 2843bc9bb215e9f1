"""Answers from the seeded store: cited, verbatim, from retrieved papers only; abstains when it should."""

from __future__ import annotations

import re

import pytest

import rag
from rag.errors import BadInputError


def _sentences_cited(answer: rag.Answer) -> list[str]:
    return re.findall(r"[^\[\]]+?\[\d+\]", answer.text)


def test_continual_pretraining_question_gets_cited_sources(seeded: rag.Settings) -> None:
    answer = rag.ask("Which papers study continual pre-training?", settings=seeded)
    assert not answer.abstained
    assert answer.backend == "extractive"
    cited = {c.n for c in answer.citations}
    assert len(cited) >= 2
    assert all("continual" in c.quote.lower() or "continuous" in c.quote.lower() for c in answer.citations)
    assert set(re.findall(r"\[(\d+)\]", answer.text)) == {str(n) for n in cited}


def test_numeric_answer_quotes_the_figure(seeded: rag.Settings) -> None:
    answer = rag.ask("How many tokens was CT-LLM trained on?", settings=seeded)
    assert "1,200 billion tokens" in answer.text
    assert answer.citations[0].title.startswith("Chinese Tiny LLM")
    assert answer.sources[0].n == 1 and answer.sources[0].title.startswith("Chinese Tiny LLM")
    assert set(answer.timings_ms) >= {"embed_query", "dense", "bm25", "fusion", "answer", "total"}


@pytest.mark.parametrize(
    "question",
    [
        "Which papers study continual pre-training?",
        "What regularization helps when repeating pre-training data?",
        "Which papers apply large language models to recommender systems?",
    ],
)
def test_citations_map_to_retrieved_papers_and_quotes_are_verbatim(seeded: rag.Settings, question: str) -> None:
    answer = rag.ask(question, settings=seeded)
    by_n = {s.n: s for s in answer.sources}
    for citation in answer.citations:
        source = by_n[citation.n]
        assert citation.paper_id == source.paper_id and citation.title == source.title
        assert citation.quote in source.abstract
        assert citation.dates == source.dates
    for n in re.findall(r"\[(\d+)\]", answer.text):
        assert int(n) in by_n


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "What attack success rate does the GCG jailbreak reach against aligned chat models?",
        "How many days did it take to train the 200B-parameter PanGu-α model?",
    ],
)
def test_abstains_with_the_one_phrase(seeded: rag.Settings, question: str) -> None:
    answer = rag.ask(question, settings=seeded)
    assert answer.abstained
    assert answer.text == rag.ABSTAIN
    assert answer.citations == []


def test_follow_up_uses_the_earlier_question(seeded: rag.Settings) -> None:
    first = "How many tokens was CT-LLM trained on?"
    answer = rag.ask("And how many of them were Chinese?", history=[first], settings=seeded)
    assert answer.sources[0].title.startswith("Chinese Tiny LLM")
    assert "800 billion Chinese tokens" in answer.text


@pytest.mark.parametrize("date", ["May 2", "Sep 12"])
def test_date_filter_keeps_only_papers_listed_that_day(seeded: rag.Settings, date: str) -> None:
    answer = rag.ask("continual pre-training of language models", settings=seeded, dates=[date], top_k=20)
    assert answer.sources and all(date in s.dates for s in answer.sources)


@pytest.mark.parametrize(("question", "message"), [("   ", "empty"), ("x" * 2001, "2,001 characters")])
def test_empty_and_overlong_questions_are_refused(seeded: rag.Settings, question: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        rag.ask(question, settings=seeded)


def test_empty_store_is_a_clear_error_and_seeding_is_explicit(fresh: rag.Settings, seeded: rag.Settings) -> None:
    with pytest.raises(rag.PapertrailError, match="is empty: run `papertrail ingest`"):
        rag.ask("Which papers study continual pre-training?", settings=fresh)
    assert rag.stats(fresh) == {"papers": 0, "chunks": 0}
    assert rag.ensure_corpus(seeded) is None


def test_the_retriever_composes_as_a_llama_index_retriever(seeded: rag.Settings) -> None:
    from llama_index.core.base.base_retriever import BaseRetriever

    from rag.engine import get_engine

    retriever = get_engine(seeded).retriever()
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("How many tokens was CT-LLM trained on?")
    assert len(nodes) == seeded.retrieval.top_k
    assert nodes[0].node.metadata["title"].startswith("Chinese Tiny LLM")
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
