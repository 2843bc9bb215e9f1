"""Shared fixtures: a store seeded once per test session with the real model, Chroma and BM25."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

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
