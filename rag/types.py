"""The records passed between the stages and returned to callers: one per concept."""

from __future__ import annotations

from pydantic import BaseModel, Field

ABSTAIN = "I could not find this in the indexed abstracts."
"""The one abstention phrase: every backend, prompt and front end uses this exact text."""


class Paper(BaseModel):
    """One paper: parsed from the input files, stored as chunks, listed in the catalog."""

    paper_id: str
    title: str
    abstract: str
    dates: list[str] = Field(default_factory=list, description="Listing dates, e.g. 'Mar 11'.")
    sources: list[str] = Field(default_factory=list, description="Names of the files the paper was read from.")
    url: str | None = None


class Source(Paper):
    """A retrieved paper, numbered as the answer cites it."""

    n: int
    score: float = Field(description="Fused retrieval score (higher is better).")
    dense_score: float = Field(description="Best cosine similarity of one of its chunks to the question.")


class Citation(BaseModel):
    """One numbered citation in an answer, with the verbatim sentence of the abstract that backs it."""

    n: int
    paper_id: str
    title: str
    quote: str
    dates: list[str]


class Turn(BaseModel):
    """One earlier exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""


class Answer(BaseModel):
    """What `ask` returns: the cited answer text, its citations and the sources it drew on."""

    question: str
    text: str
    citations: list[Citation]
    sources: list[Source]
    abstained: bool
    backend: str
    timings_ms: dict[str, float]
    notes: list[str] = Field(default_factory=list, description="Warnings a front end should show.")
    removed_citations: list[int] = Field(
        default_factory=list, description="Source numbers the model cited that it was never given (marked in the text)."
    )
    unverified_quotes: list[str] = Field(
        default_factory=list, description="Text the model put in quotation marks that is not verbatim in the cited abstract."
    )
    uncited_sentences: list[str] = Field(default_factory=list, description="Sentences of the answer that cite no source.")
    prompt_tokens: int = Field(default=0, description="Tokens sent to the language model (0 for the extractive backend).")
    completion_tokens: int = Field(default=0, description="Tokens the language model wrote (0 for the extractive backend).")
    ranked: list[str] = Field(
        default_factory=list, description="Paper ids of the best-ranked papers (up to 10, best first), sources included."
    )


class IngestReport(BaseModel):
    """What one ingest did."""

    files: int
    papers: int
    added: int
    updated: int = Field(default=0, description="Known papers that came with a new abstract (dates and files kept).")
    relabelled: int = Field(description="Known papers that gained listing dates or source files.")
    unchanged: int
    chunks_added: int = Field(description="Chunks embedded and written.")
    repaired: int = Field(default=0, description="Chunks whose missing vector was re-embedded (`ingest --check`).")
