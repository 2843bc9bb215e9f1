"""Shared fixtures: a store seeded once per test session with the real model, Chroma and BM25."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import termios
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hub_server import HubStandIn

import rag

ROOT = Path(__file__).resolve().parent.parent

SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PAPERTRAIL_HOME holding the ingested seeds; tests must not write to it (copy it first)."""
    home = tmp_path_factory.mktemp("seeded-home")
    rag.ingest(settings=rag.Settings(store={"home": home}))
    return home


@pytest.fixture(scope="session")
def seeded(seeded_home: Path) -> rag.Settings:
    """Settings over the shared seeded store, with the offline extractive backend."""
    return rag.Settings(store={"home": seeded_home}, llm={"backend": "extractive"})


@pytest.fixture
def fresh(tmp_path: Path) -> rag.Settings:
    """Settings over an empty store of the test's own."""
    return rag.Settings(store={"home": tmp_path / "home"}, llm={"backend": "extractive"})


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int | None:
    """The HTTP status of a GET (a POST of `body`) to `url`; None while nothing listens there."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


@contextmanager
def serving(command: list[str], env: dict[str, str], log_path: Path, url: str) -> Iterator[str]:
    """A server started by `command`, its output in `log_path`, waited for until `url` answers HTTP at all; yields
    `url` and stops the server after."""
    with log_path.open("w+") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while http_status(url) is None:
                if process.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"{' '.join(command)} exited with {process.returncode}:\n{log.read()}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def on_terminal(command: list[str], env: dict[str, str], kill_at: bytes | None = None) -> tuple[int, bytes]:
    """Run `command` with its stderr on a 120-column terminal (where the CLI draws its progress bars) until it ends,
    or SIGKILL it as soon as that output matches the regex `kill_at`; its exit code and what it wrote there."""
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 600
    readable = select.poll()  # not select(), which fails on descriptors past 1,023: a whole test run opens many
    readable.register(master, select.POLLIN)
    try:
        while time.monotonic() < deadline:
            if kill_at and re.search(kill_at, seen):
                process.send_signal(signal.SIGKILL)
                break
            if readable.poll(1000):
                try:
                    seen += os.read(master, 4096)
                except OSError:  # the command ended and closed the terminal
                    break
            elif process.poll() is not None:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    return process.returncode, seen


def kill_when_seen(command: list[str], env: dict[str, str], progress: bytes) -> None:
    """Run `command` and SIGKILL it as soon as its progress bar (on a terminal) matches the regex `progress`."""
    code, seen = on_terminal(command, env, progress)
    assert re.search(progress, seen) and code == -signal.SIGKILL, f"it ended before the kill: {seen[-500:]!r}"


def store_is_consistent(settings: rag.Settings, expected_papers: int) -> None:
    """Every stored paper whole (chunks 0..n-1, no duplicate ids), and `expected_papers` of them."""
    from rag.store import Store

    rows = Store(settings)._collection.get(include=["metadatas"])
    assert len(rows["ids"]) == len(set(rows["ids"]))
    per_paper: dict[str, set[int]] = {}
    for meta in rows["metadatas"]:
        per_paper.setdefault(meta["paper_id"], set()).add(meta["chunk_index"])
    assert len(per_paper) == expected_papers
    for meta in rows["metadatas"]:
        assert per_paper[meta["paper_id"]] == set(range(meta["n_chunks"]))


@pytest.fixture(scope="module")
def synced_copy(synced_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the synced home that this module's tests may write to."""
    copy = tmp_path_factory.mktemp("synced-copy") / "home"
    shutil.copytree(synced_home, copy)
    return copy


SYNC_WEEK = "2026-W11"
"""The week of the recorded Daily Papers listings (tests/fixtures/hub/daily_papers: 2026-03-09 to 13)."""


def sync_settings(home: Path, endpoint: str) -> rag.Settings:
    """Settings over `home` syncing from the hub stand-in at `endpoint`: listings paged by 3, quick retries."""
    return rag.Settings(
        store={"home": home}, llm={"backend": "extractive"}, sync={"endpoint": endpoint, "page_size": 3, "backoff": 0.05}
    )


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    """A Hugging Face Hub stand-in replaying the recorded listings (a fresh one per test: 429s replay)."""
    with HubStandIn() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def synced_home(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PAPERTRAIL_HOME holding the seeds and the recorded week synced from the stand-in (copy it before writing)."""
    home = tmp_path_factory.mktemp("synced-home") / "home"
    shutil.copytree(seeded_home, home)
    with HubStandIn() as stand_in:
        rag.sync(week=SYNC_WEEK, settings=sync_settings(home, stand_in.url))
    return home
