"""What a newcomer sees while waiting: `make run`'s steps, the embedding model's one-time preparation, a bar that
moves from the start and none when there is nothing to do, no third-party progress lines, and the server's address."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, SYNC_WEEK, on_terminal
from hub_server import HubStandIn

from rag.parse import expand_paths, merge, parse_file

ROOT = Path(__file__).resolve().parent.parent
THIRD_PARTY = re.compile(r"Loading weights|it/s\]|share=True|Running on local URL|Collecting |Downloading ")
"""Lines of other tools' progress or hints: tqdm bars of other libraries, Gradio's share hint, pip's progress."""


def environment(home: Path, **env: str) -> dict[str, str]:
    return {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", **env}


def papertrail(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The CLI over `home`, its output captured (not a terminal: a log)."""
    command = [sys.executable, "-m", "ui.cli", *args]
    return subprocess.run(command, env=environment(home, **env), capture_output=True, text=True, timeout=900)


def on_a_terminal(home: Path, *args: str, **env: str) -> list[str]:
    """The lines the CLI over `home` writes to stderr when that is a terminal (a bar redraws its line with \r)."""
    code, seen = on_terminal([sys.executable, "-m", "ui.cli", *args], environment(home, **env))
    assert code == 0, seen.decode(errors="replace")
    return seen.decode().replace("\r\n", "\n").split("\n")


def make_dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    """What `make -n -B args` would run, as a user's shell sees it: no "Entering directory" lines when the suite
    itself runs under `make test` (MAKELEVEL and MAKEFLAGS are the outer make's)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    command = ["make", "--no-print-directory", "-n", "-B", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def test_make_run_installs_papertrail_alone_and_says_so_first() -> None:
    run = make_dry_run("run")
    test = make_dry_run("test")
    assert run.returncode == test.returncode == 0, run.stderr + test.stderr
    steps = run.stdout.splitlines()
    assert steps[0] == 'echo "Installing Papertrail (first run: a few minutes)…"'
    assert any(re.search(r"pip install .* -e \.; ", step) for step in steps)
    assert "[test]" not in run.stdout and "pytest" not in run.stdout
    assert "--quiet --quiet --progress-bar off" in run.stdout, "pip prints no progress of its own"
    assert "'.[test]'" in test.stdout


def test_each_install_step_says_what_it_installs_at_once_and_that_it_still_runs(tmp_path: Path) -> None:
    """`make run`'s install with a stand-in pip that takes 3 s a step: each step named as it starts, a line each
    second (TICK=1) while it runs, and a failing step stops the install with nothing marked installed."""
    venv = tmp_path / ".venv"
    venv.mkdir()
    stamp = venv / ".installed-run"

    def install(pip: str) -> subprocess.CompletedProcess[str]:
        options = [f"VENV={venv}", "PYTHON=true", "TICK=1", f"PIP={pip}", str(stamp)]
        env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
        command = ["make", "--no-print-directory", *options]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)

    done = install("sleep 3; echo installed")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    torch, rest = lines.index("  1/2 torch 2.13.0 (the CPU build)…"), lines.index("  2/2 Papertrail and its libraries…")
    assert lines[0] == "Installing Papertrail (first run: a few minutes)…" and torch == 1
    assert "  still installing: 1 s" in lines[torch:rest] and "  still installing: 1 s" in lines[rest:]
    assert lines[-1] == "installed -e ." and stamp.exists()

    stamp.unlink()
    failed = install("sleep 2; false")
    assert failed.returncode != 0 and not stamp.exists(), "a failed step leaves nothing marked installed"
    assert "2/2" not in failed.stdout


def test_make_run_passes_host_and_port_to_serve() -> None:
    run = make_dry_run("run", "PORT=8123", "HOST=0.0.0.0", "READ_ONLY=1")
    assert run.returncode == 0, run.stderr
    assert "papertrail serve --host 0.0.0.0 --port 8123 --read-only" in run.stdout


@pytest.mark.slow
def test_first_ingest_prepares_the_model_then_embeds_with_a_moving_bar_and_a_rerun_shows_none(tmp_path: Path) -> None:
    papers = merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))[:20]
    source = tmp_path / "twenty.jsonl"
    source.write_text("".join(json.dumps({"title": p.title, "abstract": p.abstract}) + "\n" for p in papers))
    home, cache = tmp_path / "home", tmp_path / "model-cache"

    shown = on_a_terminal(home, "ingest", str(source), PAPERTRAIL_MODEL_CACHE=str(cache))
    assert shown[0] == "Preparing the embedding model (once)…"
    assert shown[1].lstrip("\r").startswith("Embedding 20 papers:   0%") and shown[2:] == [""], "one bar, on one line"
    counts = [int(n) for n in re.findall(r"\| *(\d+)/20 \[", shown[1])]
    assert counts[0] == 0 and counts[-1] == 20
    assert len(set(counts) - {0, 20}) >= 2, f"the bar moves while the model embeds, batch by batch: {counts}"
    assert not THIRD_PARTY.search("\n".join(shown)), shown

    again = papertrail(home, "ingest", str(source), PAPERTRAIL_MODEL_CACHE=str(cache))
    assert again.returncode == 0 and again.stderr == "", "nothing to do: no bar"
    assert "20 already stored" in again.stdout

    more = tmp_path / "one.jsonl"
    more.write_text(json.dumps({"title": "Tiny Owls", "abstract": "We train owls. The owls read 40 abstracts a minute."}) + "\n")
    logged = papertrail(home, "ingest", str(more), PAPERTRAIL_MODEL_CACHE=str(cache))
    assert logged.returncode == 0, logged.stderr
    assert logged.stderr == "Embedding 1 paper…\n", "in a log: one line, no bar, the model already prepared"
    assert "1 papers: 1 added" in logged.stdout


@pytest.mark.slow
def test_a_logged_sync_says_what_it_fetches_in_one_line_and_one_with_nothing_to_fetch_nothing(
    seeded_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as hub:
        env = {"HF_ENDPOINT": hub.url, "PAPERTRAIL_SYNC_PAGE_SIZE": "3", "PAPERTRAIL_SYNC_BACKOFF": "0.05"}
        first = papertrail(home, "sync", "--week", SYNC_WEEK, **env)
        assert first.returncode == 0, first.stderr
        assert first.stderr.startswith("Syncing 7 days…\n") and first.stderr.count("Syncing") == 1
        again = papertrail(home, "sync", "--week", SYNC_WEEK, **env)
    assert again.returncode == 0, again.stderr
    assert again.stderr == "" and again.stdout.startswith("0 listing days (7 days synced before)")


def test_serve_on_a_taken_port_says_so_in_one_line(seeded_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = papertrail(seeded_home, "serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"papertrail: error: cannot listen on 127.0.0.1:{port} (Address already in use): choose another port with "
        "`papertrail serve --port 8080` (or `make run PORT=8080`)"
    ]
