"""The llamacpp backend with a real GGUF model; runs only when the extra and a model file are present."""

from __future__ import annotations

import os

import pytest

import rag

MODEL_PATH = os.environ.get("PAPERTRAIL_TEST_GGUF", "")


def test_local_gguf_model_answers_with_checked_citations(seeded):
    pytest.importorskip("llama_cpp", reason="llama_cpp is not installed (pip install '.[llamacpp]')")
    if not os.path.isfile(MODEL_PATH):
        pytest.skip("no GGUF model: set PAPERTRAIL_TEST_GGUF to a local .gguf file (none is downloaded)")
    settings = seeded.model_copy(update={"llm": seeded.llm.model_copy(update={"backend": "llamacpp", "model": MODEL_PATH, "max_tokens": 128})})
    answer = rag.ask("Which regularization technique helps when repeating pre-training data?", settings=settings)
    assert answer.backend == "llamacpp"
    assert all(c.n in {s.n for s in answer.sources} for c in answer.citations)
