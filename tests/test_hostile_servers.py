"""Servers that answer a byte a second, or far too much: the Hub for `papertrail sync`, a Chroma server (a real
`chroma run` behind a proxy that drips only the requests a test picks). Each command ends within a bound near
its timeout, or refuses the answer before reading it into memory, with one error line and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from drip_server import DRIP_BODY, DRIP_HEADERS, HUGE, PASS, HostileServer

from tests.chroma_server import ChromaServer

pytestmark = pytest.mark.slow

TIMEOUT_S = 5
START_UP_S = 20
"""Allowance on a busy machine for starting Python and importing the libraries before the first request."""
PAPERTRAIL = [sys.executable, "-m", "ui.cli"]


def _env(home: Path, **changes: str) -> dict[str, str]:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", "PAPERTRAIL_SYNC_BACKOFF": "0.05"}
    env.pop("HF_TOKEN", None)
    return env | changes


def _timed(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI; a run still going after 120 s (a timeout that never fired) fails the test."""
    start = time.monotonic()
    try:
        result = subprocess.run([*PAPERTRAIL, *args], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`papertrail {' '.join(args)}` still ran after 120 s: the timeout never fired")
    return result, time.monotonic() - start


def _one_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("papertrail: ")]
    assert line.startswith("papertrail: error: "), line
    return line


@pytest.mark.parametrize("mode", [DRIP_HEADERS, DRIP_BODY])
def test_a_hub_sending_a_byte_a_second_ends_the_sync_within_its_timeout(tmp_path: Path, mode: str) -> None:
    with HostileServer(lambda path: mode) as hub:
        env = _env(tmp_path / "home", HF_ENDPOINT=hub.url, PAPERTRAIL_SYNC_TIMEOUT=str(TIMEOUT_S))
        result, elapsed = _timed(["sync", "--date", "2026-03-09"], env)
    line = _one_error(result)
    assert "the listing of 2026-03-09" in line and f"not complete after {TIMEOUT_S} s" in line, line
    assert "PAPERTRAIL_SYNC_TIMEOUT" in line
    assert elapsed < TIMEOUT_S + START_UP_S, f"{elapsed:.1f} s"
    assert len(hub.served) == 1, "an answer trickling in is not asked for again"


def _peak_mb(args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[float, int, str]:
    """Run the CLI and return its own peak resident memory (MB), exit code and stderr."""
    err = tmp_path / "stderr.txt"
    with err.open("wb") as stderr:
        process = subprocess.Popen([*PAPERTRAIL, *args], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, process.returncode, err.read_text()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_150_mb_listing_page_is_refused_before_it_fills_the_memory(tmp_path: Path, chunked: bool) -> None:
    args = ["sync", "--date", "2026-03-09"]
    with HostileServer(lambda path: HUGE, huge_bytes=1_000_000, chunked=chunked) as small:
        floor, code, _ = _peak_mb(args, _env(tmp_path / "floor", HF_ENDPOINT=small.url), tmp_path)
    assert code == 0, "a 1 MB page of records without a summary is read, and its records skipped"
    with HostileServer(lambda path: HUGE, huge_bytes=150_000_000, chunked=chunked) as huge:
        peak, code, stderr = _peak_mb(args, _env(tmp_path / "home", HF_ENDPOINT=huge.url), tmp_path)
    assert code == 1, stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("papertrail: ")]
    assert "larger than 10 MB" in line and "PAPERTRAIL_SYNC_MAX_RESPONSE_MB" in line, line
    assert peak < floor + 60, f"peak {peak:.0f} MB against {floor:.0f} MB for a 1 MB page"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-hostile") / "data") as server:
        yield server


DRIPPED = {
    "every request": lambda path: DRIP_HEADERS,
    "the client's first requests": lambda path: DRIP_HEADERS if "/auth/identity" in path else PASS,
    "a collection request": lambda path: DRIP_HEADERS if "/collections" in path else PASS,
    "a collection answer's body": lambda path: DRIP_BODY if "/collections" in path else PASS,
}


@pytest.mark.parametrize("dripped", list(DRIPPED), ids=list(DRIPPED))
def test_a_chroma_server_sending_a_byte_a_second_ends_stats_within_its_timeout(
    chroma: ChromaServer, tmp_path: Path, dripped: str
) -> None:
    with HostileServer(DRIPPED[dripped], upstream=chroma.url) as proxy:
        env = _env(tmp_path / "home", PAPERTRAIL_CHROMA_URL=proxy.url, PAPERTRAIL_CHROMA_TIMEOUT=str(TIMEOUT_S))
        result, elapsed = _timed(["stats"], env)
    line = _one_error(result)
    assert proxy.url in line and f"{TIMEOUT_S} s" in line, line
    assert elapsed < TIMEOUT_S + START_UP_S, f"{elapsed:.1f} s"
