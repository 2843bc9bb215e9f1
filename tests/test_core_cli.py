"""The `papertrail` command as a user runs it: answers with sources, JSON, stats, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import rag
from tests.conftest import free_port
from tests.openai_server import API_KEY, MODEL, ScriptedOpenAI, Step


def run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive"}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def home(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(seeded_home, copy)
    return copy


def test_ask_prints_answer_then_numbered_sources_each_quote_once(home: Path) -> None:
    result = run(home, "ask", "How many tokens was CT-LLM trained on?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1]" in out and out.count("1,200 billion tokens") == 1, "the quoted sentence is the answer: printed once"
    title = "Chinese Tiny LLM: Pretraining a Chinese-Centric Large Language Model"
    assert f"\nSources:\n[1] {title} · listed Mar 11, Mar 14, Sep 12 (year not given)\n" in out
    assert out.count("Uniquely initiated from scratch") == 1
    assert "\n\n\n" not in out


def test_a_which_papers_question_prints_one_line_per_paper_and_no_quote_again(home: Path) -> None:
    result = run(home, "ask", "Which papers study continual pre-training?")
    assert result.returncode == 0, result.stderr
    answer, _, listing = result.stdout.partition("\n\nSources:\n")
    papers = answer.splitlines()
    assert len(papers) >= 3 and all(line.startswith("- ") and line.endswith("]") for line in papers), papers
    numbered = [line for line in listing.splitlines() if line.startswith("[")]
    assert len(numbered) == len(papers) and '    "' not in listing, "each line is its quote: none printed again"


def test_a_declined_answer_says_why_and_labels_the_closest_papers_as_not_cited(home: Path) -> None:
    result = run(home, "ask", "What MMLU score does Kookaburra-7B reach?")
    assert result.returncode == 0, result.stderr
    first, _, rest = result.stdout.partition("\n")
    assert first.startswith(f"{rag.ABSTAIN} ") and "Kookaburra-7B" in first.removeprefix(rag.ABSTAIN), "why, beside it"
    assert rest.startswith("\nClosest papers (retrieved, not cited):\n- ")
    assert "[1]" not in result.stdout and "\n\n\n" not in result.stdout


def test_a_declined_off_topic_request_prints_the_reason_and_no_blank_lines(home: Path) -> None:
    result = run(home, "ask", "Tell me a joke about GPUs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{rag.ABSTAIN} It ") and len(lines[0]) > len(rag.ABSTAIN) + 4
    assert lines[1:3] == ["", lines[2]] and lines[2].startswith("(answered by extractive in ")
    assert len(lines) == 3 and "Closest papers" not in result.stdout


def test_a_model_answer_prints_the_quote_behind_each_citation_once(home: Path) -> None:
    question = "Which regularization helps when pre-training data is repeated for several epochs?"
    reply = "Dropout helps against multi-epoch degradation [1]."
    with ScriptedOpenAI([Step(reply)], free_port()) as server:
        env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "openai", "PAPERTRAIL_LLM_MODEL": MODEL,
               "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.url}
        result = subprocess.run([sys.executable, "-m", "ui.cli", "ask", question], env=env, capture_output=True,
                                text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    answer, _, listing = result.stdout.partition("\nSources:\n[1] ")
    assert answer.strip() == reply and listing.count('    "') == 1, "a paraphrase: the sentence behind it, once"


def test_ask_json_has_the_documented_fields(home: Path) -> None:
    result = run(home, "ask", "Which open language model was trained on the Dolma corpus?", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"text", "citations", "sources", "abstained", "backend", "timings_ms"} <= set(answer)
    assert {"n", "paper_id", "title", "quote", "dates"} <= set(answer["citations"][0])
    assert "OLMo" in answer["text"] and answer["backend"] == "extractive"


def test_stats_json(home: Path) -> None:
    result = run(home, "stats", "--json")
    assert result.returncode == 0
    counts = json.loads(result.stdout)
    assert counts["papers"] == 339 and counts["chunks"] > 339


@pytest.mark.parametrize(("question", "message"), [("", "empty"), ("y" * 2500, "limit is 2,000")])
def test_bad_questions_get_one_line_and_exit_1(home: Path, question: str, message: str) -> None:
    result = run(home, "ask", question)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ingest_of_a_bad_file_names_it_and_changes_nothing(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"title": "T", "abstract": "x"\n')
    before = run(home, "stats", "--json").stdout
    result = run(home, "ingest", str(bad))
    assert result.returncode == 1
    assert "broken.jsonl:1" in result.stderr and "Traceback" not in result.stderr
    assert run(home, "stats", "--json").stdout == before


def test_empty_store_is_seeded_first_and_says_so(tmp_path: Path, fresh: rag.Settings) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(rag.Settings().store.seeds_dir / "003_f27ba73f9d03f97c.txt", seeds)
    env_home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ask", "What is linguistic entity masking?"],
        env={**os.environ, "PAPERTRAIL_HOME": str(env_home), "PAPERTRAIL_SEEDS_DIR": str(seeds), "PAPERTRAIL_LLM": "extractive"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "store is empty: ingesting" in result.stderr
    assert "[1]" in result.stdout


def test_chat_keeps_the_conversation(home: Path) -> None:
    result = run(home, "chat", stdin="How many tokens was CT-LLM trained on?\nAnd how many of them were Chinese?\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[1]") >= 2
    assert "800 billion Chinese tokens" in result.stdout.split("And how many")[-1] or "800 billion Chinese tokens" in result.stdout


def test_top_k_out_of_bounds_gets_one_line_and_exit_1(home: Path) -> None:
    result = run(home, "ask", "--top-k", "-2", "How many tokens was CT-LLM trained on?")
    assert result.returncode == 1
    assert result.stderr.strip() == "papertrail: error: top_k must be a whole number from 1 to 50, got -2"


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x08\x9b31m\r"
"""Clear the screen, retitle the terminal, ring the bell, backspace, an 8-bit CSI and a carriage return."""


def _controls(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]


def test_control_characters_never_reach_the_terminal(home: Path, tmp_path: Path) -> None:
    """A model's answer (or anything else printed) full of terminal escapes is printed without them."""
    reply = f"Dropout{ESCAPES} helps against multi-epoch degradation [1].{ESCAPES}"
    question = "Which regularization helps when pre-training data is repeated for several epochs?"
    with ScriptedOpenAI([Step(reply)], free_port()) as server:
        env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "openai", "PAPERTRAIL_LLM_MODEL": MODEL,
               "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.url}
        shown = [
            subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, input=stdin, capture_output=True, text=True,
                           timeout=600)
            for args, stdin in ((["ask", question], None), (["ask", "--json", question], None))
        ]
    for result in shown:
        assert result.returncode == 0, result.stderr
        assert _controls(result.stdout) == []
    assert shown[0].stdout.startswith("Dropout[2J]0;owned31m  helps against")  # the carriage return became a space
    assert json.loads(shown[1].stdout)["text"].startswith("Dropout\x1b[2J")  # the JSON keeps the data, escaped
    missing = run(home, "ingest", str(tmp_path / f"papers{ESCAPES}.jsonl"))
    last = missing.stderr.strip().split("\n")[-1]
    assert missing.returncode == 1 and last.endswith("papers[2J]0;owned31m .jsonl: no such file")
    assert _controls(last) == []
