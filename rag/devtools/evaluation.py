"""`papertrail eval`: run a question set through `ask`, write per-question results, summarise the figures.

Figures are given for the whole set and per question type (the set's `type` field: lookup, numeric,
natural, multi, invented, unanswerable, offtopic...), so a family the answerer handles badly shows up.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
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


NO_ANSWER = ("unanswerable", "invented", "offtopic")
"""Question types whose right answer is a decline."""


@dataclass
class Family:
    """The figures of one question type."""

    questions: int
    declined: float
    """Share declined: the aim for invented, unanswerable and off-topic questions, a false decline for the rest."""
    right_paper: float | None
    """Share answered with the lead citation from a gold paper (single-paper questions)."""
    fact_hit: float | None
    list_recall: float | None
    """Share of the gold papers the answer cites (multi-paper questions)."""
    list_precision: float | None
    """Share of the cited papers that are gold (multi-paper questions)."""


@dataclass
class Summary:
    """The figures `papertrail eval` prints; None where the set has no question of that kind."""

    questions: int
    recall_at_5_single: float | None
    recall_at_10_multi: float | None
    mrr_at_10: float | None
    fact_hit: float | None
    lead_fact_hit: float | None
    """Share of a single-paper question's facts found in the answer's lead (its first paragraph): the answer first."""
    citation_precision_single: float | None
    abstention: float | None
    """Share of abstentions on every question without an answer: unanswerable and off-topic together."""
    abstention_unanswerable: float | None
    abstention_offtopic: float | None
    false_abstention: float | None
    answer_words_p50: float | None
    right_paper: float | None
    """Answerable single-paper questions answered with the lead citation from a gold paper."""
    list_recall: float | None
    list_precision: float | None
    latency_ms_p50: float
    latency_ms_p95: float
    by_type: dict[str, Family]


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


def _found(facts: list[list[str]], text: str) -> list[float]:
    """1.0 for each fact one of whose spellings `text` (case-folded) holds, else 0.0."""
    return [float(any(spelling.casefold() in text for spelling in spellings)) for spellings in facts]


@dataclass
class _Tally:
    """The per-question values one group of questions collects."""

    recall5: list[float] = field(default_factory=list)
    recall10: list[float] = field(default_factory=list)
    mrr: list[float] = field(default_factory=list)
    facts: list[float] = field(default_factory=list)
    lead_facts: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    declined: list[float] = field(default_factory=list)
    right: list[float] = field(default_factory=list)
    list_recall: list[float] = field(default_factory=list)
    list_precision: list[float] = field(default_factory=list)
    words: list[float] = field(default_factory=list)

    def add(self, item: EvalQuestion, result: dict) -> None:
        """Count one question's result."""
        self.declined.append(float(result["abstained"]))
        gold = {_norm(t) for t in item.gold_titles}
        if not gold:
            return
        ranked = [_norm(t) for t in result["retrieved"][:RANKED_PAPERS]]
        cited = [_norm(t) for t in result["cited"]]
        if not result["abstained"]:
            self.words.append(len(result["answer"].split()))
        self.mrr.append(next((1.0 / rank for rank, t in enumerate(ranked, start=1) if t in gold), 0.0))
        if item.type == "multi":
            self.recall10.append(len(gold & set(ranked)) / len(gold))
            self.list_recall.append(len(gold & set(cited)) / len(gold))
            if cited:
                self.list_precision.append(len(gold & set(cited)) / len(cited))
        else:
            self.recall5.append(float(bool(gold & set(ranked[:5]))))
            self.precision.extend(float(t in gold) for t in cited)
            self.right.append(float(bool(cited) and cited[0] in gold))
        answer = result["answer"].casefold()
        self.facts.extend(_found(item.must_contain, answer))
        if item.type != "multi":
            self.lead_facts.extend(_found(item.must_contain, answer.split("\n\n")[0]))

    def family(self) -> Family:
        return Family(
            questions=len(self.declined),
            declined=_mean(self.declined) or 0.0,
            right_paper=_mean(self.right),
            fact_hit=_mean(self.facts),
            list_recall=_mean(self.list_recall),
            list_precision=_mean(self.list_precision),
        )


def summarise(questions: list[EvalQuestion], results: list[dict]) -> Summary:
    whole = _Tally()
    by_type: dict[str, _Tally] = {}
    for item, result in zip(questions, results):
        whole.add(item, result)
        by_type.setdefault(item.type, _Tally()).add(item, result)
    answerless = {kind: by_type[kind].declined for kind in NO_ANSWER if kind in by_type}
    unanswerable = answerless.get("unanswerable", []) + answerless.get("invented", [])
    false_abstain = [v for kind, tally in by_type.items() if kind not in NO_ANSWER for v in tally.declined]
    totals = [r["latency_ms"]["total"] for r in results]
    return Summary(
        questions=len(results),
        recall_at_5_single=_mean(whole.recall5),
        recall_at_10_multi=_mean(whole.recall10),
        mrr_at_10=_mean(whole.mrr),
        fact_hit=_mean(whole.facts),
        lead_fact_hit=_mean(whole.lead_facts),
        citation_precision_single=_mean(whole.precision),
        abstention=_mean(unanswerable + answerless.get("offtopic", [])),
        abstention_unanswerable=_mean(unanswerable),
        abstention_offtopic=_mean(answerless.get("offtopic", [])),
        false_abstention=_mean(false_abstain),
        answer_words_p50=statistics.median(whole.words) if whole.words else None,
        right_paper=_mean(whole.right),
        list_recall=_mean(whole.list_recall),
        list_precision=_mean(whole.list_precision),
        latency_ms_p50=_percentile(totals, 0.5),
        latency_ms_p95=_percentile(totals, 0.95),
        by_type={kind: tally.family() for kind, tally in sorted(by_type.items())},
    )


def format_summary(summary: Summary) -> str:
    """One figure a line, aligned, then a table of the figures per question type."""
    figures = asdict(summary)
    families = figures.pop("by_type")
    lines = [f"{name:<28} {'n/a' if value is None else value}" for name, value in figures.items()]
    columns = list(Family.__dataclass_fields__)
    lines += ["", f"{'type':<14}" + "".join(f"{c:>15}" for c in columns)]
    for kind, family in families.items():
        cells = ("n/a" if family[c] is None else f"{family[c]:g}" for c in columns)
        lines.append(f"{kind:<14}" + "".join(f"{cell:>15}" for cell in cells))
    return "\n".join(lines)
