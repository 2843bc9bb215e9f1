"""Installed as a user installs it (a built wheel, not the checkout): the package answers from anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import rag

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_the_functions_not_modules_of_the_same_name() -> None:
    import rag.devtools.evaluation  # noqa: F401  (imports every stage, as a full run does)
    import rag.pipeline  # noqa: F401

    shadowed = [name for name in rag.__all__ if isinstance(getattr(rag, name), ModuleType)]
    assert shadowed == []


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and installed into a folder of its own (dependencies from this venv)."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return target


def test_installed_package_answers_from_outside_the_checkout(installed: Path, seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive"}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import rag; from rag.answer.prompts import load; load(); s = rag.Settings();"
            "print(rag.__file__); print(s.store.seeds_dir); print(len(list(s.store.seeds_dir.glob('*.txt'))))",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    module, seeds, count = probe.stdout.split()
    assert module.startswith(str(installed)) and seeds.startswith(str(installed)) and int(count) == 5
    asked = subprocess.run(
        [str(installed / "bin" / "papertrail"), "ask", "How many tokens was CT-LLM trained on?"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert asked.returncode == 0, asked.stderr
    assert "1,200 billion tokens" in asked.stdout and "Chinese Tiny LLM" in asked.stdout
