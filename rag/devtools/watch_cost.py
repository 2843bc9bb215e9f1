"""What 100 watches add to a write of about 100 new papers, measured against the same write without watches in
the same run: `python -m rag.devtools.watch_cost [--rounds 3]`.

The seed pages of the first two listing days make the library; the pages of the last two (104 papers) are the
write, ingested into fresh copies of it, alternately with and without 100 watches (the 26 of eval/watches.jsonl
and one per library paper's title for the rest), so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import rag

from ..parse import load_papers
from ..settings import bundled

WATCHES = 100


def _pages_by_day(seeds: Path) -> list[list[Path]]:
    days: dict[str, list[Path]] = {}
    for page in sorted(seeds.glob("*.txt")):
        days.setdefault(load_papers([page])[1][0].dates[0], []).append(page)
    return [days[day] for day in sorted(days, key=rag.listing_date_key)]


def _questions(watch_file: Path, library: Path) -> list[str]:
    questions = [json.loads(line)["watch"] for line in watch_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    titles = [paper.title for paper in load_papers([library])[1]]
    return (questions + titles)[:WATCHES]


def _write(base: Path, work: Path, pages: list[Path], questions: list[str]) -> float:
    """Seconds to ingest `pages` into a fresh copy of `base` holding `questions` as watches."""
    home = work / f"home-{len(questions)}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(base, home)
    settings = rag.Settings(store={"home": home}, llm={"backend": "extractive"})
    for question in questions:
        rag.watches.add(question, settings=settings)
    started = time.perf_counter()
    rag.ingest(pages, settings)
    return time.perf_counter() - started


def run(rounds: int, seeds: Path, watch_file: Path) -> dict:
    """Median seconds of the write with and without the watches, their difference and ratio."""
    days = _pages_by_day(seeds)
    library, new = [p for day in days[:2] for p in day], [p for day in days[2:] for p in day]
    with tempfile.TemporaryDirectory(prefix="papertrail-watch-cost-") as folder:
        work = Path(folder)
        base = work / "base"
        library_dir = work / "library"
        library_dir.mkdir()
        for page in library:
            shutil.copy(page, library_dir / page.name)
        rag.ingest([library_dir], rag.Settings(store={"home": base}))
        questions = _questions(watch_file, library_dir)
        without, with_watches = [], []
        for _ in range(rounds):
            without.append(_write(base, work, new, []))
            with_watches.append(_write(base, work, new, questions))
    plain, watched = statistics.median(without), statistics.median(with_watches)
    return {
        "new_papers": len(load_papers(new)[1]),
        "watches": len(questions),
        "without_s": [round(t, 2) for t in without],
        "with_s": [round(t, 2) for t in with_watches],
        "added_s": round(watched - plain, 2),
        "ratio": round(watched / plain, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="writes of each kind (medians are reported)")
    parser.add_argument("--watches", type=Path, default=Path("eval/watches.jsonl"), help="watch questions to start from")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.rounds, bundled("seeds"), args.watches), indent=1))


if __name__ == "__main__":
    main()
