"""`papertrail eval`: run a question set through `ask`, write per-question results, summarise the figures."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from ..api import ask, catalog
from ..errors import BadInputError
from ..retrieve import RANKED_PAPERS
from ..settings import Settings


class EvalQuestion(BaseModel):
    """One line of an eval file (the format of eval/dev.jsonl)."""

    id: str
    question: str
    history: list = Field(default_factory=list)
    type: str = "lookup"
    gold_titles: list[str] = Field(default_factory=list)
    must_contain: list[list[str]] = Field(default_factory=list)


@dataclass
class Summary:
    """The figures `papertrail eval` prints; None where the set has no question of that kind."""

    questions: int
    recall_at_5_single: float | None
    recall_at_10_multi: float | None
    mrr_at_10: float | None
    fact_hit: float | None
    citation_precision_single: float | None
    abstention: float | None
    """Share of abstentions on every question without an answer: unanswerable and off-topic together."""
    abstention_unanswerable: float | None
    abstention_offtopic: float | None
    false_abstention: float | None
    answer_words_p50: float | None
    latency_ms_p50: float
    latency_ms_p95: float


def load_questions(path: Path) -> list[EvalQuestion]:
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                questions.append(EvalQuestion.model_validate_json(line))
            except ValueError as err:
                raise BadInputError(f"{path}:{number}: not an eval question ({err.errors()[0]['msg']})") from None
    return questions


def run_question(item: EvalQuestion, settings: Settings, backend: str | None, titles: dict[str, str]) -> dict:
    """One result line: the ranked titles, the answer, what it cited, and how long it took."""
    answer = ask(item.question, item.history, settings, backend=backend)
    timings = answer.timings_ms
    retrieve_ms = timings.get("retrieval", 0.0)
    return {
        "id": item.id,
        "retrieved": [titles[paper_id] for paper_id in answer.ranked],
        "answer": answer.text,
        "cited": list(dict.fromkeys(citation.title for citation in answer.citations)),
        "abstained": answer.abstained,
        "latency_ms": {"retrieve": round(retrieve_ms, 2), "answer": timings["answer"], "total": timings["total"]},
    }


def evaluate(path: Path, out: Path | None, settings: Settings, backend: str | None = None) -> Summary:
    """Run every question of `path`, write results to `out` if given, and compute the summary."""
    questions = load_questions(path)
    titles = {paper.paper_id: paper.title for paper in catalog(settings)}
    results = [run_question(item, settings, backend, titles) for item in questions]
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    return summarise(questions, results)


def _norm(title: str) -> str:
    return " ".join(title.casefold().split())


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else 0.0


def summarise(questions: list[EvalQuestion], results: list[dict]) -> Summary:
    recall5, recall10, mrr, facts, precision, false_abstain, words = [], [], [], [], [], [], []
    abstain: dict[str, list[float]] = {"unanswerable": [], "offtopic": []}
    for item, result in zip(questions, results):
        gold = {_norm(t) for t in item.gold_titles}
        ranked = [_norm(t) for t in result["retrieved"][:RANKED_PAPERS]]
        if not gold:
            abstain["offtopic" if item.type == "offtopic" else "unanswerable"].append(float(result["abstained"]))
            continue
        false_abstain.append(float(result["abstained"]))
        if not result["abstained"]:
            words.append(len(result["answer"].split()))
        mrr.append(next((1.0 / rank for rank, t in enumerate(ranked, start=1) if t in gold), 0.0))
        if item.type == "multi":
            recall10.append(len(gold & set(ranked)) / len(gold))
        else:
            recall5.append(float(bool(gold & set(ranked[:5]))))
            precision.extend(float(_norm(t) in gold) for t in result["cited"])
        answer = result["answer"].casefold()
        facts.extend(float(any(s.casefold() in answer for s in spellings)) for spellings in item.must_contain)
    totals = [r["latency_ms"]["total"] for r in results]
    return Summary(
        questions=len(results),
        recall_at_5_single=_mean(recall5),
        recall_at_10_multi=_mean(recall10),
        mrr_at_10=_mean(mrr),
        fact_hit=_mean(facts),
        citation_precision_single=_mean(precision),
        abstention=_mean(abstain["unanswerable"] + abstain["offtopic"]),
        abstention_unanswerable=_mean(abstain["unanswerable"]),
        abstention_offtopic=_mean(abstain["offtopic"]),
        false_abstention=_mean(false_abstain),
        answer_words_p50=statistics.median(words) if words else None,
        latency_ms_p50=_percentile(totals, 0.5),
        latency_ms_p95=_percentile(totals, 0.95),
    )


def format_summary(summary: Summary) -> str:
    """One figure a line, aligned."""
    return "\n".join(f"{name:<28} {'n/a' if value is None else value}" for name, value in asdict(summary).items())
