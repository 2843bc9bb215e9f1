"""Server mode against a real `chroma run`: ingest and ask through it; with it stopped, commands fail in one line naming the URL."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.parse import expand_paths, merge, parse_file
from tests.chroma_server import ChromaServer
from tests.conftest import SEEDS

N_PAPERS = 40
"""More chunks than `candidates` (100): smaller corpora hit a BM25 top-k bug reported to the lead."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    chroma.start()
    yield chroma
    chroma.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A folder holding one JSONL of the first seed papers: enough to search, quick to embed."""
    papers = merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))[:N_PAPERS]
    folder = tmp_path_factory.mktemp("corpus")
    lines = [json.dumps({"title": p.title, "abstract": p.abstract}) for p in papers]
    (folder / "papers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, papers


def _cli(
    args: list[str], home: Path, url: str, seeds: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PAPERTRAIL_HOME": str(home),
        "PAPERTRAIL_CHROMA_URL": url,
        "PAPERTRAIL_SEEDS_DIR": str(seeds),
        "PAPERTRAIL_LLM": "extractive",
        **(extra or {}),
    }
    command = [str(Path(sys.executable).with_name("papertrail")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_ingest_and_ask_through_the_server_then_fail_clearly_while_it_is_down(
    server: ChromaServer, corpus: tuple[Path, list], tmp_path: Path
) -> None:
    folder, papers = corpus
    settings = rag.Settings(
        store={"home": tmp_path / "home", "chroma_url": server.url, "seeds_dir": folder}, llm={"backend": "extractive"}
    )
    report = rag.ingest(settings=settings)
    assert report.added == N_PAPERS
    assert rag.stats(settings)["papers"] == N_PAPERS
    assert not (tmp_path / "home" / "chroma").exists(), "server mode must not create an embedded store"

    target = papers[3]
    answer = rag.ask(f"What does the paper '{target.title}' propose?", settings=settings)
    assert not answer.abstained
    assert answer.sources[0].title == target.title

    shown = _cli(["stats", "--json"], tmp_path / "home", server.url, folder)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["papers"] == N_PAPERS

    server.stop()
    try:
        for args in (["stats"], ["ask", "What is MTOB?"]):
            failed = _cli(args, tmp_path / "home", server.url, folder)
            assert failed.returncode != 0
            lines = failed.stderr.strip().splitlines()
            assert len(lines) == 1, failed.stderr
            assert server.url in lines[0] and "Traceback" not in failed.stderr
        with pytest.raises(rag.PapertrailError, match=server.url.replace(".", r"\.")):
            rag.ask("What is MTOB?", settings=settings)
    finally:
        server.start()

    again = _cli(["ask", "--json", f"What does the paper '{target.title}' propose?"], tmp_path / "home", server.url, folder)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sources"][0]["title"] == target.title
    assert rag.stats(settings)["papers"] == N_PAPERS


def test_a_hung_server_gives_the_one_line_error_within_the_timeout(
    server: ChromaServer, corpus: tuple[Path, list], tmp_path: Path
) -> None:
    folder, papers = corpus
    settings = rag.Settings(
        store={"home": tmp_path / "home", "chroma_url": server.url, "seeds_dir": folder, "chroma_timeout": 3},
        llm={"backend": "extractive"},
    )
    rag.ingest(settings=settings)
    question = f"What does the paper '{papers[2].title}' propose?"
    assert rag.ask(question, settings=settings).sources[0].title == papers[2].title
    server.pause()
    try:
        pool = ThreadPoolExecutor(max_workers=1)  # without a timeout the ask would wait forever: fail instead
        hung = pool.submit(rag.ask, question, settings=settings)
        pool.shutdown(wait=False)
        with pytest.raises(rag.PapertrailError, match=f"{server.url.replace('.', '[.]')} did not answer"):
            hung.result(timeout=120)
        env = {"PAPERTRAIL_CHROMA_TIMEOUT": "3", "PAPERTRAIL_CHROMA_CONNECT_TIMEOUT": "3"}
        for args in (["stats"], ["ask", question]):
            failed = _cli(args, tmp_path / "home", server.url, folder, env)
            assert failed.returncode == 1
            (line,) = failed.stderr.strip().splitlines()
            assert line.startswith("papertrail: error:") and server.url in line and "did not answer" in line
    finally:
        server.resume()
    assert rag.ask(question, settings=settings).sources[0].title == papers[2].title


def test_a_long_running_process_sees_another_process_replace_an_abstract_through_the_server(
    server: ChromaServer, tmp_path: Path
) -> None:
    from tests.test_store_integrity import _env, _sees_another_process_update

    settings = rag.Settings(
        store={"home": tmp_path / "home", "chroma_url": server.url, "collection": "freshness"},
        llm={"backend": "extractive"},
    )
    env = {**_env(tmp_path / "other-home"), "PAPERTRAIL_CHROMA_URL": server.url, "PAPERTRAIL_COLLECTION": "freshness"}
    _sees_another_process_update(settings, env, tmp_path)
