"""Cuts abstracts into sentence-aligned chunks that fit the embedding model's window, title first."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import TextNode

from .text import split_sentences
from .types import Paper

MODEL_WINDOW = 256
"""all-MiniLM-L6-v2 reads at most 256 wordpieces, [CLS] and [SEP] included; the rest is silently cut."""
SPECIAL_TOKENS = 2
LABEL_KEYS = ("dates", "sources", "url", "arxiv_id", "authors", "published")
"""Fields of a paper besides its title and abstract, kept in every chunk's metadata (only when set: Chroma refuses
empty lists)."""
METADATA_KEYS = ("paper_id", "title", *LABEL_KEYS, "content_hash", "chunk_index", "n_chunks")


@lru_cache(maxsize=1)
def wordpiece_tokenizer() -> Callable[[str], list[str]]:
    """The embedding model's own tokenizer, read from the bundled model folder (no download)."""
    from tokenizers import Tokenizer

    from .embed import local_model_dir

    tokenizer = Tokenizer.from_file(str(local_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return lambda text: tokenizer.encode(text, add_special_tokens=False).tokens


def labels(metadata: dict) -> dict:
    """A paper's fields besides title and abstract, read back from one of its chunks' metadata."""
    return {key: metadata.get(key) or ([] if key in ("dates", "sources", "authors") else None) for key in LABEL_KEYS}


def chunk_id(paper_id: str, index: int) -> str:
    """Deterministic chunk id, so re-ingesting a paper overwrites rather than duplicates."""
    return f"{paper_id}:{index}"


def chunk_paper(paper: Paper, content_hash: str, max_tokens: int) -> list[TextNode]:
    """Nodes whose embedded text is `title` + sentences of the abstract, each within `max_tokens`."""
    splitter = SentenceSplitter(
        chunk_size=min(max_tokens, MODEL_WINDOW - SPECIAL_TOKENS),
        chunk_overlap=0,
        tokenizer=wordpiece_tokenizer(),
        chunking_tokenizer_fn=split_sentences,
        include_prev_next_rel=False,
        id_func=lambda i, doc: chunk_id(paper.paper_id, i),
    )
    metadata = {
        "paper_id": paper.paper_id,
        "title": paper.title,
        "content_hash": content_hash,
        **{key: getattr(paper, key) for key in LABEL_KEYS if getattr(paper, key)},
    }
    hidden = [key for key in METADATA_KEYS if key != "title"]
    document = Document(
        text=paper.abstract,
        id_=paper.paper_id,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=hidden,
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )
    nodes = splitter.get_nodes_from_documents([document])
    for index, node in enumerate(nodes):
        node.metadata["chunk_index"] = index
        node.metadata["n_chunks"] = len(nodes)
    return nodes
