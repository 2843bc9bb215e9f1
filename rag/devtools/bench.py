"""`papertrail bench`: ingest speed, warm `ask` stages against a raw floor, memory and cold start, per corpus size.

Each size runs in its own process, so its peak memory (ru_maxrss) is its own. Not a test: it prints figures.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent, EmbeddingStartEvent

from ..settings import Settings, child_environment

STAGES = ("embed_query", "dense", "bm25", "fusion", "answer", "total")
QUESTIONS_FILE = Path("eval") / "dev.jsonl"
"""Questions asked at every size, read from the checkout the benchmark runs in."""
N_QUESTIONS = 20
ROUNDS = 3
COLD_RUNS = 3
FULL_PAPERS_UP_TO = 10_000
"""Larger synthetic corpora keep one chunk per paper: at ~200 chunk writes/s on 2 shared cores, 100k papers
of ~3.8 chunks each would take half an hour to write, beyond the bench's 15-minute budget."""


class EmbeddingClock(BaseEventHandler):
    """Adds up the wall time between llama-index's embedding start and end events."""

    seconds: float = 0.0
    started: float | None = None

    def handle(self, event: Any, **kwargs: Any) -> None:
        """Start the clock on an embedding start event, stop it on the end event."""
        if isinstance(event, EmbeddingStartEvent):
            self.started = time.perf_counter()
        elif isinstance(event, EmbeddingEndEvent) and self.started is not None:
            self.seconds += time.perf_counter() - self.started
            self.started = None


def questions() -> list[str]:
    """The first questions of the dev set: realistic queries, the same at every size."""
    lines = QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:N_QUESTIONS]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 of `values`, rounded to hundredths."""
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": round(statistics.median(values), 2), "p95": round(cuts[18], 2)}


def ingest_seeds(settings: Settings) -> dict[str, float]:
    """Ingest the seeds into an empty store; papers/s and the share of the time spent embedding."""
    from ..api import ingest
    from ..engine import get_engine

    started = time.perf_counter()
    get_engine(settings)
    load_seconds = time.perf_counter() - started
    clock = EmbeddingClock()
    get_dispatcher().add_event_handler(clock)
    started = time.perf_counter()
    report = ingest(settings=settings)
    seconds = time.perf_counter() - started
    return {
        "model_load_seconds": round(load_seconds, 2),
        "papers": report.papers,
        "chunks": report.chunks_added,
        "seconds": round(seconds, 2),
        "papers_per_s": round(report.papers / seconds, 1),
        "embedding_share": round(clock.seconds / seconds, 3),
    }


def write_synthetic(settings: Settings, seeds_settings: Settings, size: int) -> dict[str, float]:
    """Fill the store with `size` synthetic papers derived from the seed store's chunks and vectors."""
    from ..engine import get_engine
    from .synthetic import seed_papers, synthetic_papers

    seeds = seed_papers(list(get_engine(seeds_settings).store.iter_nodes(embeddings=True)))
    store = get_engine(settings).store
    store.bump_generation()
    started = time.perf_counter()
    batch, chunks = [], 0
    for paper in synthetic_papers(seeds, size, max_chunks=None if size <= FULL_PAPERS_UP_TO else 1):
        batch.extend(paper)
        if len(batch) >= 5000:
            store.add(batch)
            chunks += len(batch)
            batch = []
    store.add(batch)
    chunks += len(batch)
    return {"papers": size, "chunks": chunks, "write_seconds": round(time.perf_counter() - started, 1)}


def warm_asks(settings: Settings) -> dict[str, Any]:
    """Per-stage p50/p95 of warm `ask` with the extractive backend, and the raw floor on the same questions."""
    from ..api import ask
    from ..engine import get_engine

    asked = questions()
    started = time.perf_counter()
    for question in asked:
        ask(question, settings=settings, backend="extractive")
    warmup = time.perf_counter() - started
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(ROUNDS):
        for question in asked:
            timings = ask(question, settings=settings, backend="extractive").timings_ms
            for stage in STAGES:
                samples[stage].append(timings.get(stage, 0.0))
    samples["retrieval"] = [
        sum(samples[stage][i] for stage in ("embed_query", "dense", "bm25", "fusion")) for i in range(len(asked) * ROUNDS)
    ]
    engine = get_engine(settings)
    retriever = engine.retriever()
    floor: dict[str, list[float]] = {"embed": [], "chroma": [], "bm25s": [], "total": []}
    for _ in range(ROUNDS):
        for question in asked:
            t0 = time.perf_counter()
            vector = retriever.embed_model.get_query_embedding(question)
            t1 = time.perf_counter()
            engine.store.raw_query(vector, retriever.bm25.candidates)
            t2 = time.perf_counter()
            retriever.bm25.raw_search(question)
            t3 = time.perf_counter()
            for key, seconds in (("embed", t1 - t0), ("chroma", t2 - t1), ("bm25s", t3 - t2), ("total", t3 - t0)):
                floor[key].append(seconds * 1000)
    return {
        "first_pass_seconds": round(warmup, 2),
        "stages_ms": {stage: percentiles(values) for stage, values in samples.items()},
        "floor_ms": {key: percentiles(values) for key, values in floor.items()},
    }


def measure(size: int, home: Path, seeds_home: Path) -> dict[str, Any]:
    """One corpus size, in this process: fill the store, build BM25, time warm asks, read peak memory."""
    from ..engine import get_engine

    settings = Settings(store={"home": home}, llm={"backend": "extractive"})
    result: dict[str, Any] = {"size": size}
    if home == seeds_home:
        result["ingest"] = ingest_seeds(settings)
    else:
        result["synthetic"] = write_synthetic(settings, Settings(store={"home": seeds_home}), size)
        started = time.perf_counter()
        get_engine(settings).retriever()
        result["bm25_build_seconds"] = round(time.perf_counter() - started, 1)
    store = get_engine(settings).store
    result["papers"], result["chunks"] = store.paper_count(), store.count()
    result["ask"] = warm_asks(settings)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["load_average"] = round(os.getloadavg()[0], 1)
    return result


def cold_start(home: Path) -> dict[str, Any]:
    """Wall time of `papertrail ask` in a new process (imports and model load included), and of `--help`."""
    command = str(Path(sys.executable).with_name("papertrail"))
    env = child_environment({"PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive"}, drop=["PAPERTRAIL_CHROMA_URL"])

    def wall(args: list[str]) -> float:
        started = time.perf_counter()
        done = subprocess.run([command, *args], env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"papertrail {args[0]} failed: {done.stderr.strip()[-300:]}")
        return round(time.perf_counter() - started, 2)

    return {
        "ask_seconds": [wall(["ask", questions()[0]]) for _ in range(COLD_RUNS)],
        "help_seconds": [wall(["--help"]) for _ in range(COLD_RUNS)],
    }


def machine() -> str:
    """Cores, CPU model, memory and Python: the README table names the machine it ran on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line),
        platform.processor(),
    )
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GB RAM, {platform.system()}, Python {platform.python_version()}"


def run(sizes: list[int], out_dir: Path) -> dict[str, Any]:
    """Measure the seeds and each synthetic size in its own process; print the table and write the JSON."""
    work = Path(tempfile.mkdtemp(prefix="papertrail-bench-"))
    seeds_home = work / "seeds"
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": []}
    try:
        for size in [0, *sizes]:
            home = seeds_home if size == 0 else work / str(size)
            print(f"bench: measuring {'the seeds' if size == 0 else f'{size:,} papers'} ...", file=sys.stderr, flush=True)
            out = work / f"result-{size}.json"
            args = [sys.executable, "-m", "rag.devtools.bench", str(size), str(home), str(seeds_home), str(out)]
            subprocess.run(args, check=True)
            results["sizes"].append(json.loads(out.read_text()))
            if size:
                shutil.rmtree(home, ignore_errors=True)
        print("bench: cold start ...", file=sys.stderr, flush=True)
        results["cold"] = cold_start(seeds_home)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nwritten to {path}")
    return results


def table(results: dict[str, Any]) -> str:
    """Markdown table of the figures, one column per corpus size."""
    sizes = results["sizes"]
    header = "| | " + " | ".join(f"{s['papers']:,} papers ({s['chunks']:,} chunks)" for s in sizes) + " |"
    rows = [header, "|---" * (len(sizes) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    for stage in (*STAGES[:-1], "retrieval", "total"):
        row(f"ask {stage} p50 / p95 ms", [f"{s['ask']['stages_ms'][stage]['p50']} / {s['ask']['stages_ms'][stage]['p95']}" for s in sizes])
    for part in ("embed", "chroma", "bm25s", "total"):
        row(f"raw floor {part} p50 / p95 ms", [f"{s['ask']['floor_ms'][part]['p50']} / {s['ask']['floor_ms'][part]['p95']}" for s in sizes])
    row(
        "retrieval / raw floor (p50)",
        [f"{s['ask']['stages_ms']['retrieval']['p50'] / s['ask']['floor_ms']['total']['p50']:.2f}x" for s in sizes],
    )
    row("search only: dense+bm25+fusion / chroma+bm25s (p50)", [f"{_search_ratio(s['ask']):.2f}x" for s in sizes])
    base = sizes[0]["ask"]["stages_ms"]["total"]["p50"]
    row("ask p50 / seeds ask p50", [f"{s['ask']['stages_ms']['total']['p50'] / base:.2f}x" for s in sizes])
    row("first 20 asks after load, s", [str(s["ask"]["first_pass_seconds"]) for s in sizes])
    row("peak memory MB", [str(s["peak_rss_mb"]) for s in sizes])
    row("1-min load average (2 cores, shared)", [str(s["load_average"]) for s in sizes])
    row(
        "fill the store",
        [
            f"ingest {s['ingest']['papers_per_s']} papers/s, {s['ingest']['embedding_share']:.0%} embedding"
            if "ingest" in s
            else f"write {s['synthetic']['write_seconds']} s, BM25 build {s['bm25_build_seconds']} s"
            for s in sizes
        ],
    )
    cold = results.get("cold")
    if cold:
        rows.append(
            f"\nCold `papertrail ask` (new process, seeds): {', '.join(map(str, cold['ask_seconds']))} s; "
            f"`papertrail --help`: {', '.join(map(str, cold['help_seconds']))} s."
        )
    return "\n".join(rows)


def _search_ratio(ask: dict[str, Any]) -> float:
    """Search overhead without the query embedding, whose time swings most on a shared machine."""
    ours = sum(ask["stages_ms"][stage]["p50"] for stage in ("dense", "bm25", "fusion"))
    return ours / (ask["floor_ms"]["chroma"]["p50"] + ask["floor_ms"]["bm25s"]["p50"])


if __name__ == "__main__":
    size_arg, home_arg, seeds_arg, out_arg = sys.argv[1:5]
    Path(out_arg).write_text(json.dumps(measure(int(size_arg), Path(home_arg), Path(seeds_arg))))
