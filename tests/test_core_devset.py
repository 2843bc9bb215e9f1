"""The question sets through `papertrail eval`'s code path, held to the bounds a regression must not cross.

eval/dev.jsonl and eval/dev4.jsonl are fitted on (the extractive scorer, the answer decision); eval/dev2.jsonl,
eval/dev3.jsonl, eval/dev5.jsonl, eval/dev6.jsonl, eval/dev7.jsonl, eval/dev8.jsonl, eval/dev9.jsonl,
eval/dev10.jsonl, eval/dev11.jsonl, eval/dev12.jsonl, eval/dev13.jsonl, eval/dev14.jsonl, eval/dev15.jsonl,
eval/dev16.jsonl, eval/dev17.jsonl, eval/dev18.jsonl and eval/dev19.jsonl were each written blind by a session that
never read the answerer, run once as written (their blind figures are in docs/evaluation.md), then read: their bounds
are the early warning for questions nobody tuned on.
eval/everyday.jsonl (written the same way) holds 160 questions about one paper each in everyday words, without its
name, and 140 alike that no abstract answers: how often the answer decision tells them apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.answer.gate import refusal_reason
from rag.devtools.evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent

AT_LEAST = {
    "dev.jsonl": {
        "recall_at_5_single": 0.98,
        "recall_at_10_multi": 0.90,
        "mrr_at_10": 0.95,
        "fact_hit": 0.87,
        "lead_fact_hit": 0.78,
        "citation_precision_single": 0.95,
        "abstention_unanswerable": 0.9,
        "list_recall": 0.80,  # the list threshold at F1, not F2 (precision rose)
        "list_precision": 0.74,
    },
    "dev2.jsonl": {
        "recall_at_5_single": 0.95,
        "recall_at_10_multi": 0.95,
        "mrr_at_10": 0.94,
        "fact_hit": 0.81,
        "lead_fact_hit": 0.62,
        "citation_precision_single": 0.90,
        "abstention": 0.85,
        "abstention_unanswerable": 0.8,
        "abstention_offtopic": 0.8,
        "list_recall": 0.85,  # .910 -> .868 when list phrases matched hyphenated words (pooled recall rose)
        "list_precision": 0.80,
    },
    "dev3.jsonl": {
        "recall_at_5_single": 0.95,
        "recall_at_10_multi": 0.90,
        "fact_hit": 0.88,
        "lead_fact_hit": 0.75,
        "citation_precision_single": 0.96,
        "abstention": 0.90,
        "right_paper": 0.95,
        "list_recall": 0.84,
        "list_precision": 0.72,
    },
    "dev4.jsonl": {
        "recall_at_5_single": 0.95,
        "fact_hit": 0.82,
        "lead_fact_hit": 0.60,
        "citation_precision_single": 0.88,
        "abstention": 0.90,
        "right_paper": 0.90,
        "list_recall": 0.80,
        "list_precision": 0.74,
    },
    "dev5.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.90,
        "fact_hit": 0.80,
        "lead_fact_hit": 0.70,
        "citation_precision_single": 0.92,
        "abstention": 0.92,
        "right_paper": 0.90,
        "list_recall": 0.76,
        "list_precision": 0.77,
    },
    "dev6.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.90,
        "fact_hit": 0.80,
        "lead_fact_hit": 0.63,
        "citation_precision_single": 0.92,
        "abstention": 0.95,
        "right_paper": 0.97,
        "list_recall": 0.79,  # the list threshold at F1, not F2 (precision rose)
        "list_precision": 0.72,
    },
    "dev7.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.88,
        "lead_fact_hit": 0.71,
        "citation_precision_single": 0.97,
        "abstention": 0.93,
        "right_paper": 0.97,
        "list_recall": 0.81,  # the list threshold at F1, not F2 (precision rose)
        "list_precision": 0.79,
    },
    "dev8.jsonl": {
        "recall_at_5_single": 0.95,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.74,
        "lead_fact_hit": 0.57,
        "citation_precision_single": 0.95,
        "abstention": 0.95,
        "right_paper": 0.91,
        "list_recall": 0.73,
        "list_precision": 0.80,
    },
    "dev9.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.85,
        "fact_hit": 0.75,
        "lead_fact_hit": 0.66,
        "citation_precision_single": 0.94,
        "abstention": 0.88,
        "right_paper": 0.92,
        "list_recall": 0.79,
        "list_precision": 0.74,
    },
    "dev10.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.68,
        "lead_fact_hit": 0.62,
        "citation_precision_single": 0.96,
        "abstention": 0.80,
        "right_paper": 0.86,
        "list_recall": 0.72,
        "list_precision": 0.74,
    },
    "dev11.jsonl": {
        "recall_at_5_single": 0.98,
        "recall_at_10_multi": 0.92,
        "fact_hit": 0.66,
        "lead_fact_hit": 0.52,
        "citation_precision_single": 0.90,
        "abstention": 0.92,
        "right_paper": 0.86,
        "list_recall": 0.86,
        "list_precision": 0.82,
    },
    "dev12.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.95,
        "fact_hit": 0.70,
        "lead_fact_hit": 0.61,
        "citation_precision_single": 0.94,
        "abstention": 0.94,
        "right_paper": 0.92,
        "list_recall": 0.80,
        "list_precision": 0.81,
    },
    "dev13.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.95,
        "fact_hit": 0.72,
        "lead_fact_hit": 0.67,
        "citation_precision_single": 0.94,
        "abstention": 0.94,
        "right_paper": 0.91,
        "list_recall": 0.86,
        "list_precision": 0.76,
    },
    "dev14.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.84,
        "fact_hit": 0.73,
        "lead_fact_hit": 0.63,
        "citation_precision_single": 0.94,
        "abstention": 0.92,
        "right_paper": 0.91,
        "list_recall": 0.73,  # the list threshold at F1, not F2 (precision rose)
        "list_precision": 0.75,
    },
    "dev15.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.90,
        "fact_hit": 0.74,
        "lead_fact_hit": 0.68,
        "citation_precision_single": 0.94,
        "abstention": 0.95,
        "right_paper": 0.93,
        "list_recall": 0.77,
        "list_precision": 0.79,
    },
    "dev16.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.74,
        "lead_fact_hit": 0.63,
        "citation_precision_single": 0.95,
        "abstention": 0.95,
        "right_paper": 0.89,
        "list_recall": 0.82,
        "list_precision": 0.88,
    },
    "dev17.jsonl": {
        "recall_at_5_single": 0.97,
        "recall_at_10_multi": 0.94,
        "fact_hit": 0.87,
        "lead_fact_hit": 0.78,
        "citation_precision_single": 0.97,
        "abstention": 0.95,
        "right_paper": 0.96,
        "list_recall": 0.87,
        "list_precision": 0.85,
    },
    "dev18.jsonl": {
        "recall_at_5_single": 0.94,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.77,
        "lead_fact_hit": 0.66,
        "citation_precision_single": 0.96,
        "abstention": 0.95,
        "right_paper": 0.87,
        "list_recall": 0.86,
        "list_precision": 0.82,
    },
    "dev19.jsonl": {
        "recall_at_5_single": 0.94,
        "recall_at_10_multi": 0.93,
        "fact_hit": 0.68,
        "lead_fact_hit": 0.61,
        "citation_precision_single": 0.91,
        "abstention": 0.95,
        "right_paper": 0.87,
        "list_recall": 0.76,
        "list_precision": 0.81,
    },
    "everyday.jsonl": {
        "recall_at_5_single": 0.98,
        "mrr_at_10": 0.88,
        "fact_hit": 0.45,
        "citation_precision_single": 0.85,
        "abstention": 0.86,
        "right_paper": 0.76,
    },
}
"""Lower bounds, a little under the figures measured when they were set (docs/evaluation.md)."""
FALSE_ABSTENTION = {
    "dev.jsonl": 0.04, "dev2.jsonl": 0.04, "dev3.jsonl": 0.03, "dev4.jsonl": 0.04, "dev5.jsonl": 0.04, "dev6.jsonl": 0.02,
    "dev7.jsonl": 0.02, "dev8.jsonl": 0.05, "dev9.jsonl": 0.03, "dev10.jsonl": 0.09, "dev11.jsonl": 0.06,
    "dev12.jsonl": 0.04, "dev13.jsonl": 0.04, "dev14.jsonl": 0.05, "dev15.jsonl": 0.03, "dev16.jsonl": 0.06,
    "dev17.jsonl": 0.02, "dev18.jsonl": 0.09, "dev19.jsonl": 0.07,
    "everyday.jsonl": 0.15,
}
"""Upper bounds on declining a question that has an answer (dev8's and dev10's: paraphrases in everyday words whose
paper retrieval ranks second or lower, or that share few words with it, declined rather than answered wrongly)."""


@pytest.mark.parametrize("name", sorted(AT_LEAST))
def test_dev_set_figures(seeded: rag.Settings, tmp_path: Path, name: str) -> None:
    out = tmp_path / "results.jsonl"
    questions = [json.loads(line) for line in (ROOT / "eval" / name).read_text().splitlines()]
    summary = evaluate(ROOT / "eval" / name, out, seeded)
    for figure, bound in AT_LEAST[name].items():
        assert getattr(summary, figure) >= bound, f"{name}: {figure} {getattr(summary, figure)} < {bound}"
    assert summary.false_abstention <= FALSE_ABSTENTION[name]
    assert summary.answer_words_p50 <= 80
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == summary.questions == len(questions)
    assert set(rows[0]) == {"id", "retrieved", "answer", "cited", "abstained", "latency_ms"}
    # Every question but those the gate refuses unread ("Give me a marathon plan") retrieved ten papers.
    assert all(len(row["retrieved"]) >= 10 for row, q in zip(rows, questions) if refusal_reason(q["question"]) is None)
    assert set(rows[0]["latency_ms"]) == {"retrieve", "answer", "total"}


def test_the_scorer_weights_come_from_cross_validation_folds(seeded: rag.Settings) -> None:
    from rag.answer.extractive import WEIGHTS
    from rag.devtools.tuning import Setting, chosen, cross_validate, load_cases

    cases = load_cases(ROOT / "eval" / "dev.jsonl", seeded, [])
    folds = cross_validate(cases, 5, 9, [], seeded)
    assert len(folds) == 5
    assert chosen(folds) == Setting(WEIGHTS), "the shipped weights are the folds' choice, not the whole set's"
