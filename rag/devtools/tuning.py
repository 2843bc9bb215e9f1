"""`python -m rag.devtools.tuning eval/dev.jsonl`: fit the extractive scorer's weights by k-fold cross-validation.

Each question is retrieved and gated once, its top paper's sentences get their features once; then every
weight combination of a small grid re-scores them and the backend composes the answer. For each fold the
grid point with the best fact hit on the other folds is kept and scored on the held-out fold: the figures
reported are those held-out fact hits (mean and spread), and the weights chosen are the per-feature medians
of the fold winners, never a fit on the whole set.

`--measure proximity dense` adds candidate features the scorer does not ship, computed here for the
measurement: the question's IDF weight found within a few words of each other, and the embedding model's
question-sentence cosine. A candidate earns its place only if the held-out fact hit rises with it.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ..answer.extractive import WEIGHTS, Candidate, ExtractiveBackend, Question, Weights, rank, weigh
from ..answer.asked import read
from ..answer.decision import decide, rare_names
from ..answer.gate import refusal_reason
from ..engine import get_engine
from ..arguments import check_history
from ..settings import Settings
from ..text import stems
from .evaluation import EvalQuestion, load_questions

GRID = {
    "rare_terms": [1.0],
    "answer_type": [0.0, 0.8, 1.6, 3.2, 6.4],
    "background": [0.0, -0.2, -0.4, -0.8],
}
"""Weights tried; `rare_terms` is the unit the others are measured in."""
CANDIDATE_GRID = [0.0, 0.25, 0.5, 1.0]
"""Weights tried for each measured candidate feature."""
PROXIMITY_WINDOW = 8


@dataclass
class Case:
    """One dev question with facts to find: its reading, its top paper's sentences with features, the gate's verdict."""

    item: EvalQuestion
    question: Question
    candidates: list[Candidate]
    abstained: bool
    measured: dict[str, dict[int, float]] = field(default_factory=dict)
    """Candidate features by name: the value of each sentence (by its index in the abstract)."""


@dataclass(frozen=True)
class Setting:
    """One grid point: the scorer's weights and the weights of the measured candidate features."""

    weights: Weights
    extra: tuple[tuple[str, float], ...] = ()


@dataclass
class Fold:
    """One fold: the setting fit on the other folds, its fact hit there and on this fold."""

    setting: Setting
    train: float
    held_out: float


def load_cases(path: Path, settings: Settings, measure: list[str] = ()) -> list[Case]:
    """Every question of `path` with facts to find (`must_contain`), retrieved and gated as `ask` does."""
    search = get_engine(settings).retriever()
    backend = ExtractiveBackend(settings)
    cases = []
    for item in load_questions(path):
        if not item.must_contain:
            continue
        turns = check_history(item.history, settings.answer.history_turns)
        names = rare_names(read(item.question).names, search.bm25.idf)
        sources = search.search(backend.condense(item.question, turns), settings.retrieval.top_k, names=names).sources
        context = " ".join(turn.question for turn in turns)
        decision = decide(item.question, sources, search.bm25.idf, context=context)
        abstained = bool(refusal_reason(item.question) or decision.reason)
        question = weigh(item.question, search.bm25.idf, context)
        candidates = [] if abstained else rank(question, [decision.subject], WEIGHTS)
        cases.append(Case(item, question, candidates, abstained or not candidates))
    for name in measure:
        MEASURES[name](cases, settings)
    return cases


def _proximity(cases: list[Case], settings: Settings) -> None:
    """Share of the question's IDF weight found within `PROXIMITY_WINDOW` consecutive words of each sentence."""
    for case in cases:
        wanted = case.question.wanted
        values = {}
        for cand in case.candidates:
            words = stems(cand.sentence.text)
            positions = [i for i, stem in enumerate(words) if stem in wanted]
            windows = ({words[i] for i in positions if start <= i < start + PROXIMITY_WINDOW} for start in positions)
            best = max((sum(wanted[t] for t in window) for window in windows), default=0.0)
            values[cand.sentence.index] = best / case.question.total
        case.measured["proximity"] = values


def _dense(cases: list[Case], settings: Settings) -> None:
    """The embedding model's cosine between each question and each of its candidate sentences."""
    import numpy as np

    from ..embed import build_embedding

    model = build_embedding(settings)
    for case in cases:
        if not case.candidates:
            continue
        query = np.array(model.get_query_embedding(case.item.question))
        vectors = np.array(model.get_text_embedding_batch([c.sentence.text for c in case.candidates]))
        cosines = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
        case.measured["dense"] = {c.sentence.index: float(v) for c, v in zip(case.candidates, cosines)}


MEASURES: dict[str, Callable[[list[Case], Settings], None]] = {"proximity": _proximity, "dense": _dense}


def _score(case: Case, cand: Candidate, setting: Setting) -> float:
    extra = sum(weight * case.measured[name].get(cand.sentence.index, 0.0) for name, weight in setting.extra)
    return cand.features.score(setting.weights) + extra


def hits(case: Case, setting: Setting, settings: Settings) -> tuple[list[float], float]:
    """Whether the answer under `setting` holds each asked fact, and 1/rank of the best sentence holding one."""
    if case.abstained:
        return [0.0] * len(case.item.must_contain), 0.0
    scored = sorted(
        (replace(c, score=_score(case, c, setting)) for c in case.candidates), key=lambda c: c.score, reverse=True
    )
    text = ExtractiveBackend(settings, setting.weights).answer_one(case.question, scored).text.casefold()
    found = [float(any(s.casefold() in text for s in group)) for group in case.item.must_contain]
    holding = (rank for rank, c in enumerate(scored, start=1) if _holds(c.sentence.text, case.item.must_contain))
    return found, 1.0 / next(holding, float("inf"))


def _holds(text: str, facts: list[list[str]]) -> bool:
    return any(any(s.casefold() in text.casefold() for s in group) for group in facts)


def fact_hit(cases: list[Case], setting: Setting, settings: Settings) -> tuple[float, float]:
    """Share of asked facts found in the answers, and the mean reciprocal rank of the first sentence holding one."""
    found, ranks = [], []
    for case in cases:
        case_found, rank_of_fact = hits(case, setting, settings)
        found.extend(case_found)
        ranks.append(rank_of_fact)
    return statistics.fmean(found) if found else 0.0, statistics.fmean(ranks) if ranks else 0.0


def grid(measure: list[str]) -> list[Setting]:
    """Every setting of the grid, with the measured candidate features' weights."""
    names = [f.name for f in fields(Weights)]
    points = [Weights(**dict(zip(names, values))) for values in itertools.product(*(GRID[n] for n in names))]
    extras = [tuple(zip(measure, values)) for values in itertools.product(CANDIDATE_GRID, repeat=len(measure))]
    return [Setting(w, extra) for w in points for extra in extras]


def fit(cases: list[Case], points: list[Setting], settings: Settings) -> tuple[Setting, float]:
    """The setting with the best fact hit on `cases`; ties go to the one ranking fact-holding sentences higher,
    then to the smallest weights."""

    def key(setting: Setting) -> tuple[float, float, float]:
        found, rank_of_fact = fact_hit(cases, setting, settings)
        size = sum(abs(getattr(setting.weights, f.name)) for f in fields(Weights)) + sum(abs(w) for _, w in setting.extra)
        return round(found, 6), round(rank_of_fact, 6), -size

    best = max(points, key=key)
    return best, fact_hit(cases, best, settings)[0]


def cross_validate(cases: list[Case], k: int, seed: int, measure: list[str], settings: Settings) -> list[Fold]:
    """Fit on k-1 folds, score on the held-out one, for each of the k folds."""
    order = list(range(len(cases)))
    random.Random(seed).shuffle(order)
    points = grid(measure)
    folds = []
    for fold in range(k):
        held = [cases[i] for i in order[fold::k]]
        train = [cases[i] for j, i in enumerate(order) if j % k != fold]
        setting, train_hit = fit(train, points, settings)
        folds.append(Fold(setting, train_hit, fact_hit(held, setting, settings)[0]))
    return folds


def chosen(folds: list[Fold]) -> Setting:
    """The per-feature median of the fold winners."""
    weights = {f.name: statistics.median(getattr(fold.setting.weights, f.name) for fold in folds) for f in fields(Weights)}
    names = [name for name, _ in folds[0].setting.extra]
    extra = tuple((name, statistics.median(dict(fold.setting.extra)[name] for fold in folds)) for name in names)
    return Setting(Weights(**weights), extra)


def report(folds: list[Fold], pick: Setting, whole: float, shipped: float) -> str:
    """The fold table, the held-out mean and spread, the chosen weights and their fact hit on the whole set."""
    lines = ["fold  train  held-out  weights"]
    for number, fold in enumerate(folds, start=1):
        lines.append(f"{number:>4}  {fold.train:.3f}  {fold.held_out:.3f}     {describe(fold.setting)}")
    held = [fold.held_out for fold in folds]
    lines.append(
        f"held-out fact hit: mean {statistics.fmean(held):.3f}, spread (sd) {statistics.pstdev(held):.3f}, "
        f"range {min(held):.3f}-{max(held):.3f}"
    )
    lines.append(f"chosen (per-feature median of the fold winners): {describe(pick)}")
    lines.append(f"whole-set fact hit with the chosen weights: {whole:.3f}; with the shipped WEIGHTS: {shipped:.3f}")
    return "\n".join(lines)


def describe(setting: Setting) -> str:
    """The setting's weights as name=value pairs."""
    pairs = [(f.name, getattr(setting.weights, f.name)) for f in fields(Weights)] + list(setting.extra)
    return ", ".join(f"{name}={value:g}" for name, value in pairs)


def main(argv: list[str] | None = None) -> int:
    """Command line: the question file, the number of folds, the shuffle seed, the candidate features to measure."""
    parser = argparse.ArgumentParser(prog="python -m rag.devtools.tuning", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="JSONL questions to fit on (eval/dev.jsonl; never eval/dev2.jsonl)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=9, help="seed of the shuffle that deals questions into folds")
    parser.add_argument("--measure", nargs="*", default=[], choices=sorted(MEASURES), help="candidate features to add")
    args = parser.parse_args(argv)
    settings = Settings(llm={"backend": "extractive"})
    cases = load_cases(args.file, settings, args.measure)
    folds = cross_validate(cases, args.folds, args.seed, args.measure, settings)
    pick = chosen(folds)
    print(f"{len(cases)} questions with facts, {sum(len(c.item.must_contain) for c in cases)} facts, {args.folds} folds")
    print(report(folds, pick, fact_hit(cases, pick, settings)[0], fact_hit(cases, Setting(WEIGHTS), settings)[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
