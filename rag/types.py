"""The records passed between the stages and returned to callers: one per concept."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, computed_field

ABSTAIN = "I could not find this in the indexed abstracts."
"""The one abstention phrase: every backend, prompt and front end uses this exact text."""


class Paper(BaseModel):
    """One paper: parsed from the input files, stored as chunks, listed in the catalog."""

    paper_id: str
    title: str
    abstract: str
    dates: list[str] = Field(
        default_factory=list,
        description="Listing dates: '2024-03-11' when the year is known (synced), else as the page gave it ('Mar 11').",
    )
    sources: list[str] = Field(
        default_factory=list, description="Names of the files (or synced listing days) the paper was read from."
    )
    url: str | None = None
    arxiv_id: str | None = Field(default=None, description="arXiv identifier, e.g. '2403.04706' (synced papers).")
    authors: list[str] = Field(default_factory=list, description="Author names in paper order (synced papers).")
    published: str | None = Field(default=None, description="arXiv publication date, ISO (synced papers).")

    @computed_field
    @property
    def arxiv_url(self) -> str | None:
        """Direct link to the paper's arXiv page, when its arXiv id is known."""
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None

    def labels(self) -> dict[str, str | list[str]]:
        """Its fields besides id, title and abstract that are set: what each of its stored chunks carries."""
        return {key: value for key in PAPER_LABELS if (value := getattr(self, key)) not in (None, "", [])}


PAPER_LABELS = tuple(name for name in Paper.model_fields if name not in ("paper_id", "title", "abstract"))
"""A paper's fields besides id, title and abstract (dates, source files, links, arXiv id, authors, publication date)."""


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


class UnverifiedFigures(BaseModel):
    """A sentence of a model's answer stating figures that none of the sources it cites states: shown as unverified."""

    sentence: str = Field(description="The sentence, as it stands in the answer's text.")
    start: int = Field(description="Where the sentence starts in `Answer.text` (a character offset).")
    end: int = Field(description="Where it ends in `Answer.text` (exclusive), so `text[start:end] == sentence`.")
    figures: list[str] = Field(description="Its figures that no cited source states, as written (\"99%\", \"1.2T\").")


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
    reason: str | None = Field(
        default=None,
        description="Why it declined, one sentence for the reader (\"No indexed abstract mentions Kookaburra.\"); "
        "None when it answered.",
    )
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
    unverified_figures: list[UnverifiedFigures] = Field(
        default_factory=list,
        description="Sentences of a model's answer stating a figure that no source they cite states (\"1.2 trillion\" "
        "and \"1,200B\" are the same figure, as are \"64%\" and \"64 percent\").",
    )
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
    notes: list[str] = Field(
        default_factory=list,
        description="`ingest --check`: what it found damaged and rebuilt, and what it could not rebuild, a sentence each.",
    )


class CheckReport(IngestReport):
    """What `ingest --check` did: the ingest counts (`repaired` chunks), and the search index damage it rebuilt."""

    index_repaired: list[str] = Field(
        default_factory=list,
        description="Damage found in the saved search index (a file failing its checksum), rebuilt from the store.",
    )


class SyncReport(IngestReport):
    """What one `sync` or `add` did: the ingest counts, `files` counting the listing days (or arXiv ids) read."""

    skipped: list[str] = Field(
        default_factory=list, description="Records that could not be used, each naming its arXiv id and why."
    )
    synced_before: int = Field(
        default=0, description="Listing days asked for that earlier syncs stored in full (not fetched again)."
    )
    kept: list[str] = Field(
        default_factory=list,
        description="What was kept of the stored version of a record: its title (one paper per arXiv id) or its "
        "longer abstract (the record being no newer), each line naming the arXiv id and what was kept.",
    )


class SyncBatch(BaseModel):
    """The papers one sync added to the store (numbered, so a digest can be posted once per batch)."""

    number: int
    finished: datetime
    papers: list[Paper]


class SyncStatus(BaseModel):
    """What the syncs have done so far: for the web header, `/papertrail new` and the Slack digest."""

    last_sync: datetime | None = Field(description="When the latest sync that fetched every day it was asked for ended.")
    days: int = Field(description="Listing days stored in full.")
    latest: SyncBatch | None = Field(description="The papers added by the latest sync that added any.")


class Watch(BaseModel):
    """A saved question or topic: each new paper that answers it is sent to its owner once."""

    id: int
    question: str
    owner: str = Field(description="Whose it is: 'local' (CLI, Python), 'slack:U123', 'web:alice', 'browser:<id>'.")
    channel: str | None = Field(default=None, description="Where its matches go instead of to the owner (a Slack channel id).")
    created: datetime


class WatchMatch(BaseModel):
    """A new paper that matched a watch, with the sentence of its abstract that matches."""

    id: int
    watch: Watch
    paper: Paper
    sentence: str = Field(description="The sentence of the abstract that answers the watch, verbatim.")
    dense_score: float = Field(description="Best cosine similarity of one of the paper's chunks to the watch.")
    coverage: float = Field(description="Share of the watch's words, weighted by rarity, that the title and abstract use.")
    background: float = Field(
        description="Typical cosine similarity of the watch to papers of the time (the median of its best-ranked "
        "papers among the new and latest seen ones): how far `dense_score` stands out."
    )
    found: datetime

    @computed_field
    @property
    def ask(self) -> str:
        """The question a one-click "ask about it" asks."""
        return f"What does “{self.paper.title}” propose?"
