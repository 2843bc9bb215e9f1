"""Store integrity with the real model and Chroma: one writer at a time, lost vectors found and repaired
until every chunk is reachable by vector search (a kill mid-repair losing nothing), merges that keep every
listing date, whole-paper writes under SIGKILL at every write boundary, fresh reads in a long-lived process,
questions answered during an upload, a full disk named as such."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.chunk import chunk_id, chunk_paper
from rag.papers import whole_papers
from rag.parse import expand_paths, merge, parse_file
from rag.store import Store
from rag.types import Paper
from tests.conftest import ROOT, SEEDS

WRITE_BATCH = 20
"""Small write groups, so a few papers already span several writes."""


def _seed_papers() -> list[Paper]:
    return merge(paper for path in expand_paths([SEEDS]) for paper in parse_file(path))


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def _records(papers: list[Paper], date: str | None = None) -> list[dict]:
    return [{"title": p.title, "abstract": p.abstract, **({"date": date} if date else {})} for p in papers]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", **extra}
    env.pop("PAPERTRAIL_CHROMA_URL", None)
    return env


def _papertrail(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("papertrail")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _settings(home: Path, **store: object) -> rag.Settings:
    return rag.Settings(store={"home": home, **store}, llm={"backend": "extractive"})


def _unfindable(store: Store) -> list[str]:
    """Chunks that a vector search for their own vector, among their paper's chunks, does not return first."""
    ids = [row.chunk_id for rows in store.rows() for row in rows]
    return [
        chunk
        for chunk, vector in zip(ids, store.vectors(ids))
        if store.query(vector.tolist(), 1, {"paper_id": chunk.rpartition(":")[0]})[0] != [chunk]
    ]


def test_a_second_writer_is_refused_naming_the_first_while_readers_keep_working(tmp_path: Path) -> None:
    papers = _seed_papers()
    first = _jsonl(tmp_path / "first.jsonl", _records(papers[:150]))  # long enough to outlast the second's start
    second = _jsonl(tmp_path / "second.jsonl", _records(papers[150:170]))
    home = tmp_path / "home"
    env = _env(home, PAPERTRAIL_WRITE_WAIT="0")
    command = [str(Path(sys.executable).with_name("papertrail")), "ingest", str(first)]
    writer = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = home / "writer.lock"
    deadline = time.monotonic() + 300
    while not (lock.is_file() and lock.read_text()) and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.poll() is None, "the first writer ended before the second one started"
    refused = _papertrail(["ingest", str(second)], env)
    reader = _papertrail(["stats"], env)
    assert writer.wait(timeout=600) == 0, writer.stderr.read()

    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith(f"papertrail: error: process {writer.pid} (`") and "run this again" in last
    assert reader.returncode == 0, reader.stderr
    store = Store(_settings(home))
    assert store.paper_count() == 150
    assert store.missing_vectors() == [] and _unfindable(store) == []
    assert _papertrail(["ingest", str(second)], env).returncode == 0
    assert Store(_settings(home)).paper_count() == 170


WRITE_SCRIPT = """
import sys, numpy as np
from rag.settings import Settings
from rag.store import Store
from rag.chunk import chunk_id, chunk_paper
from rag.ingestion import paper_rows
from rag.ledger import content_hash
from rag.types import Paper
settings = Settings(store={"home": sys.argv[1]})
store = Store(settings)
rng = np.random.default_rng(int(sys.argv[3]))
papers = [Paper(paper_id=f"{sys.argv[2]}{i:05d}", title=f"{sys.argv[2]} paper {i}",
                abstract=f"We study problem number {i} of the {sys.argv[2]} family with a new method.",
                sources=["made.jsonl"]) for i in range(int(sys.argv[4]))]
rows = [row for p in papers for row in paper_rows(p, chunk_paper(p, 128), content_hash(p, settings))]
vectors = rng.normal(size=(len(rows), 384)).astype(np.float32)
store.write(rows, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
store.bump_generation()
"""


@pytest.mark.parametrize("lost", ["whole-index", "vectors-only"])
def test_ingest_check_finds_chunks_whose_vectors_are_lost_and_reembeds_them(tmp_path: Path, lost: str) -> None:
    home = tmp_path / "home"
    count = 1200  # past Chroma's vector-index sync threshold (1,000), so the index is written to disk
    subprocess.run([sys.executable, "-c", WRITE_SCRIPT, str(home), "alpha", "1", str(count)], check=True)
    chroma = home / "chroma"
    (segment,) = [path for path in chroma.iterdir() if path.is_dir()]
    shutil.copytree(segment, tmp_path / "snapshot")
    subprocess.run([sys.executable, "-c", WRITE_SCRIPT, str(home), "beta", "2", str(count)], check=True)
    # What a second writer's flush does to the first one's vectors: the vector index goes back to an older state,
    # either whole (the beta chunks are unknown to it) or under the newer id map, as two writers leave it (their
    # labels have no vector: "Error getting embedding").
    id_map = (segment / "index_metadata.pickle").read_bytes()
    shutil.rmtree(segment)
    shutil.copytree(tmp_path / "snapshot", segment)
    if lost == "vectors-only":
        (segment / "index_metadata.pickle").write_bytes(id_map)
    env = _env(home)
    assert json.loads(_papertrail(["stats", "--json"], env).stdout)["chunks"] == 2 * count

    checked = _papertrail(["ingest", "--check"], env)
    assert checked.returncode == 0, checked.stderr
    assert f"{count} chunks had lost their vectors and were re-embedded" in checked.stdout
    store = Store(_settings(home))
    assert store.count() == 2 * count and store.missing_vectors() == []
    assert _unfindable(store) == []
    again = _papertrail(["ingest", "--check"], env)
    assert "0 chunks had lost their vectors" in again.stdout
    answer = rag.ask("Which paper studies problem number 17 of the beta family?", settings=_settings(home))
    assert answer.sources[0].title == "beta paper 17"


NEAREST_SCRIPT = """
import json, sys
from rag.embed import build_embedder
from rag.settings import Settings
from rag.store import Store
settings = Settings(store={"home": sys.argv[1]})
store, model = Store(settings), build_embedder(settings)
print(json.dumps([store.query(model.query(line), 100)[0] for line in sys.stdin.read().splitlines()]))
"""


def test_every_process_that_opens_the_store_finds_the_same_nearest_chunks(seeded_home: Path) -> None:
    # An ingest leaves Chroma's vector index saved whole: vectors left in its log are re-inserted by each process
    # that opens the store, in its own thread order, and the 100 nearest chunks of a question then differed from
    # one run to the next (for one question in twenty of the dev sets), and answers with them.
    sets = sorted((ROOT / "eval").glob("dev*.jsonl"))
    questions = [json.loads(line)["question"] for path in sets for line in path.read_text().splitlines()]
    runs = [
        subprocess.run(
            [sys.executable, "-c", NEAREST_SCRIPT, str(seeded_home)],
            input="\n".join(questions), capture_output=True, text=True, check=True, env=_env(seeded_home),
        ).stdout
        for _ in range(3)
    ]
    first, *others = [json.loads(run) for run in runs]
    assert len(first) == len(questions) and all(len(ids) == 100 for ids in first)
    differ = [question for other in others for question, a, b in zip(questions, first, other) if a != b]
    assert differ == [], f"{len(differ)} questions found other nearest chunks in another process"


KILLED_REINSERT = """
import os, signal, sys
from chromadb.api.models.Collection import Collection
from rag.ingestion import writer_lock
from rag.settings import Settings
from rag.store import Store
settings = Settings(store={"home": sys.argv[1]})
store = Store(settings)
Collection.add = lambda self, **rows: os.kill(os.getpid(), signal.SIGKILL)  # killed between delete and add
with writer_lock(settings, store):
    store.reinsert(sys.argv[2:])
"""


def test_a_kill_in_the_middle_of_a_reinsertion_loses_no_chunk(tmp_path: Path) -> None:
    # Every write here runs in another process and this one opens each store once, at the end: an embedded
    # Chroma client keeps the vector index it loaded and never sees another process's vectors.
    home, reference = tmp_path / "home", tmp_path / "reference"
    papers = _seed_papers()
    env = _env(home)
    assert _papertrail(["ingest", str(_jsonl(tmp_path / "some.jsonl", _records(papers[:30])))], env).returncode == 0
    shutil.copytree(home, reference)
    moved = [chunk_id(paper.paper_id, index) for paper in papers[:4] for index in range(len(chunk_paper(paper, 128)))]

    killed = subprocess.run([sys.executable, "-c", KILLED_REINSERT, str(home), *moved], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert json.loads(_papertrail(["stats", "--json"], env).stdout)["papers"] == 26
    assert _papertrail(["ingest", str(_jsonl(tmp_path / "more.jsonl", _records(papers[30:31])))], env).returncode == 0

    before, store = Store(_settings(reference)), Store(_settings(home))
    rows = {row.chunk_id: row for rows in before.rows() for row in rows}
    after = {row.chunk_id: row for rows in store.rows() for row in rows}
    assert {chunk: after[chunk] for chunk in rows} == rows and len(after) > len(rows)
    assert np.abs(store.vectors(moved) - before.vectors(moved)).max() < 1e-6
    assert _unfindable(store) == []


def test_a_new_abstract_for_a_known_title_keeps_its_dates_and_files(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    papers = _seed_papers()
    target, other = papers[10], papers[11]
    first = _jsonl(tmp_path / "first.jsonl", _records([target], "Jun 1") + _records([target, other], "Jun 2"))
    report = rag.ingest([first], settings)
    assert (report.added, report.updated) == (2, 0)
    revised = target.abstract.replace(". ", ". Indeed, ", 1)
    second = _jsonl(tmp_path / "second.jsonl", [{"title": target.title, "abstract": revised, "date": "Jun 3"}])
    report = rag.ingest([second], settings)
    assert (report.added, report.updated, report.relabelled, report.unchanged) == (0, 1, 0, 0)

    stored = {paper.title: paper for paper in rag.catalog(settings)}[target.title]
    assert stored.abstract == revised
    assert stored.dates == ["Jun 1", "Jun 2", "Jun 3"]
    assert stored.sources == ["first.jsonl", "second.jsonl"]
    for date in ("Jun 1", "Jun 3"):
        answer = rag.ask(f"What does the paper '{target.title}' propose?", settings=settings, dates=[date])
        assert answer.sources[0].title == target.title, date


CHILD_SCRIPT = """
import sys, rag
settings = rag.Settings(store={"home": sys.argv[2], "write_batch": int(sys.argv[3])})
def pause(done, total):
    print(done, total, flush=True)
    sys.stdin.readline()
rag.ingest([sys.argv[1]], settings, progress=pause)
print("finished", flush=True)
"""


def _kill_after(commits: int, source: Path, home: Path) -> bool:
    """Run an ingest of `source` and SIGKILL it right after its `commits`-th write; False if it finished first."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(source), str(home), str(WRITE_BATCH)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen = 0
    while seen < commits:
        line = child.stdout.readline()
        if not line or line.startswith("finished"):
            child.wait()
            return False
        seen += 1
        if seen < commits:
            child.stdin.write("\n")
            child.stdin.flush()
    child.send_signal(signal.SIGKILL)
    child.wait()
    return True


def _versions(home: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each stored paper's (abstract, dates) as a reader sees them; every stored paper must be whole."""
    settings = _settings(home)
    store = Store(settings)
    ids = store.paper_ids()
    assert all(known.complete and known.consistent for known in store.stored_papers(ids).values())
    papers = [paper for paper, _ in whole_papers(store.rows())]
    assert sorted(paper.paper_id for paper in papers) == sorted(ids)
    return {paper.title: (paper.abstract, tuple(paper.dates)) for paper in papers}


def test_a_kill_at_every_write_boundary_leaves_each_paper_in_its_old_or_new_version(tmp_path: Path) -> None:
    papers = _seed_papers()
    known, fresh = papers[20:32], papers[32:36]
    donors = papers[40:52]
    base = tmp_path / "base"
    rag.ingest([_jsonl(tmp_path / "old.jsonl", _records(known, "Jun 1"))], _settings(base, write_batch=WRITE_BATCH))
    old = {p.title: (p.abstract, ("Jun 1",)) for p in known}
    # New abstracts of other lengths (so chunk counts change), a new date, and a few new papers.
    revised = [p.model_copy(update={"abstract": d.abstract}) for p, d in zip(known, donors)]
    update = _jsonl(tmp_path / "update.jsonl", _records(revised + fresh, "Jun 3"))
    new = {p.title: (p.abstract, ("Jun 1", "Jun 3")) for p in revised} | {p.title: (p.abstract, ("Jun 3",)) for p in fresh}
    relabel = _jsonl(tmp_path / "relabel.jsonl", _records(known, "Jun 5"))
    relabelled = {p.title: (p.abstract, ("Jun 1", "Jun 5")) for p in known}

    for source, after in ((update, new), (relabel, relabelled)):
        commits = 1
        while True:
            home = tmp_path / f"kill-{source.stem}-{commits}"
            shutil.copytree(base, home)
            if not _kill_after(commits, source, home):
                break
            seen = _versions(home)
            for title, version in seen.items():
                assert version in (old.get(title), after[title]), (commits, title)
            assert set(old) <= set(seen)
            rag.ingest([source], _settings(home, write_batch=WRITE_BATCH))
            assert _versions(home) == old | after
            commits += 1
        assert commits > 3, f"{source.name} was written in {commits - 1} writes; expected several"


def test_a_long_running_process_sees_another_process_replace_an_abstract(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    _sees_another_process_update(settings, _env(settings.store.home), tmp_path)


def _sees_another_process_update(settings: rag.Settings, env: dict[str, str], tmp_path: Path) -> None:
    """This process asks, another process gives a paper a new abstract of the same size, this process asks again."""
    papers = _seed_papers()[100:130]
    rag.ingest([_jsonl(tmp_path / "first.jsonl", _records(papers))], settings)
    target = papers[5]
    question = f"What does the paper '{target.title}' propose?"
    assert rag.ask(question, settings=settings).sources[0].abstract == target.abstract
    revised = target.abstract.replace(". ", ". Indeed, ", 1)
    assert len(chunk_paper(target, 128)) == len(chunk_paper(target.model_copy(update={"abstract": revised}), 128))
    done = _papertrail(["ingest", str(_jsonl(tmp_path / "second.jsonl", [{"title": target.title, "abstract": revised}]))], env)
    assert done.returncode == 0, done.stderr
    assert rag.stats(settings)["chunks"] == sum(len(chunk_paper(p, 128)) for p in papers)
    assert rag.ask(question, settings=settings).sources[0].abstract == revised
    newcomer = {
        "title": "Quokka: retrieving marsupial field notes",
        "abstract": "We present Quokka, a retriever of marsupial field notes that finds the right note for 91.3% of "
        "the questions of the Wallaby benchmark of Australian ecology reports.",
    }
    done = _papertrail(["ingest", str(_jsonl(tmp_path / "third.jsonl", [newcomer]))], env)
    assert done.returncode == 0, done.stderr
    found = rag.ask("Which retriever of marsupial field notes was presented?", settings=settings).sources[0]
    assert found.title == newcomer["title"]
    assert found.dense_score > 0.3, "the other process's paper is found by vector search too, not by BM25 alone"


def test_chunks_stored_with_their_text_as_the_document_are_read_answered_and_replaced(tmp_path: Path) -> None:
    """Rows written before chunk text moved into metadata (the text as Chroma's document) keep answering."""
    import chromadb

    from rag.ledger import collection_name
    from rag.store import TEXT_KEY

    settings = _settings(tmp_path / "home")
    papers = _seed_papers()[40:60]
    rag.ingest([_jsonl(tmp_path / "papers.jsonl", _records(papers))], settings)
    target = papers[3]
    client = chromadb.PersistentClient(str(settings.store.home / "chroma"), chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_collection(collection_name(settings))
    held = collection.get(where={"title": target.title}, include=["metadatas", "embeddings"])
    assert held["ids"] and all(TEXT_KEY in meta for meta in held["metadatas"])
    collection.delete(ids=held["ids"])
    collection.add(
        ids=held["ids"],
        embeddings=held["embeddings"],
        documents=[meta[TEXT_KEY] for meta in held["metadatas"]],
        metadatas=[{key: value for key, value in meta.items() if key != TEXT_KEY} for meta in held["metadatas"]],
    )
    del client, collection
    Store(settings).bump_generation()
    question = f"What does the paper '{target.title}' propose?"
    assert rag.ask(question, settings=settings).sources[0].abstract == target.abstract
    revised = target.abstract.replace(". ", ". Indeed, ", 1)
    rag.ingest([_jsonl(tmp_path / "revised.jsonl", [{"title": target.title, "abstract": revised}])], settings)
    assert rag.ask(question, settings=settings).sources[0].abstract == revised


def test_questions_are_answered_while_an_upload_is_ingesting(seeded_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = _settings(home, write_batch=WRITE_BATCH)
    question = "How many tokens was CT-LLM trained on?"
    before = rag.ask(question, settings=settings)
    upload = [p.model_copy(update={"title": f"{p.title} (second edition)"}) for p in _seed_papers()[:60]]
    source = _jsonl(tmp_path / "upload.jsonl", _records(upload))
    first_commit, finished = threading.Event(), threading.Event()
    reports: list[rag.IngestReport] = []

    def upload_file() -> None:
        reports.append(rag.ingest([source], settings, progress=lambda done, total: first_commit.set()))
        finished.set()

    worker = threading.Thread(target=upload_file)
    worker.start()
    assert first_commit.wait(timeout=600)
    during = rag.ask(question, settings=settings)
    answered_during_upload = not finished.is_set()
    worker.join(timeout=600)
    assert answered_during_upload, "the question waited for the whole upload"
    assert during.text == before.text
    assert reports[0].added == 60
    answer = rag.ask(f"What does the paper '{upload[7].title}' propose?", settings=settings)
    assert upload[7].title in [source.title for source in answer.sources]


def test_a_full_disk_is_named_as_such_and_the_store_keeps_what_it_had(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {made.stderr.strip()}")
    try:
        settings = _settings(mount / "home")
        source = _jsonl(tmp_path / "many.jsonl", _records(_seed_papers()))
        with pytest.raises(rag.PapertrailError, match="no space left on the device holding PAPERTRAIL_HOME"):
            rag.ingest([source], settings)
        shown = _papertrail(["ingest", str(source)], _env(mount / "home"))
        assert shown.returncode == 1 and "Traceback" not in shown.stderr
        assert "no space left on the device holding PAPERTRAIL_HOME" in shown.stderr.strip().splitlines()[-1]
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _dense_misses(settings: rag.Settings, questions: list[str], n: int = 100) -> list[float]:
    """For each question, the share of its exact `n` nearest chunks (cosine, over every stored vector) that the
    store's vector search does not return."""
    from rag.embed import build_embedder

    store, embedder = Store(settings), build_embedder(settings)
    try:
        found = store._collection.get(include=["embeddings"])
        vectors = np.asarray(found["embeddings"], dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        misses = []
        for question in questions:
            vector = np.asarray(embedder.query(question), dtype=np.float32)
            exact = {found["ids"][i] for i in np.argsort(-(vectors @ vector))[:n]}
            misses.append(len(exact - set(store.query(vector.tolist(), n)[0])) / n)
        return misses
    finally:
        store.close()


def test_vector_search_returns_the_exact_nearest_chunks_and_an_older_store_is_widened_at_its_next_write(
    seeded_home: Path, tmp_path: Path
) -> None:
    from tests.conftest import ROOT

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev2.jsonl").read_text().splitlines()]
    settings = rag.Settings(store={"home": seeded_home})
    assert max(_dense_misses(settings, questions)) <= 0.03  # Chroma's default breadth missed up to 25% of them

    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    store = Store(rag.Settings(store={"home": home}))
    store._collection.modify(configuration={"hnsw": {"ef_search": 100}})  # as a store made before the setting
    store.close()
    rag.ingest([_jsonl(tmp_path / "one.jsonl", [{"title": "Widening Probe: One", "abstract": "We probe. It works."}])],
               settings=rag.Settings(store={"home": home}))
    reopened = Store(rag.Settings(store={"home": home}))
    try:
        assert reopened._raw_collection.configuration_json["hnsw"]["ef_search"] == rag.Settings().store.search_ef
    finally:
        reopened.close()
