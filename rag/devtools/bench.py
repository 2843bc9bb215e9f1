"""`papertrail bench`: every figure of the speed targets against its floor, measured in one run.

The seeds are ingested into an empty store (against the raw embedding of the same chunk texts), then
synthetic corpora (every chunk of every paper) are written straight into temporary stores. Each size
runs in its own process, so its peak memory (ru_maxrss) is its own. Not a test: it prints figures.
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

from ..settings import Settings, child_environment

STAGES = ("embed_query", "dense", "bm25", "fusion", "retrieval", "answer", "total")
"""Timings of one `ask`; BM25 runs beside the query embedding, and retrieval is the wall time of all four before it."""
QUESTIONS_FILE = Path("eval") / "dev.jsonl"
"""Questions asked at every size, read from the checkout the benchmark runs in."""
N_QUESTIONS = 20
ROUNDS = 3
COLD_RUNS = 3


def questions() -> list[str]:
    """The first questions of the dev set: realistic queries, the same at every size."""
    lines = QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:N_QUESTIONS]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 of `values`, rounded to hundredths."""
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": round(statistics.median(values), 2), "p95": round(cuts[18], 2)}


def ingest_seeds(settings: Settings) -> dict[str, float]:
    """Ingest the seeds into an empty store, then embed the same chunk texts with the bare model, and re-ingest."""
    from ..api import ingest
    from ..chunk import chunk_paper, embed_text
    from ..embed import build_embedder
    from ..parse import load_papers

    started = time.perf_counter()
    embedder = build_embedder(settings)
    embedder.query("warm up")
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = ingest(settings=settings)
    seconds = time.perf_counter() - started
    _, papers = load_papers([settings.store.seeds_dir])
    retrieval = settings.retrieval
    texts = [
        embed_text(paper.title, chunk.text, retrieval.title_prefix)
        for paper in papers
        for chunk in chunk_paper(paper, retrieval.chunk_tokens, retrieval.title_prefix)
    ]
    started = time.perf_counter()
    embedder.texts(texts)
    raw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest(settings=settings)
    reingest_seconds = time.perf_counter() - started
    assert again.unchanged == report.papers, again
    return {
        "model_load_seconds": round(load_seconds, 2),
        "papers": report.papers,
        "chunks": report.chunks_added,
        "seconds": round(seconds, 2),
        "raw_embedding_seconds": round(raw_seconds, 2),
        "papers_per_s": round(report.papers / seconds, 1),
        "reingest_seconds": round(reingest_seconds, 3),
    }


def write_synthetic(settings: Settings, seeds_settings: Settings, size: int) -> dict[str, float]:
    """Fill the store with `size` synthetic papers (every chunk) derived from the seed store's chunks and vectors."""
    import numpy as np

    from ..store import Store
    from .synthetic import seed_papers, synthetic_papers

    seeds = seed_papers(Store(seeds_settings))
    store = Store(settings)
    batch_rows: list = []
    batch_vectors: list = []
    chunks, write_seconds = 0, 0.0
    limit = min(settings.store.write_batch, store.max_batch)

    def flush() -> float:
        started = time.perf_counter()
        store.write(batch_rows, np.vstack(batch_vectors))
        return time.perf_counter() - started

    for rows, vectors in synthetic_papers(seeds, size):
        if batch_rows and len(batch_rows) + len(rows) > limit:
            write_seconds += flush()
            chunks += len(batch_rows)
            batch_rows, batch_vectors = [], []
        batch_rows.extend(rows)
        batch_vectors.append(vectors)
    write_seconds += flush()
    chunks += len(batch_rows)
    store.bump_generation()
    return {"papers": size, "chunks": chunks, "write_seconds": round(write_seconds, 1), "chunks_per_s": round(chunks / write_seconds)}


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
    search = get_engine(settings).retriever()
    floor: dict[str, list[float]] = {"embed": [], "chroma": [], "bm25s": [], "total": []}
    for _ in range(ROUNDS):
        for question in asked:
            t0 = time.perf_counter()
            vector = search.embedder.query(question)
            t1 = time.perf_counter()
            search.store.raw_query(vector, search.candidates)
            t2 = time.perf_counter()
            search.bm25.raw_search(question, search.candidates)
            t3 = time.perf_counter()
            for key, seconds in (("embed", t1 - t0), ("chroma", t2 - t1), ("bm25s", t3 - t2), ("total", t3 - t0)):
                floor[key].append(seconds * 1000)
    return {
        "first_pass_seconds": round(warmup, 2),
        "stages_ms": {stage: percentiles(values) for stage, values in samples.items()},
        "floor_ms": {key: percentiles(values) for key, values in floor.items()},
    }


def measure(size: int, home: Path, seeds_home: Path) -> dict[str, Any]:
    """One corpus size, in this process: fill the store, build and load the index, time warm asks, read peak memory."""
    from ..engine import Engine, get_engine

    settings = Settings(store={"home": home}, llm={"backend": "extractive"})
    result: dict[str, Any] = {"size": size}
    if home == seeds_home:
        result["ingest"] = ingest_seeds(settings)
    else:
        result["synthetic"] = write_synthetic(settings, Settings(store={"home": seeds_home}), size)
        started = time.perf_counter()
        get_engine(settings).retriever()
        result["bm25_build_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    Engine(settings).retriever()
    result["load_seconds"] = round(time.perf_counter() - started, 2)
    store = get_engine(settings).store
    result["papers"], result["chunks"] = store.paper_count(), store.count()
    result["ask"] = warm_asks(settings)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["load_average"] = round(os.getloadavg()[0], 1)
    return result


def cold_start(home: Path) -> dict[str, Any]:
    """Wall time of `papertrail ask` and of a re-ingest in a new process, and of `--help`."""
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
        "reingest_seconds": [wall(["ingest"]) for _ in range(COLD_RUNS)],
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
    """Measure the seeds and each synthetic size in its own process; print the tables and write the JSON."""
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
    print(targets(results))
    print()
    print(table(results))
    print(f"\nwritten to {path}")
    return results


def targets(results: dict[str, Any]) -> str:
    """The issue's table: each figure as a ratio (or absolute bound) measured in this run, beside its target."""
    sizes = results["sizes"]
    seeds, largest = sizes[0], sizes[-1]
    ask, ingest = seeds["ask"], seeds["ingest"]
    cold = results["cold"]
    p50 = lambda part: part["p50"]  # noqa: E731
    writes = [s["synthetic"]["chunks_per_s"] for s in sizes[1:]]
    rows = [
        ("warm `ask` p50 / embedding the same question alone", p50(ask["stages_ms"]["total"]) / p50(ask["floor_ms"]["embed"]), 2.0, "x"),
        *(
            (f"dense search / raw `collection.query` ({s['papers']:,} papers)", p50(s["ask"]["stages_ms"]["dense"]) / p50(s["ask"]["floor_ms"]["chroma"]), 2.0, "x")
            for s in sizes
        ),
        *(
            (f"BM25 / raw `bm25s` retrieve ({s['papers']:,} papers)", p50(s["ask"]["stages_ms"]["bm25"]) / p50(s["ask"]["floor_ms"]["bm25s"]), 2.0, "x")
            for s in sizes
        ),
        ("cold `papertrail ask` (new process, seeds), median s", statistics.median(cold["ask_seconds"]), 4.0, "s"),
        ("full ingest of the seeds / raw embedding of the same chunk texts", ingest["seconds"] / ingest["raw_embedding_seconds"], 1.3, "x"),
        ("re-ingest of unchanged seeds, in process, s", ingest["reingest_seconds"], 0.5, "s"),
        ("re-ingest of unchanged seeds, `papertrail ingest` (new process), median s", statistics.median(cold["reingest_seconds"]), 0.5, "s"),
        (f"`ask` p50 at {largest['papers']:,} papers / at the seeds", p50(largest["ask"]["stages_ms"]["total"]) / p50(ask["stages_ms"]["total"]), 1.5, "x"),
    ]
    lines = ["| figure | measured | target | met |", "|---|---|---|---|"]
    for label, value, bound, unit in rows:
        lines.append(f"| {label} | {value:.2f}{unit} | ≤ {bound}{unit} | {'yes' if value <= bound else 'NO'} |")
    if writes:
        lowest = min(writes)
        lines.append(f"| store writes, chunks/s (lowest of the synthetic fills) | {lowest:,} | ≥ 1,000 | {'yes' if lowest >= 1000 else 'NO'} |")
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    """Markdown table of the figures, one column per corpus size."""
    sizes = results["sizes"]
    header = "| | " + " | ".join(f"{s['papers']:,} papers ({s['chunks']:,} chunks)" for s in sizes) + " |"
    rows = [header, "|---" * (len(sizes) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    for stage in STAGES:
        row(f"ask {stage} p50 / p95 ms", [f"{s['ask']['stages_ms'][stage]['p50']} / {s['ask']['stages_ms'][stage]['p95']}" for s in sizes])
    for part in ("embed", "chroma", "bm25s", "total"):
        row(f"raw floor {part} p50 / p95 ms", [f"{s['ask']['floor_ms'][part]['p50']} / {s['ask']['floor_ms'][part]['p95']}" for s in sizes])
    row("first 20 asks after load, s", [str(s["ask"]["first_pass_seconds"]) for s in sizes])
    row("load catalog + BM25 from cache (new engine), s", [str(s["load_seconds"]) for s in sizes])
    row("peak memory MB", [str(s["peak_rss_mb"]) for s in sizes])
    row("1-min load average (2 cores, shared)", [str(s["load_average"]) for s in sizes])
    row(
        "fill the store",
        [
            f"ingest {s['ingest']['seconds']} s ({s['ingest']['papers_per_s']} papers/s; raw embedding "
            f"{s['ingest']['raw_embedding_seconds']} s)"
            if "ingest" in s
            else f"write {s['synthetic']['write_seconds']} s ({s['synthetic']['chunks_per_s']:,} chunks/s), "
            f"catalog + BM25 build {s['bm25_build_seconds']} s"
            for s in sizes
        ],
    )
    cold = results["cold"]
    rows.append(
        f"\nCold `papertrail ask` (new process, seeds): {', '.join(map(str, cold['ask_seconds']))} s; re-ingest "
        f"`papertrail ingest`: {', '.join(map(str, cold['reingest_seconds']))} s; `papertrail --help`: "
        f"{', '.join(map(str, cold['help_seconds']))} s."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    size_arg, home_arg, seeds_arg, out_arg = sys.argv[1:5]
    Path(out_arg).write_text(json.dumps(measure(int(size_arg), Path(home_arg), Path(seeds_arg))))
