"""What 100 watches add to a write of about 100 new papers, measured against the same write without watches in
the same run: `python -m rag.devtools.watch_cost [--rounds 3]`.

The seed pages of the first two listing days make the library; the pages of the last two are the write (their
new papers, and known ones relabelled), ingested into a fresh copy of the library in each round. The copy holds
100 watches (the 26 of eval/watches.jsonl, then library titles as topics), set aside while the write runs and
put back after it, so the write is timed without watches and the watches' look at its new papers (what the
write would run next) is timed on its own, in the same round: the ratio is (write + look) / write.
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

from .. import watch_store
from ..watching import after_write
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


def _round(base: Path, home: Path, pages: list[Path], questions: list[str]) -> tuple[float, float, int]:
    """Seconds of the write without watches, then of the watches' look at what it added; the matches found."""
    shutil.copytree(base, home)
    settings = rag.Settings(store={"home": home}, llm={"backend": "extractive"})
    for question in questions:
        rag.watches.add(question, settings=settings)
    kept = home.with_name(home.name + "-watches")
    (home / watch_store.FILE).rename(kept)
    started = time.perf_counter()
    rag.ingest(pages, settings)
    write = time.perf_counter() - started
    kept.rename(home / watch_store.FILE)
    started = time.perf_counter()
    found = after_write(settings)
    return write, time.perf_counter() - started, found


def run(rounds: int, seeds: Path, watch_file: Path) -> dict:
    """Per round: the write's seconds, the look's seconds; their medians, the ratio and the seconds added."""
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
        known = {paper.paper_id for paper in load_papers([library_dir])[1]}
        questions = _questions(watch_file, library_dir)
        timed = [_round(base, work / f"home-{index}", new, questions) for index in range(rounds)]
    write, look = statistics.median(t[0] for t in timed), statistics.median(t[1] for t in timed)
    return {
        "new_papers": len([paper for paper in load_papers(new)[1] if paper.paper_id not in known]),
        "watches": len(questions),
        "write_s": [round(t[0], 2) for t in timed],
        "look_s": [round(t[1], 2) for t in timed],
        "matches": [t[2] for t in timed],
        "added_s": round(look, 2),
        "ratio": round((write + look) / write, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="writes of each kind (medians are reported)")
    parser.add_argument("--watches", type=Path, default=Path("eval/watches.jsonl"), help="watch questions to start from")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.rounds, bundled("seeds"), args.watches), indent=1))


if __name__ == "__main__":
    main()
