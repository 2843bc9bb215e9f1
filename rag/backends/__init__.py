"""Answering backends, found through one registry: the shipped ones and any a test or plugin registers."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import PapertrailError

if TYPE_CHECKING:
    from ..engine import Engine
    from ..extractive import Draft
    from ..settings import Settings
    from ..types import Source, Turn


@dataclass(frozen=True)
class Request:
    """What a backend answers: the question, the numbered sources (fixed before generation) and the history."""

    question: str
    sources: list[Source]
    history: list[Turn] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """A finished answer: the draft (citations checked by the backend) and the tokens it cost."""

    draft: Draft
    prompt_tokens: int = 0
    completion_tokens: int = 0
    removed_citations: list[int] = field(default_factory=list)
    unverified_quotes: list[str] = field(default_factory=list)
    uncited_sentences: list[str] = field(default_factory=list)


class Backend(Protocol):
    """Turns a request into an answer whose [n] markers refer to `request.sources`."""

    name: str

    def answer(self, request: Request) -> Draft:
        """The whole answer at once."""
        ...

    def stream(self, request: Request) -> Iterator[str | Reply]:
        """Text pieces as they are produced, then one final `Reply`."""
        ...

    def condense(self, question: str, history: list[Turn]) -> str:
        """The query to retrieve with for a follow-up `question`."""
        ...


class BackendUnavailable(PapertrailError):
    """The model server timed out or kept failing after the retries; the caller falls back to extractive."""


Factory = Callable[["Settings", "Engine"], Backend]
_REGISTRY: dict[str, Factory] = {}
_BUILTIN = {"extractive": ".extractive", "openai": ".openai_compat", "llamacpp": ".llamacpp"}


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator adding a backend factory under `name`."""

    def add(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return add


def create(name: str, settings: Settings, engine: Engine) -> Backend:
    """The backend registered as `name`, importing a built-in one on first use."""
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name], __name__)
    if name not in _REGISTRY:
        raise PapertrailError(f"unknown backend {name!r}; available: {', '.join(sorted(set(_REGISTRY) | set(_BUILTIN)))}")
    return _REGISTRY[name](settings, engine)


def backend_name(settings: Settings) -> str:
    """The backend name that `settings.llm` stands for: `auto` is openai when the SDK's variables are set."""
    if settings.llm != "auto":
        return settings.llm
    return "openai" if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL") else "extractive"
