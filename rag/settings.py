"""The one settings object: every knob, read from `PAPERTRAIL_*` variables, passed into each entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Papertrail's configuration; callers may pass one or rely on the environment."""

    model_config = SettingsConfigDict(env_prefix="PAPERTRAIL_", extra="ignore")

    home: Path = Field(
        default=Path(".papertrail"),
        description="Folder holding the embedded Chroma store, the BM25 index and the feedback database.",
    )
    seeds_dir: Path = Field(
        default=PROJECT_ROOT / "seeds",
        description="Default corpus, ingested by `papertrail ingest` without arguments and on first use.",
    )
    collection: str = Field(
        default="papers", description="Name of the Chroma collection holding the abstract chunks."
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://host:port); unset uses the embedded store under `home`.",
    )
    embedding: Literal["local", "openai"] = Field(
        default="local",
        description="Embedding provider: the bundled all-MiniLM-L6-v2 (offline) or OpenAI's API.",
    )
    openai_embedding_model: str = Field(
        default="text-embedding-3-small", description="OpenAI embedding model, used when `embedding=openai`."
    )
    chunk_tokens: int = Field(
        default=128,
        ge=32,
        le=254,
        description="Most wordpieces in one chunk (title prefix included); the model reads 256 with its markers.",
    )
    top_k: int = Field(default=5, ge=1, le=50, description="How many papers are handed to the answering backend.")
    candidates: int = Field(
        default=100, ge=5, le=500, description="How many chunks each retriever (dense, BM25) returns before fusion."
    )
    rrf_k: int = Field(default=10, ge=1, description="Reciprocal-rank-fusion constant: higher flattens rank weights.")
    dense_weight: float = Field(
        default=1.0, ge=0, description="Weight of the dense ranking in fusion, relative to BM25 at 1.0."
    )
    max_question_chars: int = Field(default=2000, ge=1, description="Longest question accepted, in characters.")
    answer_words: int = Field(
        default=80, ge=10, description="Word budget for an extractive answer (sentences are never cut)."
    )
    min_dense_score: float = Field(
        default=0.30,
        description="Abstain when no retrieved chunk's cosine similarity to the question reaches this.",
    )
    llm: Literal["auto", "extractive", "openai", "llamacpp"] = Field(
        default="auto",
        description="Answering backend; `auto` is `openai` when OPENAI_API_KEY or OPENAI_BASE_URL is set, else `extractive`.",
    )

    # LLM backends (rag/backends/)
    llm_model: str = Field(
        default="gpt-4o-mini",
        description="Model name for the openai backend, or the path of a .gguf file for the llamacpp backend.",
    )
    llm_timeout: float = Field(
        default=30.0, gt=0, description="Seconds one model call may take before it is retried or given up."
    )
    llm_retries: int = Field(
        default=2, ge=0, le=10, description="Retries (with backoff) after a timeout, HTTP 429 or 5xx before falling back."
    )
    llm_max_tokens: int = Field(default=512, ge=16, description="Most tokens the model may write in one answer.")
    context_tokens: int = Field(
        default=3000, ge=200, description="Token budget (tiktoken) of the numbered sources handed to a language model."
    )

    # Web UI (ui/web.py)
    ui_auth: str | None = Field(
        default=None,
        description="`user:password` turning on the web UI's login; set it whenever the UI listens beyond 127.0.0.1.",
    )
    ui_concurrency: int = Field(
        default=4, ge=1, description="Questions the web UI answers at the same time; the rest wait in its queue."
    )

    # Slack bot (ui/slack.py)
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Base URL of the Slack Web API the bot calls; tests point it at a local stand-in.",
    )
