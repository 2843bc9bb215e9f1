"""`ask`: check the question, retrieve numbered sources, let the backend answer, return an `Answer`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

from .backends import Request, choose, create
from .engine import Engine, get_engine
from .errors import BadInputError
from .settings import Settings
from .types import ABSTAIN, Answer, Turn

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
    settings = settings or Settings()
    started = time.perf_counter()
    question = check_question(question, settings)
    turns = as_turns(history)
    engine = get_engine(settings)
    ensure_corpus(engine)
    chosen = create(backend or choose(settings), settings, engine)
    query = " ".join([turn.question for turn in turns[-HISTORY_TURNS:]] + [question])
    retriever = engine.retriever()
    retrieval = retriever.retrieve(query, top_k or settings.top_k, dates) if retriever else None
    sources = retrieval.sources if retrieval else []
    timings = dict(retrieval.timings_ms) if retrieval else {}
    clock = time.perf_counter()
    if not sources or max(s.dense_score for s in sources) < settings.min_dense_score:
        text, citations, abstained = ABSTAIN, [], True
    else:
        draft = chosen.answer(Request(question, sources, turns))
        text, citations, abstained = draft.text, draft.citations, draft.abstained
    timings["answer"] = round((time.perf_counter() - clock) * 1000, 2)
    timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    return Answer(
        question=question,
        text=text,
        citations=citations,
        sources=sources,
        abstained=abstained,
        backend=chosen.name,
        timings_ms=timings,
    )


def ask_stream(
    question: str,
    history: Sequence[Turn | dict | str] | None = None,
    settings: Settings | None = None,
    *,
    top_k: int | None = None,
    dates: list[str] | None = None,
    backend: str | None = None,
) -> Iterator[str | Answer]:
    """Yield the answer text in pieces as it is produced, then the final `Answer` (same as `ask` returns)."""
    answer = ask(question, history, settings, top_k=top_k, dates=dates, backend=backend)
    yield answer.text
    yield answer
