"""One question's way to its answer: check → refuse? → condense → retrieve → gate → generate → verify → fall back.

The check is rag/arguments.py's, done by `rag.ask_stream` before this runs; each other step is a function
here, called in that order by `ask_stream`. Sources are numbered at retrieval and never renumbered, so an
[n] streamed early is source n of the final `Answer`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator

from .answer import Backend, BackendUnavailable, Draft, Request, backend_name, create
from .answer.citations import Checked, verify
from .answer.asked import read
from .answer.decision import Decision, decide, rare_names
from .answer.gate import refusal_reason
from .answer.spelling import respelled, typed_names
from .arguments import AskArguments
from .dates import matching
from .engine import get_engine
from .errors import PapertrailError
from .retrieve import HybridSearch, Retrieval, elapsed_ms
from .settings import Settings
from .store import never_written
from .types import ABSTAIN, Answer, Source, Turn

log = logging.getLogger(__name__)
TYPED_NAME_PAPERS = 3
"""The best lexical matches of a lower-case rare word looked at for a paper whose short name it is ("chinesewebtext"
matches "ChineseWebText 2.0" best, "Chinesewebtext: ..." second)."""
DATE_MARGIN = 0.1
"""How much more confident the answer without the date filter must be before the filter is said to exclude it."""


def ask_stream(args: AskArguments) -> Iterator[str | Answer]:
    """Yield the answer text in pieces as it is produced, then the final `Answer` (arguments checked by the caller)."""
    started = time.perf_counter()
    question, turns, settings = args.question, args.turns, args.settings
    search = loaded_search(settings)
    chosen = create(args.backend or backend_name(settings), settings)
    notes: list[str] = []
    retrieval, sources, timings, spelled = Retrieval([]), [], {}, question
    # Off-topic requests stop before condense: no model reads a request that is not about the papers.
    if refusal := refusal_reason(question):
        decision = Decision(_sentence(refusal))
    else:
        clock = time.perf_counter()
        chosen, query = condense(chosen, question, turns, settings, notes)
        timings["condense"] = elapsed_ms(clock)
        spelled = respelled(question, _typed_titles(question, search, args.dates))
        asked = read(spelled)
        depth = max(args.top_k, settings.answer.list_papers) if asked.many else args.top_k
        # A follow-up that names nothing ("What are its main results?") searches for what the earlier questions named.
        named = asked.names or read(query).names
        retrieval = retrieve(search, query, depth, args.dates, rare_names(named, search.bm25.idf))
        timings.update(retrieval.timings_ms)
        sources = chosen.fit(retrieval.sources)
        context = " ".join(turn.question for turn in turns)
        decision = decide(spelled, sources, search.bm25.idf, context=context)
        if args.dates:
            decision = outside_dates(decision, spelled, search, query, depth, args.dates)
    clock = time.perf_counter()
    reason = decision.reason
    if reason:
        log.info("abstaining: %s", reason)
        draft = Draft(ABSTAIN)
        yield ABSTAIN
    else:
        request = Request(spelled, sources, turns, search.bm25.idf, decision.subject, decision.listed)
        chosen, draft = yield from generate(chosen, request, settings, notes)
    checked = verify(draft.text, sources, draft.citations)
    if checked.removed_citations:
        notes.append(f"removed citations to sources that were not given: {checked.removed_citations}")
    timings["answer"] = elapsed_ms(clock)
    timings["total"] = elapsed_ms(started)
    yield _answer(question, checked, draft, sources, chosen.name, timings, notes, retrieval.ranked, reason)


def loaded_search(settings: Settings) -> HybridSearch:
    """The search over the store as it is now (its write stamp read once per question); an empty store is an
    error naming the command that fills it."""
    engine = None if never_written(settings) else get_engine(settings)
    search = engine.retriever() if engine else None
    if search is None:
        where = engine.store.where if engine else settings.store.home / "chroma"
        older = " (its papers were written by an older Papertrail, in a format this one does not read)"
        raise PapertrailError(
            f"the store at {where} is empty{older if engine and engine.store.older_versions() else ''}: "
            "run `papertrail ingest` (or call rag.ensure_corpus()) first"
        )
    return search


def outside_dates(
    decision: Decision, question: str, search: HybridSearch, query: str, depth: int, dates: list[str]
) -> Decision:
    """The decision within `dates`, unless the paper that answers best is listed outside them: then a decline
    naming it, rather than an answer from a weaker paper."""
    names = rare_names(read(question).names, search.bm25.idf)
    best = decide(question, search.search(query, depth, names=names).sources, search.bm25.idf)
    within = {source.paper_id for source in decision.listed}
    if best.reason or best.subject is None or best.subject.paper_id in within:
        return decision
    if decision.reason is None and decision.confidence >= best.confidence - DATE_MARGIN:
        return decision
    listed = ", ".join(best.subject.dates) or "no date"
    return Decision(
        f"The paper that answers this, \u201c{best.subject.title}\u201d (listed {listed}), is outside the chosen "
        f"dates ({', '.join(dates)})."
    )


def _typed_titles(question: str, search: HybridSearch, dates: list[str] | None) -> list[str]:
    """The titles of the papers that best match each rare word of the question typed in lower case ("holmes"): the
    one whose short name it is, if any, is respelled as a name."""
    rare = rare_names(tuple(typed_names(question)), search.bm25.idf)
    return [paper.title for word in rare for paper in search.best_lexical(word, TYPED_NAME_PAPERS, dates)]


def retrieve(
    search: HybridSearch, query: str, top_k: int, dates: list[str] | None, names: list[str] | None = None
) -> Retrieval:
    """Numbered sources for `query` and the question's rare `names` (by default the query's own); a listing date
    "Mar 11" also finds papers synced on 2024-03-11, and back."""
    if names is None:
        names = rare_names(read(query).names, search.bm25.idf)
    if dates:
        dates = matching(dates, search.catalog.dates)
    return search.search(query, top_k, dates, names)


def condense(
    chosen: Backend, question: str, turns: list[Turn], settings: Settings, notes: list[str]
) -> tuple[Backend, str]:
    """The query to retrieve with, from the backend (the extractive one when the backend's model fails)."""
    try:
        return chosen, chosen.condense(question, turns)
    except BackendUnavailable as err:
        notes.append(_fallback_note(chosen.name, err))
        fallback = create("extractive", settings)
        return fallback, fallback.condense(question, turns)


def generate(
    chosen: Backend, request: Request, settings: Settings, notes: list[str]
) -> Generator[str, None, tuple[Backend, Draft]]:
    """Pass the backend's text pieces on and return it with its draft; the extractive backend answers when it fails."""
    try:
        return chosen, (yield from _drain(chosen, request))
    except BackendUnavailable as err:
        notes.append(_fallback_note(chosen.name, err))
        fallback = create("extractive", settings)
        return fallback, (yield from _drain(fallback, request))


def _drain(chosen: Backend, request: Request) -> Generator[str, None, Draft]:
    for item in chosen.stream(request):
        if isinstance(item, Draft):
            return item
        yield item
    raise RuntimeError(f"backend {chosen.name!r} ended its stream without a draft")


def _answer(
    question: str,
    checked: Checked,
    draft: Draft,
    sources: list[Source],
    backend: str,
    timings: dict[str, float],
    notes: list[str],
    ranked: list[str],
    reason: str | None,
) -> Answer:
    return Answer(
        question=question,
        text=checked.text,
        citations=checked.citations,
        sources=sources,
        abstained=checked.abstained,
        reason=reason if checked.abstained else None,
        backend=backend,
        timings_ms=timings,
        notes=notes,
        removed_citations=checked.removed_citations,
        unverified_quotes=checked.unverified_quotes,
        uncited_sentences=checked.uncited_sentences,
        unverified_figures=checked.unverified_figures,
        prompt_tokens=draft.prompt_tokens,
        completion_tokens=draft.completion_tokens,
        ranked=ranked,
    )


def _sentence(reason: str) -> str:
    """The gate's reason as a sentence for the reader."""
    return reason[0].upper() + reason[1:].rstrip(".") + "."


def _fallback_note(name: str, err: Exception) -> str:
    """Log the failure and word it for the Answer's notes."""
    log.warning("%s backend unavailable, falling back to extractive: %s", name, err)
    return f"The {name} backend was unavailable ({err}); answered by the extractive backend instead."
