"""The `llamacpp` backend: a local GGUF model through llama-cpp-python (optional extra `.[llamacpp]`).

The only module importing llama_cpp; the model loads once per process and path.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..answer import register
from ..answer.llm import ChatBackend, Messages, Usage
from ..errors import PapertrailError

if TYPE_CHECKING:
    from ..settings import Settings

CONTEXT_WINDOW = 4096


@cache
def _load(path: str) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError:
        raise PapertrailError("the llamacpp backend needs the extra: pip install '.[llamacpp]'") from None
    if not Path(path).is_file():
        raise PapertrailError(f"no GGUF model file at {path!r}; set PAPERTRAIL_LLM_MODEL to its path")
    return Llama(model_path=path, n_ctx=CONTEXT_WINDOW, verbose=False)


class LlamaCppChat:
    """Streams chat completions from a GGUF model in this process."""

    def __init__(self, settings: Settings) -> None:
        self.llama = _load(settings.llm.model)
        self.max_tokens = settings.llm.max_tokens

    def chat(self, messages: Messages) -> Iterator[str | Usage]:
        """Text deltas; llama.cpp reports no usage while streaming, so the backend counts tokens itself."""
        for chunk in self.llama.create_chat_completion(
            messages=messages, max_tokens=self.max_tokens, temperature=0, stream=True
        ):
            content = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
            if content:
                yield content
        yield Usage()


@register("llamacpp")
def _factory(settings: Settings) -> ChatBackend:
    """A chat backend over the GGUF model named by `settings.llm.model`."""
    return ChatBackend("llamacpp", LlamaCppChat(settings), settings)
