"""Failures a user can cause end in one line naming the cause and what to do, never "unexpected error: <Name>":
a listing the Hub does not have, a redirect loop, a refused setting, a home that is a file; and a read-only
PAPERTRAIL_HOME, where readers work and writers say the home is read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import free_port, http_status, serving
from drip_server import LOOP, HostileServer
from hub_server import HubStandIn

import rag

pytestmark = pytest.mark.slow

QUESTION = "Which regularization helps when pre-training data is repeated for several epochs?"


def papertrail(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", **env}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=environment, capture_output=True, text=True, timeout=600)


def one_error(result: subprocess.CompletedProcess) -> str:
    """The single `papertrail: error:` line of a failed command."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("papertrail: ")]
    assert len(lines) == 1 and lines[0].startswith("papertrail: error: "), result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    return lines[0]


def test_a_listing_the_hub_does_not_have_and_a_redirect_loop_are_one_line(tmp_path: Path, hub: HubStandIn) -> None:
    hub.script("daily_papers/2026-03-09", [{"status": 404, "headers": {}, "body": {"error": "Not Found"}}])
    missing = one_error(papertrail(tmp_path / "home", "sync", "--date", "2026-03-09", HF_ENDPOINT=hub.url))
    assert "the listing of 2026-03-09" in missing and "HTTP 404" in missing and "HF_ENDPOINT" in missing, missing
    with HostileServer(lambda path: LOOP) as looping:
        loop = one_error(papertrail(tmp_path / "home", "sync", "--date", "2026-03-09", HF_ENDPOINT=looping.url))
    assert "redirects in a loop" in loop and "HF_ENDPOINT" in loop, loop


@pytest.mark.parametrize(
    ("variable", "value", "args", "expected"),
    [
        ("PAPERTRAIL_TOP_K", "-3", ["ask", QUESTION], "PAPERTRAIL_TOP_K=-3: input should be greater than or equal to 1 (allowed: at least 1 and at most 50)"),
        ("PAPERTRAIL_SYNC_TIMEOUT", "soon", ["sync"], "PAPERTRAIL_SYNC_TIMEOUT=soon: input should be a valid number"),
        ("PAPERTRAIL_LLM", "gpt", ["stats"], "PAPERTRAIL_LLM=gpt: input should be 'auto', 'extractive', 'openai' or 'llamacpp'"),
        ("PAPERTRAIL_UI_CONCURRENCY", "0", ["serve", "--port", "9"], "PAPERTRAIL_UI_CONCURRENCY=0: input should be greater than or equal to 1"),
    ],
)
def test_a_refused_setting_names_its_variable_value_and_bounds(
    tmp_path: Path, variable: str, value: str, args: list[str], expected: str
) -> None:
    line = one_error(papertrail(tmp_path / "home", *args, **{variable: value}))
    assert line.startswith(f"papertrail: error: {expected}"), line
    assert not (tmp_path / "home" / "chroma").exists(), "nothing was opened or seeded before the setting was read"


def test_a_home_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "papertrail-home"
    home.write_text("not a folder\n")
    line = one_error(papertrail(home, "stats"))
    assert f"PAPERTRAIL_HOME={home}: it is a file, not a folder" in line, line


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` seen read-only: a read-only bind mount for root (who may write anywhere else), else no write bits."""
    if os.geteuid() != 0:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield folder
        finally:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
        return
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"running as root without the right to mount, so a read-only home cannot be made: {mounted.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_readers_work_on_a_read_only_home_and_writers_say_it_is_read_only(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = rag.Settings(store={"home": home}, llm={"backend": "extractive"})
    answer = rag.ask(QUESTION, settings=settings)
    rag.record_feedback(answer, "down", "web", settings, user="alice")
    new = tmp_path / "new.jsonl"
    new.write_text('{"title": "A Paper on Wombats", "abstract": "We measure wombat burrows across four seasons of field work."}\n')
    shutil.rmtree(home / "index")  # as in a home written before this search index's format: each reader builds its own
    with read_only(home) as view:
        stats = papertrail(view, "stats")
        assert stats.returncode == 0 and stats.stdout.startswith("339 papers"), stats.stderr
        asked = papertrail(view, "ask", QUESTION)
        assert asked.returncode == 0 and answer.citations[0].title in asked.stdout, asked.stderr
        exported = papertrail(view, "feedback", "export", "--out", str(tmp_path / "review.jsonl"))
        assert exported.returncode == 0 and QUESTION in (tmp_path / "review.jsonl").read_text(), exported.stderr
        port = free_port()
        command = [sys.executable, "-m", "ui.cli", "serve", "--read-only", "--port", str(port)]
        env = {**os.environ, "PAPERTRAIL_HOME": str(view), "PAPERTRAIL_LLM": "extractive"}
        with serving(command, env, tmp_path / "serve.log", f"http://127.0.0.1:{port}/") as url:
            assert http_status(url) == 200
        for args in (["ingest", str(new)], ["ingest", "--check"], ["sync", "--date", "2026-03-09"]):
            line = one_error(papertrail(view, *args, HF_ENDPOINT="http://127.0.0.1:9"))
            assert f"PAPERTRAIL_HOME ({view}) is read-only" in line, line
        with pytest.raises(rag.PapertrailError, match="is read-only"):
            rag.record_feedback(answer, "up", "web", rag.Settings(store={"home": view}), user="bob")


def test_a_jsonl_line_holding_a_lone_surrogate_is_named_by_file_and_line_in_the_cli_and_the_web(
    fresh: rag.Settings, tmp_path: Path
) -> None:
    from ui.web import Handlers

    upload = tmp_path / "upload.jsonl"
    upload.write_text(
        '{"title": "Wombat Burrows", "abstract": "We measure wombat burrows across four seasons of field work."}\n'
        '{"title": "Quokka \\udc80 Habits", "abstract": "We watch quokkas across four seasons of field work."}\n',
        encoding="utf-8",
    )
    line = one_error(papertrail(fresh.store.home, "ingest", str(upload)))
    assert "upload.jsonl:2: 'title'" in line and "surrogate" in line, line
    note = Handlers(fresh).add_papers(str(upload))[0]
    assert "upload.jsonl:2: &#x27;title&#x27;" in note or "upload.jsonl:2: 'title'" in note, note
    assert "surrogate" in note and "went wrong" not in note, note
    assert rag.stats(fresh)["papers"] == 0
