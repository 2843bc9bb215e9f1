"""Watches: saved questions or topics, run against the papers each write adds, each match sent to its owner once.

`add`, `list`, `remove` and `check` are the public API (`rag.watches`, a namespace of the names in `PUBLIC`);
`deliver` is what a front end that pushes matches (the Slack bot) calls. After a sync, an add or an ingest, `after_write` runs every watch against the
papers the watches have not looked at yet (those the write added, and those of a write killed before it got here)
with ask's own retrieval, restricted to those papers, and ask's relevance decision (`relevant`: the answer decision
of rag/answer/decision.py, each paper judged alone). State lives in
rag/watch_store.py.
"""

from __future__ import annotations

import builtins
import functools
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from . import watch_store
from .arguments import check_question, check_settings, check_text
from .dates import read as read_date
from .errors import BadInputError
from .settings import Settings
from .types import Paper, Source, Watch, WatchMatch

if TYPE_CHECKING:
    from .retrieve import HybridSearch

log = logging.getLogger(__name__)

Idf = Callable[[str], float]
"""Rarity of a stemmed word in the corpus (the BM25 index's IDF)."""
LOCAL = "local"
"""The owner of watches made from the CLI and from Python."""
PUBLIC = ("LOCAL", "add", "list", "remove", "check", "deliver", "waiting", "matches", "match_score")
"""What `rag.watches` offers."""
LOOK_BATCH = 500
"""New papers handed to one retrieval at most (a big ingest is looked at in slices of this many)."""


def add(question: str, owner: str = LOCAL, channel: str | None = None, settings: Settings | None = None) -> Watch:
    """Save a watch: from now on, each new paper that answers `question` is sent to `owner` (or to `channel`) once."""
    from .answer.gate import refusal_reason

    settings = check_settings(settings)
    question, owner = check_question(question, settings.answer), check_text(owner, "owner")
    if reason := refusal_reason(question):
        raise BadInputError(f"not something papers can answer: {reason}")
    with watch_store.opened(settings.store.home) as db:
        if watch_store.checked(db, _collection(settings)) is None:
            _look(db, settings)  # the first watch: every paper stored so far is old news
        return watch_store.add(db, question, owner, channel)


def list(owner: str | None = None, settings: Settings | None = None) -> builtins.list[Watch]:  # noqa: A001 (it is rag.watches.list)
    """The watches (of `owner`, when given), oldest first."""
    settings = check_settings(settings)
    if not watch_store.exists(settings.store.home):
        return []
    with watch_store.opened(settings.store.home) as db:
        return watch_store.watches(db, owner)


def remove(watch_id: int, owner: str | None = None, settings: Settings | None = None) -> Watch:
    """Delete watch `watch_id` (only if it is `owner`'s, when given) with its matches; BadInputError when there is none."""
    settings = check_settings(settings)
    if isinstance(watch_id, bool) or not isinstance(watch_id, int):
        raise BadInputError(f"a watch id is a whole number, got {watch_id!r}")
    with watch_store.opened(settings.store.home) as db:
        removed = watch_store.remove(db, watch_id, owner)
    if removed is None:
        raise BadInputError(f"no watch {watch_id}{' of yours' if owner else ''}: `watch list` shows them")
    return removed


def check(since: str | None = None, owner: str = LOCAL, settings: Settings | None = None) -> builtins.list[WatchMatch]:
    """Run the watches on the papers they have not looked at yet (with `since`, 2024-03-11, also on every paper listed
    since that day), then return `owner`'s matches not delivered before, marking them delivered."""
    settings = check_settings(settings)
    day = _since(since)
    if not watch_store.exists(settings.store.home):
        return []
    with watch_store.opened(settings.store.home) as db:
        _look(db, settings, day)
        claimed = watch_store.claim(db, owner=owner)
        for match in claimed:
            watch_store.delivered(db, match.id)
    return claimed


def deliver(send: Callable[[WatchMatch], None], owner_prefix: str, settings: Settings | None = None) -> int:
    """Run the watches on new papers, then `send` each undelivered match of the owners starting with `owner_prefix`
    ("slack:"), marking it delivered once `send` returns. A `send` that raises stops the round; that match and
    the rest are tried next time. Returns how many were sent."""
    settings = check_settings(settings)
    if not watch_store.exists(settings.store.home):
        return 0
    sent = 0
    with watch_store.opened(settings.store.home) as db:
        _look(db, settings)
        claimed = watch_store.claim(db, owner_prefix=owner_prefix)
        for index, match in enumerate(claimed):
            try:
                send(match)
            except Exception:
                for unsent in claimed[index:]:
                    watch_store.release(db, unsent.id)
                raise
            watch_store.delivered(db, match.id)
            sent += 1
    return sent


def waiting(owner: str, settings: Settings | None = None) -> int:
    """How many of `owner`'s matches have not been delivered yet (the CLI says so after a write)."""
    settings = check_settings(settings)
    if not watch_store.exists(settings.store.home):
        return 0
    with watch_store.opened(settings.store.home) as db:
        return watch_store.waiting(db, owner)


def matches(owner: str, limit: int = 20, settings: Settings | None = None) -> builtins.list[WatchMatch]:
    """`owner`'s latest matches, delivered or not, newest first."""
    settings = check_settings(settings)
    if not watch_store.exists(settings.store.home):
        return []
    with watch_store.opened(settings.store.home) as db:
        return watch_store.recent(db, owner, limit)


def after_write(settings: Settings) -> int:
    """Run the watches on what a write added (nothing to do, and no store read, when no watch was ever added).
    A failure is one log line: the papers stay unseen and the next write or `watch check` looks at them."""
    if not watch_store.exists(settings.store.home):
        return 0
    try:
        with watch_store.opened(settings.store.home) as db:
            return _look(db, settings)
    except Exception as err:  # the edge between a write that succeeded and the watches: one line, never a failed write
        log.warning("could not run the watches on the new papers: %s: %s", type(err).__name__, err)
        return 0


def relevant(question: str, sources: Sequence[Source], idf: Idf) -> builtins.list[Source]:
    """The sources that answer `question` by ask's relevance decision (`rag.answer.decision.decide`), each judged
    alone. The one place the watches call the decision from."""
    from .answer.decision import decide

    return [source for source in sources if decide(question, [source], idf).reason is None]


def match_score(dense_score: float, coverage: float, background: float, coverage_weight: float) -> float:
    """How strongly a relevant paper matches a watch: how far its cosine similarity stands out from the watch's
    background, plus `coverage_weight` times its coverage of the watch's words (a bound on it decides)."""
    return dense_score - background + coverage_weight * coverage


def coverage(question: str, paper: Paper, idf: Idf) -> float:
    """Share of the question's stemmed words, each weighted by its IDF, found in the paper's title and abstract
    (hyphenated words counted by their parts, as the BM25 index splits them)."""
    from .text import terms

    weights = {term: idf(term) for term in terms(question.replace("-", " "))}
    used = _words(f"{paper.title} {paper.abstract}")
    return sum(weight for term, weight in weights.items() if term in used) / (sum(weights.values()) or 1.0)


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """The stemmed words of a paper's text, hyphenated ones by their parts; cached: every watch reads the same papers."""
    from .text import terms

    return frozenset(terms(text.replace("-", " ")))


def _look(db: sqlite3.Connection, settings: Settings, since: date | None = None) -> int:
    """Run every watch on the papers not looked at yet (and those listed since `since`); record what matched and
    what was looked at in one transaction. The first look only notes what the store holds. Returns new matches."""
    from .engine import get_engine

    engine, collection = get_engine(settings), _collection(settings)
    generation = engine.store.generation()
    last = watch_store.checked(db, collection)
    if last == generation and since is None:
        return 0
    search = engine.retriever()
    stored = builtins.list(search.catalog.position) if search else []  # live papers (paper_ids keeps replaced versions too)
    if search is None or last is None:
        return watch_store.record(db, collection, generation, stored, [])
    seen = watch_store.seen(db, collection)
    new = [paper_id for paper_id in stored if paper_id not in seen]
    look = new + ([paper_id for paper_id in _listed_since(search, since) if paper_id in seen] if since else [])
    few = len(look) < settings.watch.candidates
    calibration = watch_store.latest_seen(db, collection, settings.watch.calibration) if few else []
    watches = watch_store.watches(db) if look else []
    vectors = search.embedder.texts([watch.question for watch in watches]) if watches else []
    found = [
        item
        for watch, vector in zip(watches, vectors)
        for start in range(0, len(look), LOOK_BATCH)
        for item in _matching(search, settings, watch, vector.tolist(), look[start : start + LOOK_BATCH], calibration)
    ]
    added = watch_store.record(db, collection, generation, new, found)
    if added:
        log.info("%d new watch match(es) among %d new paper(s)", added, len(look))
    return added


def _matching(
    search: HybridSearch,
    settings: Settings,
    watch: Watch,
    vector: builtins.list[float],
    paper_ids: builtins.list[str],
    calibration: builtins.list[str],
) -> builtins.list[watch_store.Found]:
    """The papers among `paper_ids` that match `watch` (its question embedded as `vector`): ask's retrieval
    restricted to them (the best `watch.candidates`), the match score's bound, then ask's relevance decision (the
    costlier check, on the few left). The background is the median cosine of those ranked; when they are fewer
    than `watch.candidates`, of the best among them and the `calibration` papers (seen before, never matched), so
    a small write's papers still have something to stand out from."""
    import statistics

    from .answer.asked import read
    from .answer.decision import rare_names

    bounds, question = settings.watch, watch.question
    names = rare_names(read(question).names, search.bm25.idf)
    ranked = search.search(question, bounds.candidates, names=names, papers=paper_ids, vector=vector).sources
    if not ranked:
        return []
    pool = ranked
    if len(paper_ids) < bounds.candidates and (extra := [p for p in calibration if p not in set(paper_ids)]):
        pool = search.search(question, bounds.candidates, names=names, papers=[*paper_ids, *extra], vector=vector).sources
    background = statistics.median(source.dense_score for source in pool)
    covered = {source.paper_id: coverage(question, source, search.bm25.idf) for source in ranked}
    strong = [
        source
        for source in ranked
        if match_score(source.dense_score, covered[source.paper_id], background, bounds.coverage_weight) >= bounds.min_score
    ]
    return [
        watch_store.Found(
            watch.id,
            _paper(source),
            _sentence(search, settings, question, source),
            source.dense_score,
            covered[source.paper_id],
            background,
        )
        for source in relevant(question, strong, search.bm25.idf)
    ]


def _sentence(search: HybridSearch, settings: Settings, question: str, source: Source) -> str:
    """The sentence of the abstract that answers `question`, as the extractive backend quotes it."""
    from .answer import Draft, Request, create

    request = Request(question, [source.model_copy(update={"n": 1})], [], search.bm25.idf)
    draft = builtins.list(create("extractive", settings).stream(request))[-1]
    return draft.citations[0].quote if isinstance(draft, Draft) and draft.citations else ""


def _paper(source: Source) -> Paper:
    """The paper a source is, without its retrieval numbers."""
    return Paper.model_validate(source.model_dump(include=set(Paper.model_fields)))


def _listed_since(search: HybridSearch, since: date) -> builtins.list[str]:
    """Ids of the papers listed on `since` or later (a listing date without a year counts by month and day)."""
    catalog = search.catalog
    wanted: set[int] = set()
    for listed, positions in catalog.dates.items():
        day = read_date(listed)
        if day and (day[0] or since.year, day[1], day[2]) >= (since.year, since.month, since.day):
            wanted.update(positions)
    return [catalog.paper_ids[position] for position in sorted(wanted)]


def _since(since: str | None) -> date | None:
    if since is None:
        return None
    try:
        return date.fromisoformat(since.strip())
    except ValueError:
        raise BadInputError(f"--since {since!r} is not a day like 2024-03-11") from None


def _collection(settings: Settings) -> str:
    from .store import collection_name

    return collection_name(settings)
