"""The offline default backend: quotes from the abstracts, no language model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import Reply, Request, register

if TYPE_CHECKING:
    from ..engine import Engine
    from ..extractive import Draft
    from ..settings import Settings
    from ..types import Turn


class ExtractiveBackend:
    """Answers with verbatim sentences; earlier questions of the conversation break ties."""

    name = "extractive"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine

    def answer(self, request: Request) -> Draft:
        context = " ".join(turn.question for turn in request.history)
        return self.engine.extractor().answer(request.question, request.sources, context)

    def stream(self, request: Request) -> Iterator[str | Reply]:
        """The answer is composed at once, so it arrives as one piece."""
        draft = self.answer(request)
        yield draft.text
        yield Reply(draft)

    def condense(self, question: str, history: list[Turn]) -> str:
        """Retrieve with the last questions and this one joined: no model to rewrite them."""
        return " ".join([turn.question for turn in history] + [question])


@register("extractive")
def _factory(settings: Settings, engine: Engine) -> ExtractiveBackend:
    """The offline backend over this engine's extractor."""
    return ExtractiveBackend(settings, engine)
