"""Cuts abstracts into sentence-aligned chunks that fit the embedding model's window, title first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .embed import MODEL_WINDOW
from .text import split_sentences
from .types import Paper

SPECIAL_TOKENS = 2


@dataclass(frozen=True)
class Chunk:
    """One piece of an abstract: its place in the paper and where it starts in the abstract."""

    paper_id: str
    index: int
    text: str
    start: int

    @property
    def chunk_id(self) -> str:
        return chunk_id(self.paper_id, self.index)


@lru_cache(maxsize=1)
def wordpiece_tokenizer() -> Callable[[str], list[str]]:
    """The embedding model's own tokenizer, read from the bundled model folder (no download)."""
    from tokenizers import Tokenizer

    from .embed import local_model_dir

    tokenizer = Tokenizer.from_file(str(local_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return lambda text: tokenizer.encode(text, add_special_tokens=False).tokens


def chunk_id(paper_id: str, index: int) -> str:
    """Deterministic chunk id, so a new version of a paper overwrites its chunks rather than duplicating them."""
    return f"{paper_id}:{index}"


def embed_text(title: str, text: str, title_prefix: bool = True) -> str:
    """What the model embeds and BM25 indexes for a chunk: the title, then the chunk's text."""
    return f"{title}\n{text}" if title_prefix else text


def chunk_paper(paper: Paper, max_tokens: int, title_prefix: bool = True) -> list[Chunk]:
    """Chunks of the abstract, each within `max_tokens` wordpieces with the title in front (when it is).

    Cut by llama-index's SentenceSplitter with our sentence splitter and the model's tokenizer; the title
    counts against the budget as the metadata the splitter subtracts.
    """
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(
        chunk_size=min(max_tokens, MODEL_WINDOW - SPECIAL_TOKENS),
        chunk_overlap=0,
        tokenizer=wordpiece_tokenizer(),
        chunking_tokenizer_fn=split_sentences,
        include_prev_next_rel=False,
    )
    document = Document(
        text=paper.abstract,
        metadata={"title": paper.title} if title_prefix else {},
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )
    nodes = splitter.get_nodes_from_documents([document])
    return [Chunk(paper.paper_id, index, node.text, node.start_char_idx or 0) for index, node in enumerate(nodes)]


def join_chunks(chunks: list[tuple[int, str]]) -> str:
    """The abstract from its chunks as (start, text) in order: abstracts have single spaces, so a gap is one space."""
    text = ""
    for start, piece in chunks:
        if text and start > len(text):
            text += " "
        text += piece
    return text
