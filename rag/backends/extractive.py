"""The offline default backend: quotes from the abstracts, no language model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Request, register

if TYPE_CHECKING:
    from ..engine import Engine
    from ..extractive import Draft
    from ..settings import Settings

HISTORY_TURNS = 2


class ExtractiveBackend:
    """Answers with verbatim sentences; earlier questions of the conversation break ties."""

    name = "extractive"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine

    def answer(self, request: Request) -> Draft:
        context = " ".join(turn.question for turn in request.history[-HISTORY_TURNS:])
        return self.engine.extractor().answer(request.question, request.sources, context)


@register("extractive")
def _factory(settings: Settings, engine: Engine) -> ExtractiveBackend:
    return ExtractiveBackend(settings, engine)
