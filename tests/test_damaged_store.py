"""Damaged files of a real embedded store (random bytes, truncation, deleted index files): every command says in
one line what is damaged and that `papertrail ingest --check` repairs it; the check says what it found, rebuilds
the vectors from the stored text or the store from the ledger of ingested files, and says what it cannot."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import rag
from rag import sources, sync_state

pytestmark = pytest.mark.slow

SEED_PAPERS = 339
EXTRA = [
    {"title": "Wombat Burrow Index: Depth Records for Four Thousand Wombats",
     "abstract": "We release the Wombat Burrow Index, burrow depths measured for four thousand wombats across "
                 "three seasons; the deepest burrow reached 3.5 metres."},
    {"title": "Quokka Facts: Retrieving Marsupial Trivia with Tiny Transformers",
     "abstract": "We introduce Quokka Facts, a benchmark of marsupial trivia questions; a tiny transformer "
                 "retriever answers 91.5 percent of them."},
]
SYNCED_DAYS = ["2026-03-09", "2026-03-10"]
ADDED = ["2403.04706"]


@pytest.fixture(scope="module")
def base(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded store, one more file ingested, two listing days noted as synced and an arXiv id as added."""
    home = tmp_path_factory.mktemp("damaged-base") / "home"
    shutil.copytree(seeded_home, home)
    extra = home.parent / "marsupials.jsonl"
    extra.write_text("".join(json.dumps(paper) + "\n" for paper in EXTRA), encoding="utf-8")
    settings = rag.Settings(store={"home": home})
    rag.ingest([extra], settings)
    sync_state.record_days(home, SYNCED_DAYS)
    sources.remember_arxiv(ADDED, settings)
    extra.unlink()  # the ledger's copy is what a rebuild reads
    return home


def _segment(home: Path) -> Path:
    [folder] = [path for path in (home / "chroma").iterdir() if path.is_dir()]
    return folder


def _scribble(path: Path, every: int = 10) -> None:
    """Random bytes (the same in every run) over 4 KB at the start (past a 100-byte header) and at every tenth (or
    `every`th) of the file. The start, which every command reads, is always hit: which pages lie at the tenths
    differs between builds of the same store, and in one CI run damage there alone left `stats` working."""
    noise = random.Random(18)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for part in range(every):
            handle.seek(max(100, size * part // every))
            handle.write(noise.randbytes(4096))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "database: random bytes over its pages": (lambda home: _scribble(home / "chroma" / "chroma.sqlite3"), "database"),
    "database: truncated": (lambda home: os.truncate(home / "chroma" / "chroma.sqlite3", 100_000), "database"),
    "vector index: files deleted": (lambda home: [path.unlink() for path in _segment(home).glob("*.bin")], "index"),
    "vector index: random bytes": (lambda home: [_scribble(path, 3) for path in _segment(home).iterdir()], "index"),
}


def papertrail(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive"}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True, timeout=1800)


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damage_is_named_in_one_line_and_ingest_check_rebuilds_what_it_can(base: Path, tmp_path: Path, damage: str) -> None:
    home = tmp_path / "home"
    shutil.copytree(base, home)
    spoil, part = DAMAGE[damage]
    spoil(home)

    for args in (["stats"], ["ask", "How deep did the deepest wombat burrow reach?"]):
        failed = papertrail(home, *args)
        assert failed.returncode == 1, failed.stdout
        [line] = failed.stderr.strip().splitlines()
        assert line.startswith("papertrail: error: the Chroma store at ") and "is damaged: its " in line, line
        assert "run `papertrail ingest --check` to repair it" in line and "Traceback" not in failed.stderr

    checked = papertrail(home, "ingest", "--check")
    assert checked.returncode == 0, checked.stderr
    said = checked.stdout
    assert "Damaged: its " + ("database chroma.sqlite3" if part == "database" else "vector index") in said, said
    [kept] = home.glob("chroma.damaged-*")
    assert any(kept.iterdir()), "the damaged files are kept"
    if part == "database":
        assert f"Rebuilt {SEED_PAPERS + len(EXTRA)} papers from the " in said, said
        assert f"run `papertrail sync --since {SYNCED_DAYS[0]}`" in said and f"`papertrail add {ADDED[0]}`" in said, said
        assert rag.sync_status(rag.Settings(store={"home": home})).days == 0, "the synced days are fetched again"
    else:
        assert "the vectors are embedded again from the stored text" in said and "chunks had lost their vectors" in said

    stats = papertrail(home, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["papers"] == SEED_PAPERS + len(EXTRA)
    answer = papertrail(home, "ask", "--json", "How deep did the deepest wombat burrow reach?")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["sources"][0]["title"] == EXTRA[0]["title"]
    again = papertrail(home, "ingest", "--check")
    assert again.returncode == 0 and "Damaged" not in again.stdout, again.stdout
