"""The dev set through `papertrail eval`'s code path: the figures the core issue sets as bounds."""

from __future__ import annotations

import json
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parent.parent
from rag.devtools.evaluation import evaluate

DEV_SET = ROOT / "eval" / "dev.jsonl"


def test_dev_set_figures(seeded: rag.Settings, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    summary = evaluate(DEV_SET, out, seeded)
    assert summary.questions == 70
    assert summary.recall_at_5_single >= 0.98
    assert summary.recall_at_10_multi >= 0.90
    assert summary.mrr_at_10 >= 0.95
    assert summary.citation_precision_single >= 0.95
    assert summary.abstention_unanswerable >= 0.6
    assert summary.false_abstention <= 0.05
    assert summary.answer_words_p50 <= 80
    assert summary.fact_hit >= 0.85
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 70
    first = rows[0]
    assert set(first) == {"id", "retrieved", "answer", "cited", "abstained", "latency_ms"}
    assert len(first["retrieved"]) >= 10
    assert set(first["latency_ms"]) == {"retrieve", "answer", "total"}
