"""Prompt templates from prompts/ (package data), checked once at load, and the message lists built from them for a model.

Templates use str.format placeholders; each file must use exactly its expected placeholders, so a
missing or misspelt one fails when a language-model backend is created, naming the file and placeholder.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from llama_index.core.utils import get_tokenizer

from ..errors import PapertrailError
from ..settings import bundled
from ..text import split_sentences
from ..types import ABSTAIN, Source, Turn

PLACEHOLDERS = {
    "system": {"abstain"},
    "answer": {"sources", "question"},
    "condense": {"history", "question"},
    "source": {"n", "title", "dates", "abstract"},
}
_DELIMITER = re.compile(r"<\s*/?\s*(?:sources|question|conversation)\b[^<>]*>", re.IGNORECASE)
"""The prompt's delimiter tags as a model may read them: any case, spaces inside, attributes (`< /Sources >`)."""


class PromptError(PapertrailError):
    """A prompt file is missing or its placeholders do not match what the code fills in."""


@dataclass(frozen=True)
class Prompts:
    """The loaded templates, by name (the file name without .txt)."""

    templates: dict[str, str]

    def fill(self, name: str, **values: object) -> str:
        """Template `name` with its placeholders filled."""
        return self.templates[name].format(**values)


def check(name: str, text: str, path: Path) -> None:
    """Raise PromptError unless `text` uses exactly the placeholders expected for `name`."""
    try:
        found = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as err:
        raise PromptError(f"prompt {path}: {err}") from None
    unknown, missing = sorted(found - PLACEHOLDERS[name]), sorted(PLACEHOLDERS[name] - found)
    if unknown:
        raise PromptError(f"prompt {path}: unknown placeholder {{{unknown[0]}}}; expected {sorted(PLACEHOLDERS[name])}")
    if missing:
        raise PromptError(f"prompt {path}: missing placeholder {{{missing[0]}}}")


@cache
def load(folder: Path | None = None) -> Prompts:
    """Read and check every template in `folder` (default: the bundled prompts) once per process."""
    folder = folder or bundled("prompts")
    templates = {}
    for name in PLACEHOLDERS:
        path = folder / f"{name}.txt"
        if not path.is_file():
            raise PromptError(f"prompt file {path} is missing")
        text = path.read_text(encoding="utf-8").strip()
        check(name, text, path)
        templates[name] = text
    return Prompts(templates)


def count_tokens(text: str) -> int:
    """Tokens of `text` with tiktoken's cl100k encoding (llama-index ships its file, so nothing is downloaded)."""
    return len(get_tokenizer()(text))


def as_data(text: str) -> str:
    """Text with the prompt's delimiter tags defused (their angle brackets made ‹ ›), so a source or question cannot
    open or close a data block, whatever the case or spacing of the tag."""
    return _DELIMITER.sub(lambda tag: tag.group(0).replace("<", "‹").replace(">", "›"), text)


def fit(sources: list[Source], budget: int, prompts: Prompts | None = None) -> list[Source]:
    """The leading sources whose blocks fit in `budget` tokens; the first is cut to whole sentences if needed."""
    prompts = prompts or load()
    kept: list[Source] = []
    used = 0
    for source in sources:
        cost = count_tokens(source_block(source, prompts))
        if used + cost > budget:
            if not kept:
                kept.append(_shorten(source, budget, prompts))
            break
        kept.append(source)
        used += cost
    return kept


def _shorten(source: Source, budget: int, prompts: Prompts) -> Source:
    """The source with its abstract cut to the leading sentences that fit in `budget` tokens."""
    sentences = split_sentences(source.abstract)
    while len(sentences) > 1:
        trial = source.model_copy(update={"abstract": "".join(sentences)})
        if count_tokens(source_block(trial, prompts)) <= budget:
            break
        sentences.pop()
    return source.model_copy(update={"abstract": "".join(sentences).strip()})


def source_block(source: Source, prompts: Prompts) -> str:
    """One numbered source as the model reads it."""
    return prompts.fill(
        "source",
        n=source.n,
        title=as_data(source.title),
        dates=", ".join(source.dates) or "unknown",
        abstract=as_data(source.abstract),
    )


def answer_messages(question: str, sources: list[Source], prompts: Prompts | None = None) -> list[dict[str, str]]:
    """System and user messages asking for a cited answer from the numbered sources."""
    prompts = prompts or load()
    blocks = "\n\n".join(source_block(source, prompts) for source in sources)
    return [
        {"role": "system", "content": prompts.fill("system", abstain=ABSTAIN)},
        {"role": "user", "content": prompts.fill("answer", sources=blocks, question=as_data(question))},
    ]


def condense_messages(question: str, history: list[Turn], prompts: Prompts | None = None) -> list[dict[str, str]]:
    """One user message asking to rewrite a follow-up into a standalone question."""
    prompts = prompts or load()
    lines = []
    for turn in history:
        lines.append(f"User: {as_data(turn.question)}")
        if turn.answer:
            lines.append(f"Assistant: {as_data(turn.answer)}")
    return [{"role": "user", "content": prompts.fill("condense", history="\n".join(lines), question=as_data(question))}]
