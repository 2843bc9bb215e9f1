"""OpenAI and any OpenAI-compatible server (vLLM, Ollama, LM Studio): the chat backend and the embedding model.

The only module importing the openai SDK. Key and base URL come from the settings (OPENAI_API_KEY and
OPENAI_BASE_URL); the SDK retries timeouts, 429 and 5xx with backoff, and what is left becomes
Papertrail errors here.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import httpx
import openai

from ..answer import BackendUnavailable, register
from ..answer.llm import ChatBackend, Messages, Usage
from ..errors import PapertrailError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from ..settings import LLMSettings, Settings

_RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


def _key(llm: LLMSettings) -> str:
    """The API key; a local server may need none, but the SDK insists on one."""
    if llm.openai_api_key:
        return llm.openai_api_key.get_secret_value()
    if llm.openai_base_url:
        return "unused"
    raise PapertrailError("the openai backend needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")


class OpenAIChat:
    """Streams chat completions from an OpenAI-compatible server."""

    def __init__(self, settings: Settings) -> None:
        llm = settings.llm
        self.client = openai.OpenAI(
            api_key=_key(llm), base_url=llm.openai_base_url, timeout=llm.timeout, max_retries=llm.retries
        )
        self.llm = llm

    def chat(self, messages: Messages) -> Iterator[str | Usage]:
        """Text deltas, then the usage the server reported; failures become one-line Papertrail errors."""
        where = f"{self.client.base_url}"
        try:
            stream = self.client.chat.completions.create(
                model=self.llm.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self.llm.max_tokens,
                temperature=0,
                stream=True,
                stream_options={"include_usage": True},
            )
            usage = Usage()
            for chunk in stream:
                if chunk.usage:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content
            yield usage
        except openai.AuthenticationError as err:
            raise PapertrailError(f"{where} rejected the API key (HTTP {err.status_code}); check OPENAI_API_KEY") from None
        except openai.NotFoundError:
            raise PapertrailError(f"{where} has no model {self.llm.model!r} (HTTP 404); set PAPERTRAIL_LLM_MODEL") from None
        except _RETRYABLE as err:
            raise BackendUnavailable(f"{where} failed after {self.llm.retries} retries: {_describe(err)}") from None
        except (httpx.TimeoutException, httpx.TransportError) as err:
            raise BackendUnavailable(f"{where} broke off the answer: {type(err).__name__}") from None
        except openai.APIStatusError as err:
            raise PapertrailError(f"{where} refused the request (HTTP {err.status_code}): {err.message}") from None


def _describe(err: openai.APIError) -> str:
    """What went wrong, in a few words for the fallback note."""
    status = getattr(err, "status_code", None)
    return f"HTTP {status}" if status else "timed out" if isinstance(err, openai.APITimeoutError) else "connection failed"


@register("openai")
def _factory(settings: Settings) -> ChatBackend:
    """A chat backend over the OpenAI-compatible server the settings name."""
    return ChatBackend("openai", OpenAIChat(settings), settings)


def openai_embedding(settings: Settings) -> BaseEmbedding:
    """llama-index's OpenAI embedding model, with the key and base URL from the settings; one per process."""
    llm = settings.llm
    return _embedding(settings.retrieval.openai_embedding_model, _key(llm), llm.openai_base_url)


@lru_cache(maxsize=2)
def _embedding(model: str, key: str, base_url: str | None) -> BaseEmbedding:
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(model=model, api_key=key, api_base=base_url)
