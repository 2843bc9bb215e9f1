"""`ask` and `ask_stream`: check the question, condense a follow-up, retrieve numbered sources, let the backend
answer (streaming), fall back to extractive when a model server fails, return an `Answer`."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence

from .backends import Backend, BackendUnavailable, Reply, Request, backend_name, create
from .engine import Engine, get_engine
from .errors import BadInputError
from .extractive import Draft
from .prompts import fit
from .settings import Settings
from .types import ABSTAIN, Answer, Source, Turn

log = logging.getLogger(__name__)
HISTORY_TURNS = 2


def check_question(question: str, settings: Settings) -> str:
    """The question without surrounding white space; refuses empty and over-long ones."""
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise BadInputError("the question is empty")
    if len(cleaned) > settings.max_question_chars:
        raise BadInputError(
            f"the question is {len(cleaned):,} characters long; the limit is {settings.max_question_chars:,}"
        )
    return cleaned


def as_turns(history: Sequence[Turn | dict | str] | None) -> list[Turn]:
    """Accept earlier turns as `Turn`s, dicts with question/answer, or bare question strings."""
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):
            turns.append(Turn(question=item))
        else:
            turns.append(Turn.model_validate(item))
    return turns


def ensure_corpus(engine: Engine) -> bool:
    """Ingest the seeds when the store is empty; True when that happened."""
    if engine.store.count():
        return False
    log.warning("the store is empty: ingesting %s first", engine.settings.seeds_dir)
    engine.ingest()
    return True


def ask(
    question: str,
    history: Sequence[Turn | dict | str] | None = None,
    settings: Settings | None = None,
    *,
    top_k: int | None = None,
    dates: list[str] | None = None,
    backend: str | None = None,
) -> Answer:
    """Answer `question` from the indexed abstracts, every claim cited; abstains when the evidence is weak."""
    final = None
    for item in ask_stream(question, history, settings, top_k=top_k, dates=dates, backend=backend):
        final = item
    assert isinstance(final, Answer)
    return final


def ask_stream(
    question: str,
    history: Sequence[Turn | dict | str] | None = None,
    settings: Settings | None = None,
    *,
    top_k: int | None = None,
    dates: list[str] | None = None,
    backend: str | None = None,
) -> Iterator[str | Answer]:
    """Yield the answer text in pieces as it is produced, then the final `Answer` (same as `ask` returns).

    Sources are numbered before generation, so an [n] seen while streaming is source n of the final Answer.
    """
    settings = settings or Settings()
    started = time.perf_counter()
    question = check_question(question, settings)
    recent = as_turns(history)[-HISTORY_TURNS:]
    engine = get_engine(settings)
    ensure_corpus(engine)
    chosen = create(backend or backend_name(settings), settings, engine)
    notes: list[str] = []
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        query = chosen.condense(question, recent)
    except BackendUnavailable as err:
        notes.append(_fallback_note(chosen.name, err))
        chosen = create("extractive", settings, engine)
        query = chosen.condense(question, recent)
    timings["condense"] = round((time.perf_counter() - clock) * 1000, 2)
    sources, retrieval_timings = _retrieve(engine, query, top_k or settings.top_k, dates)
    timings.update(retrieval_timings)
    if chosen.name != "extractive":
        sources = fit(sources, settings.context_tokens)
    clock = time.perf_counter()
    if not sources or max(s.dense_score for s in sources) < settings.min_dense_score:
        reply = Reply(Draft(ABSTAIN, [], True))
        yield ABSTAIN
    else:
        request = Request(question, sources, recent)
        try:
            reply = yield from _generate(chosen, request)
        except BackendUnavailable as err:
            notes.append(_fallback_note(chosen.name, err))
            chosen = create("extractive", settings, engine)
            reply = yield from _generate(chosen, request)
    if reply.removed_citations:
        notes.append(f"removed citations to sources that were not given: {reply.removed_citations}")
    timings["answer"] = round((time.perf_counter() - clock) * 1000, 2)
    timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    yield Answer(
        question=question,
        text=reply.draft.text,
        citations=reply.draft.citations,
        sources=sources,
        abstained=reply.draft.abstained,
        backend=chosen.name,
        timings_ms=timings,
        notes=notes,
        removed_citations=reply.removed_citations,
        unverified_quotes=reply.unverified_quotes,
        uncited_sentences=reply.uncited_sentences,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
    )


def _retrieve(
    engine: Engine, query: str, top_k: int, dates: list[str] | None
) -> tuple[list[Source], dict[str, float]]:
    """Numbered sources for `query` and the retrieval timings (none while the store is empty)."""
    retriever = engine.retriever()
    retrieval = retriever.retrieve(query, top_k, dates) if retriever else None
    return (retrieval.sources, dict(retrieval.timings_ms)) if retrieval else ([], {})


def _generate(chosen: Backend, request: Request) -> Generator[str, None, Reply]:
    """Pass the backend's text pieces on and return its final reply."""
    for item in chosen.stream(request):
        if isinstance(item, Reply):
            return item
        yield item
    raise RuntimeError(f"backend {chosen.name!r} ended its stream without a reply")


def _fallback_note(name: str, err: Exception) -> str:
    """Log the failure and word it for the Answer's notes."""
    log.warning("%s backend unavailable, falling back to extractive: %s", name, err)
    return f"The {name} backend was unavailable ({err}); answered by the extractive backend instead."
