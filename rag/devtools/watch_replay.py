"""Replay the seeds day by day with the watches of eval/watches.jsonl: per-watch precision and recall, and the
match bounds (`watch.min_score`, `watch.coverage_weight`) chosen by cross-validation over the watches.

`python -m rag.devtools.watch_replay eval/watches.jsonl [--out results.json]`. The seed pages are ingested in
listing-date order, one day per ingest, into a fresh store that already holds the watches, so each watch runs
on each day's new papers exactly as after a sync. The replay records every paper that passes ask's relevance
decision among each watch's best `watch.candidates` (`watch.min_score` at its loosest), with its cosine, coverage
and background, so any bounds can be scored afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import rag

from ..parse import load_papers
from ..settings import bundled

SCORE_GRID = [round(-0.1 + 0.01 * step, 2) for step in range(81)]
WEIGHT_GRID = [round(0.05 * step, 2) for step in range(21)]
FOLDS = 5
REPEATS = 4
PRECISION_FLOOR = 0.82
"""Precision first: the bounds chosen give the best mean recall among those with at least this mean precision on
the watches they are chosen on (the target is 0.8 on unseen watches). Picked among 0.78-0.88 by the same
cross-validation (docs/watches.md), so the held-out figures are slightly optimistic."""


@dataclass(frozen=True)
class Seen:
    """One paper that passed the gate for one watch during the replay, with the two figures the bounds apply to."""

    title: str
    day: str
    dense_score: float
    coverage: float
    background: float


@dataclass(frozen=True)
class Scored:
    """One watch's figures under some bounds (precision None when it matched nothing)."""

    precision: float | None
    recall: float
    matched: int


def load(path: Path, seeds: Path) -> list[dict]:
    """The watches, each with the exact seed titles it should match (a title not in the seeds is an error)."""
    _, papers = load_papers([seeds])
    titles = {paper.title for paper in papers}
    watches = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for watch in watches:
        unknown = [title for title in watch["titles"] if title not in titles]
        if unknown:
            raise rag.BadInputError(f"{path}: {watch['id']} names titles the seeds lack: {unknown}")
    return watches


def replay(watches: list[dict], seeds: Path, home: Path) -> dict[str, list[Seen]]:
    """Ingest the seed pages one listing day at a time into `home` holding the watches; what each watch matched."""
    settings = rag.Settings(
        store={"home": home, "seeds_dir": seeds},
        llm={"backend": "extractive"},
        watch={"min_score": -2.0},
    )
    for watch in watches:
        rag.watches.add(watch["watch"], owner=f"eval:{watch['id']}", settings=settings)
    days: dict[str, list[Path]] = defaultdict(list)
    for page in sorted(seeds.glob("*.txt")):
        days[load_papers([page])[1][0].dates[0]].append(page)
    first_day: dict[str, str] = {}
    for day in sorted(days, key=rag.listing_date_key):
        for paper in load_papers(days[day])[1]:
            first_day.setdefault(paper.title, day)
        rag.ingest(days[day], settings)
    return {
        watch["id"]: [
            Seen(match.paper.title, first_day.get(match.paper.title, "?"), match.dense_score, match.coverage, match.background)
            for match in rag.watches.matches(f"eval:{watch['id']}", limit=10_000, settings=settings)
        ]
        for watch in watches
    }


def score(seen: list[Seen], gold: set[str], min_score: float, weight: float) -> Scored:
    """Precision and recall of one watch under the bounds (`watch.min_score`, `watch.coverage_weight`)."""
    matched = {
        item.title
        for item in seen
        if rag.watches.match_score(item.dense_score, item.coverage, item.background, weight) >= min_score
    }
    hits = len(matched & gold)
    return Scored(hits / len(matched) if matched else None, hits / len(gold), len(matched))


def mean_figures(
    results: dict[str, list[Seen]], gold: dict[str, set[str]], ids: list[str], min_score: float, weight: float
) -> tuple[float, float]:
    """Mean precision (over the watches that matched something) and mean recall (over all) of the watches `ids`."""
    scored = [score(results[i], gold[i], min_score, weight) for i in ids]
    precisions = [s.precision for s in scored if s.precision is not None]
    return (statistics.fmean(precisions) if precisions else 0.0), statistics.fmean(s.recall for s in scored)


def choose(results: dict[str, list[Seen]], gold: dict[str, set[str]], ids: list[str], weights: list[float]) -> tuple[float, float]:
    """The bounds with the best mean recall over the watches `ids` among those reaching PRECISION_FLOOR mean
    precision (the most precise when none does); ties go to the higher bound."""
    figures = [(mean_figures(results, gold, ids, t, w), t, w) for t in SCORE_GRID for w in weights]
    floor = [f for f in figures if f[0][0] >= PRECISION_FLOOR]
    _, min_score, weight = max(floor, key=lambda f: (f[0][1], f[0][0], f[1])) if floor else max(figures, key=lambda f: (f[0][0], f[1]))
    return min_score, weight


def cross_validate(results: dict[str, list[Seen]], gold: dict[str, set[str]], weights: list[float]) -> dict:
    """Bounds chosen on k-1 folds of watches, scored on the held-out fold; REPEATS shuffles of FOLDS folds."""
    ids = sorted(results)
    held: list[tuple[float, float]] = []
    chosen: list[tuple[float, float]] = []
    for repeat in range(REPEATS):
        order = ids[:]
        random.Random(repeat).shuffle(order)
        for fold in range(FOLDS):
            test = order[fold::FOLDS]
            bounds = choose(results, gold, [i for i in order if i not in test], weights)
            chosen.append(bounds)
            held.append(mean_figures(results, gold, test, *bounds))
    precisions, recalls = [p for p, _ in held], [r for _, r in held]
    return {
        "precision": statistics.fmean(precisions),
        "precision_sd": statistics.stdev(precisions),
        "precision_min": min(precisions),
        "recall": statistics.fmean(recalls),
        "recall_sd": statistics.stdev(recalls),
        "recall_min": min(recalls),
        "bounds_chosen": sorted(set(chosen)),
    }


def report(watches: list[dict], results: dict[str, list[Seen]]) -> dict:
    """The figures: bounds chosen on all watches, per-watch figures under them, and the cross-validated means."""
    gold = {watch["id"]: set(watch["titles"]) for watch in watches}
    ids = sorted(results)
    min_score, weight = choose(results, gold, ids, WEIGHT_GRID)
    rows = []
    for watch in watches:
        scored = score(results[watch["id"]], gold[watch["id"]], min_score, weight)
        rows.append({"id": watch["id"], "watch": watch["watch"], "gold": len(gold[watch["id"]]), "matched": scored.matched,
                     "precision": scored.precision, "recall": scored.recall})
    precision, recall = mean_figures(results, gold, ids, min_score, weight)
    return {
        "bounds": {"min_score": min_score, "coverage_weight": weight},
        "mean_precision": precision,
        "mean_recall": recall,
        "silent": sum(row["precision"] is None for row in rows),
        "watches": rows,
        "cross_validated": cross_validate(results, gold, WEIGHT_GRID),
        "cross_validated_cosine_only": cross_validate(results, gold, [0.0]),
    }


def markdown(figures: dict) -> str:
    """The per-watch table and the summary lines, as docs/watches.md shows them."""
    lines = ["| watch | gold | matched | precision | recall |", "|---|---|---|---|---|"]
    for row in figures["watches"]:
        precision = "—" if row["precision"] is None else f"{row['precision']:.2f}"
        lines.append(f"| {row['id']} {row['watch']} | {row['gold']} | {row['matched']} | {precision} | {row['recall']:.2f} |")
    cv, dense_only = figures["cross_validated"], figures["cross_validated_cosine_only"]
    bounds = figures["bounds"]
    lines += [
        "",
        f"Bounds chosen on all watches: min_score {bounds['min_score']}, coverage_weight {bounds['coverage_weight']}; "
        f"mean precision {figures['mean_precision']:.3f} (over the {len(figures['watches']) - figures['silent']} watches "
        f"that matched something), mean recall {figures['mean_recall']:.3f}.",
        f"Held out ({FOLDS}-fold x {REPEATS}): precision {cv['precision']:.3f} (sd {cv['precision_sd']:.3f}, "
        f"lowest fold {cv['precision_min']:.3f}), recall {cv['recall']:.3f} (sd {cv['recall_sd']:.3f}, lowest fold "
        f"{cv['recall_min']:.3f}); bounds chosen per fold: {cv['bounds_chosen']}.",
        f"Without coverage (cosine above background only), held out: precision {dense_only['precision']:.3f} "
        f"(sd {dense_only['precision_sd']:.3f}), "
        f"recall {dense_only['recall']:.3f} (sd {dense_only['recall_sd']:.3f}).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the watches (eval/watches.jsonl)")
    parser.add_argument("--seeds", type=Path, default=bundled("seeds"), help="the seed pages to replay")
    parser.add_argument("--out", type=Path, help="write the figures and every recorded match here (JSON)")
    args = parser.parse_args(argv)
    watches = load(args.file, args.seeds)
    with tempfile.TemporaryDirectory(prefix="papertrail-replay-") as home:
        results = replay(watches, args.seeds, Path(home))
    figures = report(watches, results)
    if args.out:
        recorded = {key: [seen.__dict__ for seen in value] for key, value in results.items()}
        args.out.write_text(json.dumps({**figures, "recorded": recorded}, indent=1), encoding="utf-8")
    print(markdown(figures))


if __name__ == "__main__":
    main()
