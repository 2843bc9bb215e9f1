"""The answering logic shared by language-model backends: prompts, context budget, streaming, citation checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from ..citations import verify
from ..extractive import Draft
from ..prompts import answer_messages, condense_messages, count_tokens, load
from ..settings import Settings
from ..types import Turn
from . import Reply, Request

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

    def answer(self, request: Request) -> Draft:
        """The whole answer, checked."""
        return next(item for item in self.stream(request) if isinstance(item, Reply)).draft

    def stream(self, request: Request) -> Iterator[str | Reply]:
        """The model's text as it arrives, then the checked `Reply` with token counts."""
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
        checked = verify(text, request.sources)
        yield Reply(
            Draft(checked.text, checked.citations, checked.abstained),
            prompt_tokens=_or_count(usage.prompt_tokens, "\n".join(m["content"] for m in messages)),
            completion_tokens=_or_count(usage.completion_tokens, text),
            removed_citations=checked.removed_citations,
            unverified_quotes=checked.unverified_quotes,
            uncited_sentences=checked.uncited_sentences,
        )

    def condense(self, question: str, history: list[Turn]) -> str:
        """The follow-up rewritten by the model into a standalone question (the question itself if it says nothing)."""
        if not history:
            return question
        pieces = self.model.chat(condense_messages(question, history, self.prompts))
        rewritten = "".join(piece for piece in pieces if isinstance(piece, str)).strip()
        return rewritten[: self.settings.max_question_chars] or question


def _or_count(reported: int | None, text: str) -> int:
    """The server's count when it gave one, else our tiktoken count."""
    return reported if reported is not None else count_tokens(text)
