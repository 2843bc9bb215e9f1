"""Every code example of README.md and docs/*.md runs as written against a seeded home.

A fenced block's info string says how: `python` and `sh` blocks run (sh with bash -e, python with this
interpreter, each in an empty folder, PATH leading to this install's `papertrail`, PAPERTRAIL_HOME a copy of
the seeded store, the offline backend). A block that cannot run here says what it needs after its language,
e.g. ```` ```sh needs=slack-workspace ````, and is reported as not run with that reason. Any other language
must be one that is not a program (`cron`, `text`, `json`, `yaml`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"python", "sh"}
NOT_PROGRAMS = {"cron", "text", "json", "yaml"}
FENCE = re.compile(r"^```(.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, what it needs to run (None: it runs here), its code."""

    where: str
    language: str
    needs: str | None
    code: str


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    found, opened, lines = [], None, []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if fence and opened is None:
            opened, lines = (number, fence.group(1).split()), []
        elif fence:
            start, info = opened
            needs = [word.removeprefix("needs=") for word in info[1:] if word.startswith("needs=")]
            where = f"{page.relative_to(ROOT)}:{start}"
            found.append(Block(where, info[0] if info else "", needs[0] if needs else None, "\n".join(lines) + "\n"))
            opened = None
        elif opened is not None:
            lines.append(line)
    assert opened is None, f"{page.name}: a code block opened at line {opened[0]} is never closed"
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def test_every_block_says_its_language() -> None:
    unknown = [f"{b.where} ({b.language or 'no language'})" for b in ALL if b.language not in RUNNABLE | NOT_PROGRAMS]
    assert not unknown, f"give these blocks a language ({', '.join(sorted(RUNNABLE | NOT_PROGRAMS))}): {unknown}"


@pytest.fixture
def home(seeded_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(seeded_home, copy)
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if b.language in RUNNABLE], ids=lambda b: b.where)
def test_the_example_runs_as_written(block: Block, home: Path, tmp_path: Path) -> None:
    if block.needs:
        pytest.skip(f"{block.where} needs {block.needs.replace('-', ' ')}: not run here")
    folder = tmp_path / "work"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERTRAIL_", "OPENAI_", "SLACK_"))}
    env |= {
        "PAPERTRAIL_HOME": str(home),
        "PAPERTRAIL_LLM": "extractive",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    command = [sys.executable, "-c", block.code] if block.language == "python" else ["bash", "-e", "-c", block.code]
    result = subprocess.run(
        command, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{block.where} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr and "error:" not in result.stderr, result.stderr[-2000:]


def test_reading_an_empty_home_says_what_to_run_and_creates_nothing(tmp_path: Path) -> None:
    import rag

    home = tmp_path / "home"
    settings = rag.Settings(store={"home": home})
    with pytest.raises(rag.PapertrailError, match=r"is empty: run `papertrail ingest` \(or call rag.ensure_corpus\(\)\)"):
        rag.ask("How many tokens was CT-LLM trained on?", settings=settings)
    assert rag.stats(settings) == {"papers": 0, "chunks": 0} and rag.catalog(settings) == []
    assert not home.exists(), "a read leaves no empty store behind"
