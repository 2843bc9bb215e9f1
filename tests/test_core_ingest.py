"""Chunking and ingest with the real model and Chroma: chunks fit the model, ingest is idempotent,
incremental, refuses bad files without touching the store, and recovers from a SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rag
from rag.chunk import chunk_paper, embed_text, join_chunks, wordpiece_tokenizer
from rag.embed import MODEL_WINDOW
from rag.errors import BadInputError
from rag.parse import expand_paths, merge, parse_file
from rag.store import Store
from tests.conftest import SEEDS, kill_when_seen, store_is_consistent


def _seed_papers() -> list[rag.types.Paper]:
    return merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))


def _jsonl(path: Path, papers: list) -> Path:
    path.write_text("".join(json.dumps({"title": p.title, "abstract": p.abstract}) + "\n" for p in papers))
    return path


def test_every_seed_chunk_fits_the_model_window_and_rebuilds_the_abstract() -> None:
    settings = rag.Settings()
    tokenize = wordpiece_tokenizer()
    for paper in _seed_papers():
        chunks = chunk_paper(paper, settings.retrieval.chunk_tokens)
        for index, chunk in enumerate(chunks):
            embedded = embed_text(paper.title, chunk.text)
            assert embedded.startswith(paper.title)
            assert len(tokenize(embedded)) + 2 <= min(MODEL_WINDOW, settings.retrieval.chunk_tokens + 2)
            assert chunk.index == index and chunk.paper_id == paper.paper_id
        assert join_chunks([(chunk.start, chunk.text) for chunk in chunks]) == paper.abstract


def test_seeded_store_counts_every_paper_once(seeded: rag.Settings) -> None:
    counts = rag.stats(seeded)
    assert counts["papers"] == 339
    assert counts["chunks"] >= 339


def test_reingest_adds_nothing_and_new_file_adds_only_new_papers(fresh: rag.Settings, tmp_path: Path) -> None:
    papers = _seed_papers()
    first = _jsonl(tmp_path / "first.jsonl", papers[:6])
    second = _jsonl(tmp_path / "second.jsonl", papers[4:9])
    report = rag.ingest([first], fresh)
    assert (report.added, report.unchanged) == (6, 0)
    before = rag.stats(fresh)
    again = rag.ingest([first], fresh)
    assert (again.added, again.relabelled, again.chunks_added) == (0, 0, 0)
    assert rag.stats(fresh) == before
    more = rag.ingest([second], fresh)
    assert (more.added, more.relabelled) == (3, 2)
    assert rag.stats(fresh)["papers"] == 9
    answer = rag.ask(papers[7].title, settings=fresh)  # a store smaller than the retrievers' candidate count
    assert answer.sources[0].title == papers[7].title


def test_a_bad_file_among_good_ones_leaves_the_store_as_it_was(fresh: rag.Settings, tmp_path: Path) -> None:
    good = _jsonl(tmp_path / "good.jsonl", _seed_papers()[:3])
    rag.ingest([good], fresh)
    before = rag.stats(fresh)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x", "abstract": "fine abstract here"}\n{"title":\n')
    newer = _jsonl(tmp_path / "newer.jsonl", _seed_papers()[3:5])
    with pytest.raises(BadInputError, match="bad.jsonl:2"):
        rag.ingest([newer, bad], fresh)
    assert rag.stats(fresh) == before


def test_ingest_killed_mid_way_then_rerun_ends_exact(fresh: rag.Settings, tmp_path: Path) -> None:
    papers = _seed_papers()[:60]
    source = _jsonl(tmp_path / "list.jsonl", papers)
    env = {**os.environ, "PAPERTRAIL_HOME": str(fresh.store.home), "PAPERTRAIL_WRITE_BATCH": "40"}
    command = [sys.executable, "-m", "ui.cli", "ingest", str(source)]
    # Writes of about 10 papers; the bar counts papers as they are embedded: at 30 of 60, a write has been made.
    kill_when_seen(command, env, rb"\b[3-5]\d/60\b")
    partial = Store(fresh).count()
    assert partial > 0, "the kill came after a batch was written"
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    store_is_consistent(fresh, 60)
    answer = rag.ask("What did we learn?", settings=fresh)
    assert all(s.paper_id in {p.paper_id for p in papers} for s in answer.sources)


def test_cpu_is_the_default_device_and_onnx_gives_sentence_transformers_vectors() -> None:
    from sentence_transformers import SentenceTransformer

    from rag.embed import build_embedder, local_model_dir

    settings = rag.Settings()
    assert settings.retrieval.device == "cpu"
    texts = [paper.abstract for paper in _seed_papers()[:6]] + ["How many tokens was CT-LLM trained on?"]
    ours = build_embedder(settings).texts(texts)
    upstream = SentenceTransformer(str(local_model_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == upstream.shape == (7, 384)
    assert float(abs(ours - upstream).max()) < 1e-4
    assert build_embedder(settings).query(texts[-1]) == pytest.approx(upstream[-1].tolist(), abs=1e-4)


def test_a_gpu_device_torch_does_not_see_is_refused_by_name() -> None:
    import torch

    from rag.embed import build_embedder
    from rag.errors import ModelError

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: nothing to refuse")
    with pytest.raises(ModelError, match="PAPERTRAIL_DEVICE=cuda, but torch sees no cuda device"):
        build_embedder(rag.Settings(retrieval={"device": "cuda"}))


def test_reingesting_the_last_ingested_files_does_not_open_the_store(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    probe = (
        "import sys, rag\n"
        "report = rag.ingest(settings=rag.Settings(store={'home': sys.argv[1]}))\n"
        "print(report.unchanged, report.papers, 'chromadb' in sys.modules)\n"
    )
    again = subprocess.run([sys.executable, "-c", probe, str(home)], capture_output=True, text=True, check=True)
    assert again.stdout.split() == ["339", "339", "False"], "the seeds were the last ingest: nothing opens Chroma"


def test_a_write_in_between_means_the_same_files_are_checked_against_the_store(fresh: rag.Settings, tmp_path: Path) -> None:
    papers = _seed_papers()[:3]
    original = _jsonl(tmp_path / "original.jsonl", papers)
    assert rag.ingest([original], fresh).added == 3
    revised = [papers[0].model_copy(update={"abstract": papers[0].abstract + " We also release the code."})]
    assert rag.ingest([_jsonl(tmp_path / "revised.jsonl", revised)], fresh).updated == 1
    back = rag.ingest([original], fresh)
    assert (back.updated, back.unchanged) == (1, 2)
    assert {p.paper_id: p.abstract for p in rag.catalog(fresh)}[papers[0].paper_id] == papers[0].abstract
