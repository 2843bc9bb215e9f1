"""`papertrail bench`: every figure of the speed and scale targets against its floor, measured in one run.

The seeds are ingested into an empty store (against the raw embedding of the same chunk texts). Synthetic corpora
(every chunk of every paper, vectors derived from the seeds' real ones at every size: no model calls) are written
straight into stores under a work folder, then served by the embedded store and by a Chroma server (`chroma run`)
over the same files. Every measurement runs in a process of its own, so each peak memory is that process's alone:
the fill, the full build of the search index, and the serving process, which loads the saved index, answers warm
questions, and answers again right after another process wrote 100 papers (and saved the index, or did not). Not a
test: it prints figures.
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
UPDATE_PAPERS = 100
FILL_BATCH = 5000
"""Chunks per store write while filling (Chroma's own limit permitting)."""
BM25S_FLOOR_UP_TO = 100_000
"""Largest corpus the raw-bm25s floor is built for: its eager index of a bigger one needs gigabytes of its own."""
MODES = ("embedded", "server")


def questions() -> list[str]:
    """The first questions of the dev set: realistic queries, the same at every size."""
    lines = QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:N_QUESTIONS]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 of `values`, rounded to hundredths."""
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": round(statistics.median(values), 2), "p95": round(cuts[18], 2)}


def _settings(home: str | Path, url: str | None = None) -> Settings:
    return Settings(store={"home": Path(home), "chroma_url": url}, llm={"backend": "extractive"})


def _memory() -> dict[str, int]:
    """This process's peak and current resident memory in MB, the current split into anonymous and file-backed pages."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    mb = {key: int(status[key].split()[0]) // 1024 for key in ("VmHWM", "VmRSS", "RssAnon", "RssFile")}
    return {"peak_mb": mb["VmHWM"], "rss_mb": mb["VmRSS"], "anon_mb": mb["RssAnon"], "file_mb": mb["RssFile"]}


def ingest_seeds(home: str) -> dict[str, Any]:
    """Ingest the seeds into an empty store, then embed the same chunk texts with the bare model, and re-ingest."""
    from ..api import ingest
    from ..chunk import chunk_paper, embed_text
    from ..embed import build_embedder
    from ..parse import load_papers

    settings = _settings(home)
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


def write_synthetic(home: str, seeds_home: str, count: int, start: int = 0, url: str | None = None) -> dict[str, Any]:
    """Write `count` synthetic papers numbered from `start` into the store, in big writes under the writer lock, then
    bump its generation once; progress on stderr every 50,000 chunks."""
    import numpy as np

    from ..ingestion import writer_lock
    from ..store import Store
    from .synthetic import seed_papers, synthetic_papers

    settings = _settings(home, url)
    seeds = seed_papers(Store(_settings(seeds_home)))
    store = Store(settings)
    limit = min(FILL_BATCH, store.max_batch)
    rows: list = []
    vectors: list = []
    chunks, seconds, reported = 0, 0.0, 0

    def flush() -> float:
        started = time.perf_counter()
        store.write(rows, np.vstack(vectors))
        return time.perf_counter() - started

    with writer_lock(settings, store):
        for paper_rows, paper_vectors in synthetic_papers(seeds, count, start=start):
            if rows and len(rows) + len(paper_rows) > limit:
                seconds += flush()
                chunks += len(rows)
                rows, vectors = [], []
                if chunks - reported >= 50_000:
                    reported = chunks
                    print(f"bench: {chunks:,} chunks written ({chunks / seconds:,.0f}/s)", file=sys.stderr, flush=True)
            rows.extend(paper_rows)
            vectors.append(paper_vectors)
        seconds += flush()
        chunks += len(rows)
        store.bump_generation()
    return {"papers": count, "chunks": chunks, "write_seconds": round(seconds, 2), "chunks_per_s": round(chunks / seconds)}


def build_index(home: str) -> dict[str, Any]:
    """The full build of the search index from the store (what every write cost before it followed them), and what
    the saved index weighs per paper."""
    from ..index import folder_of, rebuild
    from ..store import Store

    settings = _settings(home)
    store = Store(settings)
    started, cpu = time.perf_counter(), time.process_time()
    rebuild(store, settings)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    files: dict[str, int] = {}
    for path in folder_of(settings).rglob("*"):
        if path.is_file():
            files[path.name] = files.get(path.name, 0) + path.stat().st_size
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "bytes": files, **_memory()}


def update(home: str, seeds_home: str, start: int, url: str | None, save: bool) -> dict[str, Any]:
    """Another process's sync of `UPDATE_PAPERS` papers: written to the store, then (when `save`) the search index
    brought up to date as a writing command does when it ends."""
    from ..index import save as save_index
    from ..store import Store

    written = write_synthetic(home, seeds_home, UPDATE_PAPERS, start, url)
    result = {"write_seconds": written["write_seconds"]}
    if save:
        settings = _settings(home, url)
        store = Store(settings)
        started = time.perf_counter()
        save_index(store, settings)
        result["update_seconds"] = round(time.perf_counter() - started, 3)
    return result


def serve(home: str, seeds_home: str, size: int, url: str | None) -> dict[str, Any]:
    """The serving process: load the saved index, answer warm questions, then (synthetic corpora only: the seeds
    store is timed again for cold starts) the first question after another process's 100-paper sync, which saved
    the index, and after a write that did not; its own memory."""
    from ..api import ask
    from ..engine import get_engine

    settings = _settings(home, url)
    started = time.perf_counter()
    store = get_engine(settings).store
    get_engine(settings).retriever()
    result: dict[str, Any] = {"load_seconds": round(time.perf_counter() - started, 2), "memory_after_load": _memory()}
    result["papers"], result["chunks"] = store.paper_count(), store.count()
    result["ask"] = warm_asks(settings)
    result["memory_after_asks"] = _memory()
    asked = questions()
    for key, save, offset in (("after_sync", True, 0), ("after_unsaved_write", False, UPDATE_PAPERS)) if size else ():
        start = 10_000_000 + size + offset + (0 if url is None else 2 * UPDATE_PAPERS)
        writer = _child("update", home=home, seeds_home=seeds_home, start=start, url=url, save=save)
        started = time.perf_counter()
        answer = ask(asked[1], settings=settings)
        result[key] = {**writer, "first_question_seconds": round(time.perf_counter() - started, 3)}
        assert answer.sources, answer
    result["memory"] = _memory()
    result["load_average"] = round(os.getloadavg()[0], 1)
    return result


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
    floor: dict[str, list[float]] = {"embed": [], "chroma": []}
    for _ in range(ROUNDS):
        for question in asked:
            t0 = time.perf_counter()
            vector = search.embedder.query(question)
            t1 = time.perf_counter()
            search.store.raw_query(vector, search.candidates)
            t2 = time.perf_counter()
            floor["embed"].append((t1 - t0) * 1000)
            floor["chroma"].append((t2 - t1) * 1000)
    return {
        "first_pass_seconds": round(warmup, 2),
        "stages_ms": {stage: percentiles(values) for stage, values in samples.items()},
        "floor_ms": {key: percentiles(values) for key, values in floor.items()},
    }


def bm25s_floor(home: str) -> dict[str, Any]:
    """A bare bm25s index over the same chunk texts (its eager scores, rebuilt whole at every write) and its retrieve
    on the same questions: the floor BM25's search is compared against."""
    import bm25s

    from ..bm25 import _STEMMER, LANGUAGE
    from ..chunk import embed_text
    from ..papers import whole_papers
    from ..store import Store

    settings = _settings(home)
    texts = [
        embed_text(paper.title, row.text, settings.retrieval.title_prefix)
        for paper, rows in whole_papers(Store(settings).rows())
        for row in rows
    ]
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords=LANGUAGE, stemmer=_STEMMER, show_progress=False), show_progress=False)
    k = min(settings.retrieval.candidates, len(texts))
    times = []
    for _ in range(ROUNDS):
        for question in questions():
            started = time.perf_counter()
            model.retrieve(bm25s.tokenize(question, stemmer=_STEMMER, show_progress=False), k=k, show_progress=False)
            times.append((time.perf_counter() - started) * 1000)
    return {"bm25s_ms": percentiles(times)}


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
    """Cores, CPU model, memory and Python: the benchmark table names the machine it ran on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line),
        platform.processor(),
    )
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GB RAM, {platform.system()}, Python {platform.python_version()}"


ROLES = {
    "seeds": ingest_seeds,
    "fill": write_synthetic,
    "build": build_index,
    "update": update,
    "serve": serve,
    "floor": bm25s_floor,
}


def _child(role: str, **args: Any) -> dict[str, Any]:
    """Run one measurement in a process of its own; its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", "rag.devtools.bench", role, out.name, json.dumps(args)], check=True)
        return json.loads(Path(out.name).read_text())


def _filled(home: Path, size: int) -> bool:
    """True when an earlier run left this size's store filled in the work folder (its fill is reused)."""
    marker = home / "bench-filled.json"
    return marker.is_file() and json.loads(marker.read_text()).get("papers") == size


def run(sizes: list[int], out_dir: Path, work: Path | None = None, modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """Measure the seeds and each synthetic size; print the tables and write the JSON. Stores are made in `work`
    (kept there, and reused by the next run, when given) or in a temporary folder."""
    from .chroma_server import ChromaServer

    keep = work is not None
    work = Path(work or tempfile.mkdtemp(prefix="papertrail-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds_home = work / "seeds"
    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": []}
    try:
        shutil.rmtree(seeds_home, ignore_errors=True)
        print("bench: ingesting the seeds ...", file=sys.stderr, flush=True)
        seeds = {"size": 0, "ingest": _child("seeds", home=str(seeds_home))}
        for size in sizes:
            home = work / str(size)
            entry: dict[str, Any] = {"size": size}
            if not _filled(home, size):
                shutil.rmtree(home, ignore_errors=True)
                print(f"bench: writing {size:,} synthetic papers ...", file=sys.stderr, flush=True)
                entry["fill"] = _child("fill", home=str(home), seeds_home=str(seeds_home), count=size)
                (home / "bench-filled.json").write_text(json.dumps({"papers": size, **entry["fill"]}))
            else:
                entry["fill"] = json.loads((home / "bench-filled.json").read_text())
            print(f"bench: building the search index of {size:,} papers ...", file=sys.stderr, flush=True)
            entry["build"] = _child("build", home=str(home))
            if size <= BM25S_FLOOR_UP_TO:
                entry["floor"] = _child("floor", home=str(home))
            results["sizes"].append(entry)
        for entry in [seeds, *results["sizes"]]:
            home = seeds_home if entry["size"] == 0 else work / str(entry["size"])
            if entry["size"] == 0:
                entry["floor"] = _child("floor", home=str(home))
            for mode in modes if entry["size"] else ("embedded",):
                print(f"bench: serving {entry['size']:,} papers ({mode}) ...", file=sys.stderr, flush=True)
                server = ChromaServer(home / "chroma") if mode == "server" else None
                if server:
                    server.start()
                try:
                    url = server.url if server else None
                    entry[mode] = _child("serve", home=str(home), seeds_home=str(seeds_home), size=entry["size"], url=url)
                finally:
                    if server:
                        server.stop()
        results["sizes"].insert(0, seeds)
        print("bench: cold start ...", file=sys.stderr, flush=True)
        results["cold"] = cold_start(seeds_home)
    finally:
        if not keep:
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
    """The issues' targets: each figure measured in this run (a ratio to its floor where speed is asked), beside its bound."""
    sizes = results["sizes"]
    seeds, largest = sizes[0], sizes[-1]
    by_size = {s["size"]: s for s in sizes}
    ask, ingest = seeds["embedded"]["ask"], seeds["ingest"]
    cold = results["cold"]
    p50 = lambda part: part["p50"]  # noqa: E731
    total = lambda s, mode="embedded": p50(s[mode]["ask"]["stages_ms"]["total"])  # noqa: E731
    rows: list[tuple[str, float, float, str]] = []
    if 100_000 in by_size:
        hundred = by_size[100_000]
        for mode in (m for m in MODES if m in hundred):
            served = hundred[mode]
            rows.append((f"search update after 100 new papers, 100,000 papers ({mode}), s", served["after_sync"]["update_seconds"], 2.0, "s"))
            rows.append(
                (f"first question after another process's 100-paper sync, 100,000 papers ({mode}), s", served["after_sync"]["first_question_seconds"], 1.0, "s")
            )
            rows.append((f"peak memory of the serving process, 100,000 papers ({mode}), GB", served["memory"]["peak_mb"] / 1024, 1.5, " GB"))
    rows.append((f"`ask` p50 at {largest['size']:,} papers / at the seeds", total(largest) / total(seeds), 1.5, "x"))
    rows.append(("warm `ask` p50 / embedding the same question alone", total(seeds) / p50(ask["floor_ms"]["embed"]), 2.0, "x"))
    for s in sizes:
        for mode in (m for m in MODES if m in s):
            stages, floor = s[mode]["ask"]["stages_ms"], s[mode]["ask"]["floor_ms"]
            rows.append((f"dense search / raw `collection.query` ({s['size'] or 'seeds'}, {mode})", p50(stages["dense"]) / p50(floor["chroma"]), 2.0, "x"))
        if "floor" in s:
            rows.append((f"BM25 / raw `bm25s` retrieve ({s['size'] or 'seeds'})", p50(s["embedded"]["ask"]["stages_ms"]["bm25"]) / p50(s["floor"]["bm25s_ms"]), 2.0, "x"))
    rows += [
        ("cold `papertrail ask` (new process, seeds), median s", statistics.median(cold["ask_seconds"]), 4.0, "s"),
        ("full ingest of the seeds / raw embedding of the same chunk texts", ingest["seconds"] / ingest["raw_embedding_seconds"], 1.3, "x"),
        ("re-ingest of unchanged seeds, in process, s", ingest["reingest_seconds"], 0.5, "s"),
        ("re-ingest of unchanged seeds, `papertrail ingest` (new process), median s", statistics.median(cold["reingest_seconds"]), 0.5, "s"),
    ]
    lines = ["| figure | measured | target | met |", "|---|---|---|---|"]
    for label, value, bound, unit in rows:
        lines.append(f"| {label} | {value:.2f}{unit} | ≤ {bound}{unit} | {'yes' if value <= bound else 'NO'} |")
    fills = [s["fill"]["chunks_per_s"] for s in sizes[1:]]
    if fills:
        lowest = min(fills)
        lines.append(f"| store writes, chunks/s (lowest of the synthetic fills) | {lowest:,} | ≥ 1,000 | {'yes' if lowest >= 1000 else 'NO'} |")
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    """Markdown table of the figures, one column per corpus size and store mode."""
    columns = [(s, mode) for s in results["sizes"] for mode in MODES if mode in s]
    header = "| | " + " | ".join(f"{s[m]['papers']:,} papers ({s[m]['chunks']:,} chunks), {m}" for s, m in columns) + " |"
    rows = [header, "|---" * (len(columns) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    for stage in STAGES:
        row(f"ask {stage} p50 / p95 ms", [f"{s[m]['ask']['stages_ms'][stage]['p50']} / {s[m]['ask']['stages_ms'][stage]['p95']}" for s, m in columns])
    for part in ("embed", "chroma"):
        row(f"raw floor {part} p50 / p95 ms", [f"{s[m]['ask']['floor_ms'][part]['p50']} / {s[m]['ask']['floor_ms'][part]['p95']}" for s, m in columns])
    row("raw floor bm25s p50 / p95 ms", [f"{s['floor']['bm25s_ms']['p50']} / {s['floor']['bm25s_ms']['p95']}" if "floor" in s else "not built" for s, m in columns])
    row("load the saved index (new process), s", [str(s[m]["load_seconds"]) for s, m in columns])
    row("first 20 asks after load, s", [str(s[m]["ask"]["first_pass_seconds"]) for s, m in columns])
    def updated(key: str, field: str, s: dict[str, Any], m: str) -> str:
        return str(s[m][key][field]) if key in s[m] else "-"

    row(
        "another process writes 100 papers: store write / index update, s",
        [f"{updated('after_sync', 'write_seconds', s, m)} / {updated('after_sync', 'update_seconds', s, m)}" for s, m in columns],
    )
    row("first question after it, s", [updated("after_sync", "first_question_seconds", s, m) for s, m in columns])
    row("first question after a write whose index was not saved, s", [updated("after_unsaved_write", "first_question_seconds", s, m) for s, m in columns])
    row("serving process memory MB after loading the index", [f"{s[m]['memory_after_load']['rss_mb']:,}" for s, m in columns])
    row(
        "serving process memory MB: peak (at the end: anonymous + file-backed)",
        [f"{s[m]['memory']['peak_mb']:,} ({s[m]['memory']['anon_mb']:,} + {s[m]['memory']['file_mb']:,})" for s, m in columns],
    )
    row("1-min load average (2 cores, shared)", [str(s[m]["load_average"]) for s, m in columns])
    row(
        "fill the store",
        [
            f"ingest {s['ingest']['seconds']} s ({s['ingest']['papers_per_s']} papers/s; raw embedding {s['ingest']['raw_embedding_seconds']} s)"
            if "ingest" in s
            else f"write {s['fill']['write_seconds']} s ({s['fill']['chunks_per_s']:,} chunks/s)"
            for s, m in columns
        ],
    )
    row(
        "full build of the search index (own process): wall s (CPU s), peak MB",
        [f"{s['build']['seconds']} ({s['build']['cpu_seconds']}), {s['build']['peak_mb']:,}" if "build" in s else "(at ingest)" for s, m in columns],
    )
    cold = results["cold"]
    rows.append(
        f"\nCold `papertrail ask` (new process, seeds): {', '.join(map(str, cold['ask_seconds']))} s; re-ingest "
        f"`papertrail ingest`: {', '.join(map(str, cold['reingest_seconds']))} s; `papertrail --help`: "
        f"{', '.join(map(str, cold['help_seconds']))} s."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    role, out_arg, args_arg = sys.argv[1:4]
    result = ROLES[role](**json.loads(args_arg))
    Path(out_arg).write_text(json.dumps(result))
