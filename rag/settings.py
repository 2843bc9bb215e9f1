"""The one settings object, in groups (store, retrieval, answer, llm, sync, watch); the only module of `rag` that reads the environment.

Each group reads its own `PAPERTRAIL_*` variables when it is created, so `Settings(store={"home": path})`
keeps the environment's values for every field it does not name. Importing this module also sets the
offline and no-telemetry flags of the libraries Papertrail loads, before any of them is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError

OFFLINE_FLAGS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
"""Set in code (never left to the user's shell): models load from disk only, and no library phones home."""
os.environ.update(OFFLINE_FLAGS)


def bundled(name: str) -> Path:
    """A data folder shipped with the package (`prompts`, `seeds`): inside the installed package, or at the top
    of a source checkout, where an editable install leaves it."""
    package = Path(__file__).resolve().parent
    for folder in (package / name, package.parent / name):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"the bundled folder {name!r} is missing from {package}; reinstall papertrail")


def child_environment(changes: dict[str, str], drop: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment with `changes` made and `drop` removed, for a child `papertrail` process."""
    return {name: value for name, value in {**os.environ, **changes}.items() if name not in drop}


def _group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)


class EnvSettings(BaseSettings):
    """A group of settings read from its environment variables: a value it refuses is one `SettingsError` naming
    the variable, the value and what is allowed (pydantic's own error is several lines about the model)."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise SettingsError(refused_setting(type(self), err)) from None


def refused_setting(group: type[BaseSettings], err: ValidationError) -> str:
    """One line for the first refused value: its variable, the value given, why, and the bounds of the field."""
    first = err.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = group.model_fields.get(name) or next(
        (field for field in group.model_fields.values() if field.validation_alias == name), None
    )
    alias = field.validation_alias if field else None
    variable = alias if isinstance(alias, str) else f"{group.model_config.get('env_prefix', '')}{name}".upper()
    reason = first["msg"].removeprefix("Value error, ")
    bounds = [
        f"{word} {value:g}" if isinstance(value, float) else f"{word} {value}"
        for constraint in (field.metadata if field else [])
        for key, word in (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than"))
        if (value := getattr(constraint, key, None)) is not None
    ]
    allowed = f" (allowed: {' and '.join(bounds)})" if bounds else ""
    return f"{variable}={first.get('input')!s:.80}: {reason[:1].lower()}{reason[1:]}{allowed}"


class StoreSettings(EnvSettings):
    """Where the chunks live: the embedded Chroma store under `home`, or a Chroma server."""

    model_config = _group("PAPERTRAIL_")

    home: Path = Field(
        default=Path(".papertrail"),
        description="Folder holding the embedded Chroma store, the BM25 index and the feedback database.",
    )
    seeds_dir: Path = Field(
        default_factory=lambda: bundled("seeds"),
        description="Default corpus for `papertrail ingest` without paths and for `ensure_corpus` (default: the bundled seeds).",
    )
    collection: str = Field(default="papers", description="Name of the Chroma collection holding the abstract chunks.")
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://host:port); unset uses the embedded store under `home`.",
    )
    chroma_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a connection to the Chroma server before giving up."
    )
    chroma_timeout: float = Field(
        default=60.0, gt=0, description="Seconds one request to the Chroma server may take as a whole before it is given up."
    )
    write_wait: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a writer (ingest, upload, sync) waits for another process writing to the same home to finish.",
    )
    write_batch: int = Field(
        default=1000,
        ge=1,
        le=5000,
        description="Chunks embedded and written per store write (whole papers: each paper's chunks go in one write).",
    )
    search_ef: int = Field(
        default=400,
        ge=10,
        le=5000,
        description=(
            "How widely a vector search walks Chroma's HNSW graph (its ef_search; at least `candidates` is used): "
            "at Chroma's 100 a search for 100 chunks missed 5% of the exact nearest ones on the seeds, at 400 0.1%. "
            "A new store is made with it; an older one takes it at its next write."
        ),
    )

    @field_validator("home")
    @classmethod
    def _a_folder(cls, home: Path) -> Path:
        """The home is a folder, or a path where one can be made."""
        if home.exists() and not home.is_dir():
            raise ValueError("it is a file, not a folder: point PAPERTRAIL_HOME at a folder (one is made if missing)")
        return home


class RetrievalSettings(EnvSettings):
    """How abstracts are embedded and chunks ranked."""

    model_config = _group("PAPERTRAIL_")

    embedding: Literal["local", "openai"] = Field(
        default="local", description="Embedding provider: the bundled all-MiniLM-L6-v2 (offline) or OpenAI's API."
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
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        default="cpu",
        validation_alias="PAPERTRAIL_DEVICE",
        description="Where the local model embeds: `cpu` (ONNX Runtime), `cuda`/`mps` (torch), `auto` a GPU when one is seen.",
    )
    model_cache: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "papertrail",
        description="Folder for the ONNX export of the bundled model (made once from its checked weights).",
    )
    title_prefix: bool = Field(
        default=True, description="Embed and index each chunk with its paper's title in front of it."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="How many papers are handed to the answering backend.")
    candidates: int = Field(
        default=100, ge=5, le=500, description="How many chunks each retriever (dense, BM25) returns before fusion."
    )
    rrf_k: int = Field(default=10, ge=1, description="Reciprocal-rank-fusion constant: higher flattens rank weights.")
    dense_weight: float = Field(default=1.0, ge=0, description="Weight of the dense ranking in fusion, relative to BM25 at 1.0.")
    name_weight: float = Field(
        default=1.0,
        ge=0,
        description="Weight of the ranking by the question's names alone (BM25 over 'Dolma', 'GLM-130B') in fusion: "
        "the paper a question names is found even when its other words match other papers better.",
    )


class AnswerSettings(EnvSettings):
    """What a question may be and how much an answer may say."""

    model_config = _group("PAPERTRAIL_ANSWER_")

    words: int = Field(default=80, ge=10, description="Word budget for an extractive answer (sentences are never cut).")
    list_papers: int = Field(
        default=10,
        ge=1,
        le=50,
        description="Best-ranked papers a 'which papers' or comparison question draws on (top_k when that is more): "
        "each one the relevance test keeps is named.",
    )
    max_question_chars: int = Field(default=2000, ge=1, description="Longest question accepted, in characters.")
    history_turns: int = Field(default=2, ge=0, le=20, description="Earlier turns of a conversation a follow-up sees.")


class LLMSettings(EnvSettings):
    """The answering backend and, for language-model backends, how to reach the model."""

    model_config = _group("PAPERTRAIL_LLM_")

    backend: Literal["auto", "extractive", "openai", "llamacpp"] = Field(
        default="auto",
        validation_alias="PAPERTRAIL_LLM",
        description="Answering backend; `auto` is `openai` when an OpenAI key or base URL is set, else `extractive`.",
    )
    model: str = Field(
        default="gpt-4o-mini",
        description="Model name for the openai backend, or the path of a .gguf file for the llamacpp backend.",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds one model call may take before it is retried or given up.")
    retries: int = Field(
        default=2, ge=0, le=10, description="Retries (with backoff) after a timeout, HTTP 429 or 5xx before falling back."
    )
    max_tokens: int = Field(default=512, ge=16, description="Most tokens the model may write in one answer.")
    context_tokens: int = Field(
        default=3000, ge=200, description="Token budget (tiktoken) of the numbered sources handed to a language model."
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias="OPENAI_API_KEY", description="Key for the OpenAI API or a compatible server."
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="Base URL of an OpenAI-compatible server (vLLM, Ollama, LM Studio); unset: OpenAI's API.",
    )


class SyncSettings(EnvSettings):
    """`papertrail sync` and `add`: where Hugging Face Daily Papers are fetched from, the only network Papertrail
    reaches on its own (only when a user runs them). `HF_ENDPOINT` and `HF_TOKEN` as in every huggingface_hub tool."""

    model_config = _group("PAPERTRAIL_SYNC_")

    endpoint: str = Field(
        default="https://huggingface.co",
        validation_alias="HF_ENDPOINT",
        description="Base URL of the Hugging Face Hub (or a mirror) serving /api/daily_papers and /api/papers/{id}.",
    )
    token: SecretStr | None = Field(
        default=None,
        validation_alias="HF_TOKEN",
        description="Hugging Face access token sent with listing requests; unset sends none (public listings need none).",
    )
    timeout: float = Field(
        default=30.0, gt=0, description="Seconds one request may take as a whole (however slowly the answer trickles in)."
    )
    retries: int = Field(
        default=3, ge=0, le=10, description="Retries of one request after HTTP 429, a 5xx answer or a timeout."
    )
    backoff: float = Field(
        default=2.0, ge=0, description="Seconds before the first retry after a 5xx or timeout, doubled at each retry."
    )
    max_wait: float = Field(
        default=300.0, ge=0, description="Longest Retry-After (seconds) a 429 answer is waited out; longer ends the sync."
    )
    page_size: int = Field(default=50, ge=1, le=100, description="Papers asked for per listing request (the service's default is 50).")
    max_response_mb: float = Field(
        default=10.0,
        gt=0,
        description="Largest answer (MB) one request may bring; a listing page of 100 papers is well under 1 MB.",
    )

    @field_validator("endpoint")
    @classmethod
    def _a_web_address(cls, endpoint: str) -> str:
        """The endpoint is an http(s) address with a host."""
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// address such as https://huggingface.co")
        return endpoint


class WatchSettings(EnvSettings):
    """When a new paper matches a watch (a saved question): see docs/watches.md for how the bounds were chosen."""

    model_config = _group("PAPERTRAIL_WATCH_")

    min_score: float = Field(
        default=0.32,
        ge=-2.0,
        le=2.0,
        description="Least match score for a new paper that passes ask's relevance decision to match a watch: its "
        "cosine similarity above the watch's background plus `coverage_weight` times its coverage of the watch's "
        "words; chosen by cross-validation on eval/watches.jsonl (docs/watches.md).",
    )
    coverage_weight: float = Field(
        default=0.3,
        ge=0.0,
        le=2.0,
        description="Weight of coverage (share of the watch's words, weighted by BM25's IDF, in the title and "
        "abstract) in the match score; chosen with min_score.",
    )
    candidates: int = Field(
        default=20,
        ge=1,
        le=50,
        description="Papers ranked per watch and write; the median of their cosine similarity is the watch's background.",
    )
    calibration: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="Latest seen papers ranked beside the new ones (never matched), so a write that adds only a few "
        "papers still gives the watch a background to stand out from.",
    )


class Settings(BaseModel):
    """Papertrail's configuration: pass one to any entry point, or rely on the environment."""

    store: StoreSettings = Field(default_factory=StoreSettings, description="Where the chunks are kept.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Embedding and ranking.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Question limits and answer length.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Answering backend and model server.")
    sync: SyncSettings = Field(default_factory=SyncSettings, description="Hugging Face Daily Papers sync.")
    watch: WatchSettings = Field(default_factory=WatchSettings, description="Matching new papers to watches.")
