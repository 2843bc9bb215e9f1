"""The `openai` backend: the official openai client, so any OpenAI-compatible server works (vLLM, Ollama, ...).

The only module importing the openai SDK. The SDK reads OPENAI_API_KEY and OPENAI_BASE_URL and retries
timeouts, 429 and 5xx with exponential backoff; this module turns what is left into Papertrail errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import openai

from ..errors import PapertrailError
from . import BackendUnavailable, register
from .chat import ChatBackend, Messages, Usage

if TYPE_CHECKING:
    from ..engine import Engine
    from ..settings import Settings

_RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


class OpenAIChat:
    """Streams chat completions from an OpenAI-compatible server."""

    def __init__(self, settings: Settings) -> None:
        key = os.environ.get("OPENAI_API_KEY") or ("unused" if os.environ.get("OPENAI_BASE_URL") else None)
        if not key:
            raise PapertrailError("the openai backend needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")
        self.client = openai.OpenAI(api_key=key, timeout=settings.llm_timeout, max_retries=settings.llm_retries)
        self.settings = settings

    def chat(self, messages: Messages) -> Iterator[str | Usage]:
        """Text deltas, then the usage the server reported; failures become one-line Papertrail errors."""
        where = f"{self.client.base_url}"
        try:
            stream = self.client.chat.completions.create(
                model=self.settings.llm_model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self.settings.llm_max_tokens,
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
            raise PapertrailError(
                f"{where} rejected the API key (HTTP {err.status_code}); check OPENAI_API_KEY"
            ) from None
        except openai.NotFoundError:
            raise PapertrailError(
                f"{where} has no model {self.settings.llm_model!r} (HTTP 404); set PAPERTRAIL_LLM_MODEL"
            ) from None
        except _RETRYABLE as err:
            retries = self.settings.llm_retries
            raise BackendUnavailable(f"{where} failed after {retries} retries: {_describe(err)}") from None
        except (httpx.TimeoutException, httpx.TransportError) as err:
            raise BackendUnavailable(f"{where} broke off the answer: {type(err).__name__}") from None
        except openai.APIStatusError as err:
            raise PapertrailError(
                f"{where} refused the request (HTTP {err.status_code}): {err.message}"
            ) from None


def _describe(err: openai.APIError) -> str:
    """What went wrong, in a few words for the fallback note."""
    status = getattr(err, "status_code", None)
    return f"HTTP {status}" if status else "timed out" if isinstance(err, openai.APITimeoutError) else "connection failed"


@register("openai")
def _factory(settings: Settings, engine: Engine) -> ChatBackend:
    """A chat backend over the OpenAI-compatible server the SDK variables name."""
    return ChatBackend("openai", OpenAIChat(settings), settings)
