"""The search index follows the store's writes, with the real model, Chroma and BM25: after another process adds,
replaces and removes papers, a long-running process finds them (by vector search too) without rebuilding, and its
search gives the dev questions exactly the sources and scores of one built whole from the store; so do merged
segments; a garbled catalog is never quoted, and `papertrail ingest --check` names it and rebuilds it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rag
import rag.index
from rag.answer.asked import read
from rag.answer.decision import rare_names
from rag.engine import get_engine
from rag.parse import expand_paths, merge, parse_file
from rag.retrieve import HybridSearch
from rag.text import terms as question_terms
from rag.types import Paper
from tests.conftest import ROOT, SEEDS

QUESTIONS = [json.loads(line)["question"] for name in ("dev.jsonl", "dev2.jsonl") for line in (ROOT / "eval" / name).read_text().splitlines()]
WRITE_ONLY = """
import json, sys
import rag
from rag.ingestion import add_papers, remove_papers
from rag.store import Store
from rag.types import Paper
settings = rag.Settings(store={"home": sys.argv[1]})
store = Store(settings)
orders = json.loads(sys.stdin.read())
add_papers([Paper.model_validate(paper) for paper in orders["add"]], 1, settings, store)
remove_papers(orders["remove"], settings, store)
"""


def _seed_papers() -> list[Paper]:
    return merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))


def _settings(home: Path) -> rag.Settings:
    return rag.Settings(store={"home": home}, llm={"backend": "extractive"})


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive"}
    env.pop("PAPERTRAIL_CHROMA_URL", None)
    return env


def _run(args: list[str], home: Path, stdin: str = "") -> str:
    done = subprocess.run(args, input=stdin, env=_env(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _papertrail(args: list[str], home: Path) -> str:
    return _run([str(Path(sys.executable).with_name("papertrail")), *args], home)


def _answers(settings: rag.Settings) -> list:
    answers = [rag.ask(question, settings=settings) for question in QUESTIONS]
    return [[answer.text, [[s.paper_id, s.score, s.dense_score] for s in answer.sources]] for answer in answers]


def _jsonl(path: Path, papers: list[Paper]) -> Path:
    path.write_text("".join(json.dumps({"title": p.title, "abstract": p.abstract}) + "\n" for p in papers), encoding="utf-8")
    return path


def _variants(papers: list[Paper], label: str) -> list[Paper]:
    """Papers close to these (same abstract, first sentence moved last): they compete with them for the same questions."""
    return [
        Paper(paper_id="", title=f"{p.title} ({label})", abstract=" ".join([*p.abstract.split(". ")[1:], p.abstract.split(". ")[0]]))
        for p in papers
    ]


def _with_ids(papers: list[Paper]) -> list[Paper]:
    from rag.parse import paper_id

    return [paper.model_copy(update={"paper_id": paper_id(paper.title)}) for paper in papers]


def _assert_same_as_a_full_rebuild(settings: rag.Settings, folder: Path) -> None:
    """The search this process follows the store with gives the sources, scores and term rarities of one built whole
    from the store now, both searching one vector index that holds every chunk (Chroma's own graph differs from one
    process to the next: only the search index is compared)."""
    engine = get_engine(settings)
    engine.store.reopen()
    followed = engine.retriever()
    whole = rag.index.rebuild(engine.store, settings, folder)
    ours = HybridSearch(settings, engine.store, followed.bm25, followed.catalog)
    theirs = HybridSearch(settings, engine.store, whole.bm25, whole.catalog)
    for question in QUESTIONS:
        names = rare_names(read(question).names, followed.bm25.idf)
        mine, reference = ours.search(question, 5, None, names), theirs.search(question, 5, None, names)
        assert [s.model_dump() for s in mine.sources] == [s.model_dump() for s in reference.sources], question
        assert mine.ranked == reference.ranked, question
    terms = {term for question in QUESTIONS for term in question_terms(question)}
    assert [followed.bm25.idf(term) for term in sorted(terms)] == [whole.bm25.idf(term) for term in sorted(terms)]


def test_after_another_process_adds_replaces_and_removes_papers_the_search_equals_a_full_rebuild(
    seeded_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = _settings(home)
    engine = get_engine(settings)
    before = _answers(settings)
    first = engine.retriever().catalog.parts[0]
    seeds = _seed_papers()

    # Another process adds papers that compete with the seeds for the dev questions and replaces abstracts; it saves
    # the index as it ends. This process opens only the segment it appended, and searches the new vectors itself.
    variants, replaced = _variants(seeds[::9], "revisited"), seeds[:40:4]
    revised = [p.model_copy(update={"abstract": p.abstract.replace(". ", ". Indeed, ", 1)}) for p in replaced]
    _papertrail(["ingest", str(_jsonl(tmp_path / "one.jsonl", variants + revised))], home)
    found = rag.ask(f"What does the paper '{variants[3].title}' propose?", settings=settings).sources[0]
    assert found.title == variants[3].title
    assert found.dense_score > 0.3, "the other process's paper is found by vector search too"
    assert rag.ask(f"What does the paper '{replaced[2].title}' propose?", settings=settings).sources[0].abstract == revised[2].abstract
    assert _answers(settings) != before
    assert engine.retriever().catalog.parts[0] is first, "the long-running process rebuilt the index"
    _assert_same_as_a_full_rebuild(settings, tmp_path / "one")

    # Another process writes and removes without saving the index (as a writer killed before its end would): this
    # process reads the changed papers from the store.
    added, removed = _with_ids(_variants(seeds[5::11], "again")), [p.paper_id for p in seeds[1:60:6]]
    _run([sys.executable, "-c", WRITE_ONLY, str(home)], home, json.dumps({"add": [p.model_dump() for p in added], "remove": removed}))
    answers = _answers(settings)
    assert not {source[0] for _, sources in answers for source in sources} & set(removed)
    assert rag.ask(f"What does the paper '{added[0].title}' propose?", settings=settings).sources[0].title == added[0].title
    assert engine.retriever().catalog.parts[0] is first, "the long-running process rebuilt the index"
    _assert_same_as_a_full_rebuild(settings, tmp_path / "two")


def test_merged_segments_search_as_a_full_rebuild(seeded_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = _settings(home)
    seeds = _seed_papers()
    monkeypatch.setattr(rag.index, "MAX_APPENDED", 1)
    for label, papers in (("first", seeds[::13]), ("second", seeds[3::13])):
        rag.ingest([_jsonl(tmp_path / f"{label}.jsonl", _variants(papers, label))], settings)
    assert len(_manifest(home)["segments"]) == 2, "the two appended segments were merged into one"
    _assert_same_as_a_full_rebuild(settings, tmp_path / "appended")
    monkeypatch.setattr(rag.index, "MERGE_FLOOR", 0)
    get_engine(settings).remove([seeds[2].paper_id])
    assert len(_manifest(home)["segments"]) == 1, "the appended segments were merged into the first"
    _assert_same_as_a_full_rebuild(settings, tmp_path / "merged")


def _manifest(home: Path) -> dict:
    return json.loads(next((home / "index").glob("*/manifest.json")).read_text())["body"]


def test_a_garbled_catalog_is_never_quoted_and_ingest_check_rebuilds_it(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    question = "Which strategy is optimal for low-resource text similarity tasks such as BIOSSES?"

    def garble() -> None:
        for catalog in (home / "index").rglob("papers.jsonl"):
            catalog.write_bytes(catalog.read_bytes().replace(b"reinitializing the top", b"GARBAGEalizing the top"))

    garble()
    answer = _papertrail(["ask", "--json", question], home)
    assert "GARBAGE" not in answer
    assert "reinitializing the top layer is the optimal strategy" in json.loads(answer)["citations"][0]["quote"]

    garble()
    checked = _papertrail(["ingest", "--check"], home)
    assert "search index was damaged" in checked and "papers.jsonl" in checked
    assert "GARBAGE" not in _papertrail(["ask", "--json", question], home)


def test_bm25_returns_every_chunk_scoring_at_least_the_kth_best(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cut found from a sample of the scores first drops no chunk of the top k, nor any tied with its last; scores
    kept from earlier questions (here every term's, dropped and kept anew as they overflow, or kept whole as one
    score per chunk for the commonest terms) change no result."""
    import rag.bm25
    from rag.bm25 import Bm25Index, Postings, Vocabulary
    from rag.chunk import chunk_paper, embed_text

    texts = [embed_text(p.title, c.text, True) for p in _seed_papers() for c in chunk_paper(p, 200, True)] * 3
    postings, vocabulary = Postings.build(texts, Vocabulary([]))
    monkeypatch.setattr(rag.bm25, "KEEP_FROM", 1)
    for most in (2_000, 100 * len(texts)):
        monkeypatch.setattr(rag.bm25, "KEEP_AT_MOST", most)
        reused = Bm25Index(vocabulary, [postings])
        for question in QUESTIONS[:40]:
            every, scores = Bm25Index(vocabulary, [postings]).search(question, len(texts))
            for k in (1, 7, 50):
                rows, found = reused.search(question, k)
                kept = scores >= scores[min(k, len(scores)) - 1] if len(scores) else scores > 0
                assert sorted(rows.tolist()) == sorted(every[kept].tolist()), (question, k)
                assert found.tolist() == scores[: len(found)].tolist(), (question, k)
    assert any(isinstance(kept[0][0], slice) for kept in reused._kept.values()), "no term was kept whole"


def test_bm25_searches_side_by_side_give_the_results_of_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads searching one index at once (the web UI's and BM25's own) while it keeps, drops and keeps anew its
    scores get what one search at a time gets, and none fails."""
    from concurrent.futures import ThreadPoolExecutor

    import rag.bm25
    from rag.bm25 import Bm25Index, Postings, Vocabulary
    from rag.chunk import chunk_paper, embed_text

    texts = [embed_text(p.title, c.text, True) for p in _seed_papers() for c in chunk_paper(p, 200, True)] * 3
    postings, vocabulary = Postings.build(texts, Vocabulary([]))
    alone = [Bm25Index(vocabulary, [postings]).search(question, 20) for question in QUESTIONS[:60]]
    monkeypatch.setattr(rag.bm25, "KEEP_FROM", 1)
    monkeypatch.setattr(rag.bm25, "KEEP_AT_MOST", 3 * len(texts))
    shared = Bm25Index(vocabulary, [postings])
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda question: shared.search(question, 20), QUESTIONS[:60] * 4))
    for (rows, scores), (want_rows, want_scores) in zip(together, alone * 4):
        assert rows.tolist() == want_rows.tolist() and scores.tolist() == want_scores.tolist()


def test_a_word_typed_without_its_accents_finds_the_chunks_that_write_them() -> None:
    """"tulu" finds the chunk that writes "TÜLU", at the same score and rarity as "tülu" does."""
    from rag.bm25 import Bm25Index, Postings, Vocabulary

    texts = ["TÜLU 3 is a family of post-trained models.", "Dolma is an English corpus.", "OLMo is a model."]
    postings, vocabulary = Postings.build(texts, Vocabulary([]))
    index = Bm25Index(vocabulary, [postings])
    plain, accented = index.search("tulu", 3), index.search("tülu", 3)
    assert plain[0].tolist() == accented[0].tolist() == [0]
    assert plain[1].tolist() == accented[1].tolist()
    assert index.idf("tulu") == index.idf("tülu") < index.idf("zorble")  # held, so not as rare as an unknown word
