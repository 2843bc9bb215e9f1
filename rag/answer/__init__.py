"""Answering backends, found through one registry: the shipped ones and any a plugin or test registers.

A backend turns a `Request` (the question, the numbered sources, the history) into text pieces and a
final `Draft`; the pipeline gates before it and verifies citations after it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import PapertrailError

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import Citation, Source, Turn


@dataclass(frozen=True)
class Request:
    """What a backend answers: the question, the numbered sources (fixed before generation), the history,
    the rarity of each stemmed term in the corpus, and the decision's subject paper and the papers a list names."""

    question: str
    sources: list[Source]
    history: list[Turn] = field(default_factory=list)
    idf: Callable[[str], float] = lambda term: 1.0
    subject: Source | None = None
    """The source the answer comes from (the best-ranked one naming what the question names); None: the first."""
    listed: tuple[Source, ...] = ()
    """For a "which papers" or comparison question, every source the relevance test keeps, best first."""


@dataclass(frozen=True)
class Draft:
    """A backend's finished answer: its text, the citations it made (empty: derived from the [n] markers), tokens."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Backend(Protocol):
    """Turns a request into an answer whose [n] markers refer to `request.sources`."""

    name: str

    def fit(self, sources: list[Source]) -> list[Source]:
        """The leading sources this backend can read at once (a model's context budget)."""
        ...

    def condense(self, question: str, history: list[Turn]) -> str:
        """The query to retrieve with for a follow-up `question`."""
        ...

    def stream(self, request: Request) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then one final `Draft`."""
        ...


class BackendUnavailable(PapertrailError):
    """The model server timed out or kept failing after the retries; the caller falls back to extractive."""


Factory = Callable[["Settings"], Backend]
_REGISTRY: dict[str, Factory] = {}
BUILTIN = {"extractive": "rag.answer.extractive", "openai": "rag.providers.openai", "llamacpp": "rag.providers.llamacpp"}
"""Modules registering the shipped backends, imported on first use so an unused SDK is never loaded."""


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator adding a backend factory under `name`."""

    def add(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return add


def unregister(name: str) -> None:
    """Remove the backend registered as `name` (tests remove the fakes they registered)."""
    _REGISTRY.pop(name, None)


def create(name: str, settings: Settings) -> Backend:
    """The backend registered as `name`, importing a built-in one on first use."""
    if name not in _REGISTRY and name in BUILTIN:
        importlib.import_module(BUILTIN[name])
    if name not in _REGISTRY:
        raise PapertrailError(f"unknown backend {name!r}; available: {', '.join(sorted(set(_REGISTRY) | set(BUILTIN)))}")
    return _REGISTRY[name](settings)


def backend_name(settings: Settings) -> str:
    """The backend `settings.llm.backend` stands for: `auto` is openai when an OpenAI key or base URL is set."""
    llm = settings.llm
    if llm.backend != "auto":
        return llm.backend
    return "openai" if llm.openai_api_key or llm.openai_base_url else "extractive"
