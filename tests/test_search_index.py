"""The search index follows the store's writes with the real model, Chroma and BM25: after papers are added, replaced
and removed by another process, a long-running process answers the dev questions exactly as a full rebuild does
(sources and scores), without rebuilding; merged segments answer the same; a garbled catalog is never quoted, and
`papertrail ingest --check` names it and rebuilds it from the store."""

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
from rag.engine import get_engine
from rag.parse import expand_paths, merge, parse_file
from rag.types import Paper
from tests.conftest import ROOT, SEEDS

QUESTIONS = [json.loads(line)["question"] for name in ("dev.jsonl", "dev2.jsonl") for line in (ROOT / "eval" / name).read_text().splitlines()]
REFERENCE = """
import json, sys
import rag
settings = rag.Settings(store={"home": sys.argv[1]}, llm={"backend": "extractive"})
answers = [rag.ask(question, settings=settings) for question in json.loads(sys.stdin.read())]
print(json.dumps([[answer.text, [[s.paper_id, s.score, s.dense_score] for s in answer.sources]] for answer in answers]))
"""
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


def _full_rebuild_answers(home: Path, tmp_path: Path, name: str) -> list:
    """The answers of a new process over a copy of the store whose search index is built whole from it."""
    copy = tmp_path / name
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("index"))
    return json.loads(_run([sys.executable, "-c", REFERENCE, str(copy)], copy, json.dumps(QUESTIONS)))


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


def test_after_another_process_adds_replaces_and_removes_papers_answers_equal_a_full_rebuild(
    seeded_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = _settings(home)
    before = _answers(settings)
    engine = get_engine(settings)
    first = engine.retriever().catalog.parts[0]
    seeds = _seed_papers()

    # Another process adds papers that compete with the seeds for the dev questions and replaces abstracts; it
    # saves the index as it ends, and this process opens only the segment it appended.
    replaced = [p.model_copy(update={"abstract": p.abstract.replace(". ", ". Indeed, ", 1)}) for p in seeds[:40:4]]
    _papertrail(["ingest", str(_jsonl(tmp_path / "one.jsonl", _variants(seeds[::9], "revisited") + replaced))], home)
    after_save = _answers(settings)
    assert after_save != before
    assert engine.retriever().catalog.parts[0] is first, "the long-running process rebuilt the index"
    assert after_save == _full_rebuild_answers(home, tmp_path, "one")

    # Another process writes and removes without saving the index (as a writer killed at its end would): this
    # process reads the changed papers from the store.
    orders = {
        "add": [p.model_dump() for p in _with_ids(_variants(seeds[5::11], "again"))],
        "remove": [p.paper_id for p in seeds[1:60:6]],
    }
    _run([sys.executable, "-c", WRITE_ONLY, str(home)], home, json.dumps(orders))
    caught_up = _answers(settings)
    assert caught_up != after_save
    assert engine.retriever().catalog.parts[0] is first, "the long-running process rebuilt the index"
    assert not {s[0] for _, sources in caught_up for s in sources} & set(orders["remove"])
    assert caught_up == _full_rebuild_answers(home, tmp_path, "two")


def test_merged_segments_answer_as_the_segments_did(seeded_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = _settings(home)
    seeds = _seed_papers()
    monkeypatch.setattr(rag.index, "MAX_APPENDED", 1)
    for label, papers in (("first", seeds[::13]), ("second", seeds[3::13])):
        rag.ingest([_jsonl(tmp_path / f"{label}.jsonl", _variants(papers, label))], settings)
    manifest = json.loads(next((home / "index").rglob("manifest.json")).read_text())["body"]
    assert len(manifest["segments"]) == 2, "the two appended segments were merged into one"
    monkeypatch.setattr(rag.index, "MERGE_FLOOR", 0)
    get_engine(settings).remove([seeds[2].paper_id])
    manifest = json.loads(next((home / "index").rglob("manifest.json")).read_text())["body"]
    assert len(manifest["segments"]) == 1, "the appended segments were merged into the first"
    assert _answers(settings) == _full_rebuild_answers(home, tmp_path, "merged")


def test_a_garbled_catalog_is_never_quoted_and_ingest_check_rebuilds_it(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    target = next(p for p in _seed_papers() if "BIOSSES" in p.abstract and "generalizing" in p.abstract)
    question = f"What does the paper '{target.title}' propose?"

    def garble() -> None:
        for catalog in (home / "index").rglob("papers.jsonl"):
            data = catalog.read_bytes()
            if b"BIOSSES" in data:
                catalog.write_bytes(data.replace(b"generalizing", b"GARBAGEizing"))

    garble()
    answer = json.loads(_papertrail(["ask", "--json", question], home))
    assert "GARBAGE" not in json.dumps(answer)
    assert answer["sources"][0]["abstract"] == target.abstract

    garble()
    checked = _papertrail(["ingest", "--check"], home)
    assert "search index was damaged" in checked and "papers.jsonl" in checked
    assert "GARBAGE" not in _papertrail(["ask", "--json", question], home)
