"""Answering backends, found through one registry: the shipped ones and any a test or plugin registers."""

from __future__ import annotations

import importlib
from collections.abc import Callable
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


class Backend(Protocol):
    """Turns a request into a draft answer whose [n] markers refer to `request.sources`."""

    name: str

    def answer(self, request: Request) -> Draft: ...


Factory = Callable[["Settings", "Engine"], Backend]
_REGISTRY: dict[str, Factory] = {}
_BUILTIN = {"extractive": ".extractive"}


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


def choose(settings: Settings) -> str:
    """The backend name that `settings.llm` stands for."""
    return "extractive" if settings.llm == "auto" else settings.llm
