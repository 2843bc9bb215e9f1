"""The shell shared by language-model backends: prompts, its own context budget, streaming, token counts.

A vendor module (rag/providers/) supplies only the `ChatModel` call; this shell does the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from ..settings import Settings
from ..types import Source, Turn
from . import Draft, Request
from .prompts import answer_messages, condense_messages, count_tokens, fit, load

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Usage:
    """Token counts a model server reported for one call (None when it reported none)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatModel(Protocol):
    """One vendor's chat-completion call: text pieces as they arrive, then the usage."""

    def chat(self, messages: Messages) -> Iterator[str | Usage]: ...


class ChatBackend:
    """A backend answering through a chat model, with the sources numbered and delimited as data."""

    def __init__(self, name: str, model: ChatModel, settings: Settings) -> None:
        self.name = name
        self.model = model
        self.settings = settings
        self.prompts = load()

    def fit(self, sources: list[Source]) -> list[Source]:
        """The leading sources whose blocks fit the model's context budget (`llm.context_tokens`)."""
        return fit(sources, self.settings.llm.context_tokens, self.prompts)

    def stream(self, request: Request) -> Iterator[str | Draft]:
        """The model's text as it arrives, then the `Draft` with token counts."""
        messages = answer_messages(request.question, request.sources, self.prompts)
        pieces: list[str] = []
        usage = Usage()
        for item in self.model.chat(messages):
            if isinstance(item, Usage):
                usage = item
            elif item:
                pieces.append(item)
                yield item
        text = "".join(pieces)
        yield Draft(
            text,
            prompt_tokens=_or_count(usage.prompt_tokens, "\n".join(m["content"] for m in messages)),
            completion_tokens=_or_count(usage.completion_tokens, text),
        )

    def condense(self, question: str, history: list[Turn]) -> str:
        """The follow-up rewritten by the model into a standalone question (the question itself if it says nothing)."""
        if not history:
            return question
        pieces = self.model.chat(condense_messages(question, history, self.prompts))
        rewritten = "".join(piece for piece in pieces if isinstance(piece, str)).strip()
        return rewritten[: self.settings.answer.max_question_chars] or question


def _or_count(reported: int | None, text: str) -> int:
    """The server's count when it gave one, else our tiktoken count."""
    return reported if reported is not None else count_tokens(text)
