"""The MCP server (`papertrail mcp`): ask, search, paper and new_papers as tools and `paper://{id}` as a resource,
for agents and editors (Claude Desktop, Cursor, VS Code), over stdio or streamable HTTP. The only `mcp` importer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field, WithJsonSchema

import rag

from .asgi import serve
from .references import CitedAnswer, cited_answer
from .settings import ApiSettings

INSTRUCTIONS = (
    "Papertrail answers questions about the research-paper abstracts it has indexed (Hugging Face Daily Papers and "
    "papers added by its user). Every claim of an answer ends in [n] and comes with a sentence quoted verbatim from "
    "paper n's abstract: quote those sentences as they are. When the abstracts do not support an answer it declines "
    f"with {rag.ABSTAIN!r} and says why; do not answer from your own knowledge instead."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _argument(schema: dict[str, Any], description: str) -> Any:
    """A tool argument that clients see typed by the JSON `schema` and that Papertrail checks itself (rag's checks of
    every argument), so a wrong value or type is refused with the CLI's one-line message, not a validation report."""
    return Annotated[Any, WithJsonSchema(schema), Field(description=description)]


TEXT = {"type": "string"}
OPTIONAL_TEXT = {"anyOf": [TEXT, {"type": "null"}]}
Question = _argument(TEXT, "A question about the indexed papers, in plain words.")
TopK = _argument(
    {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "How many papers to draw on, a whole number from 1 to 50 (default: the server's setting, 5 unless changed).",
)
Dates = _argument(
    {"anyOf": [{"type": "array", "items": TEXT}, {"type": "null"}]},
    'Only papers listed on these Daily Papers dates: "2024-03-11", or "Mar 11" for any year.',
)
Backend = _argument(
    OPTIONAL_TEXT,
    "Who writes the answer: 'extractive' (offline, quotes only) or the server's language model backend ('openai', "
    "'llamacpp'); default: the server's setting.",
)
Query = _argument(TEXT, "What to look for: a topic, a method, a model name.")
PaperReference = _argument(TEXT, "A paper_id from another tool's result, an arXiv id (2403.04706) or an arXiv link.")
Since = _argument(OPTIONAL_TEXT, "A date (2026-03-11) or time (2026-03-11T06:00Z); default: the papers of the latest sync.")


class Found(BaseModel):
    """Papers that match a query, best first."""

    papers: list[rag.Source] = Field(description="Numbered papers with title, authors, dates, abstract and links.")


class NewPapers(BaseModel):
    """What syncs with Hugging Face Daily Papers added to the library."""

    last_sync: datetime | None = Field(description="When the last sync ran; None when the library was never synced.")
    batches: list[rag.SyncBatch] = Field(description="The papers each sync added, oldest sync first.")


def build_server(settings: rag.Settings | None = None) -> MCPServer:
    """The MCP server over `settings`' store (default: the environment's)."""
    settings = settings or rag.Settings()
    server = MCPServer("papertrail", title="Papertrail", instructions=INSTRUCTIONS)

    @server.tool(annotations=READ_ONLY)
    def ask(question: Question, top_k: TopK = None, dates: Dates = None, backend: Backend = None) -> CitedAnswer:
        """Answer a question from the indexed research-paper abstracts. Each claim in `text` ends in [n] markers; each
        citation carries a sentence quoted verbatim from paper n's abstract (checked against it, never paraphrased)
        and a link to the paper. When the abstracts do not support an answer, `abstained` is true, nothing is cited
        and `reason` says why: report that rather than answering from memory."""
        with _refusals():
            return cited_answer(rag.ask(question, settings=settings, top_k=top_k, dates=dates, backend=backend))

    @server.tool(annotations=READ_ONLY)
    def search(query: Query, top_k: TopK = None, dates: Dates = None) -> Found:
        """Find the indexed papers that best match a query, without writing an answer: titles, authors, listing dates,
        full abstracts (verbatim) and arXiv links, best match first. Use it to browse a topic; use `ask` for an
        answer with quotes."""
        with _refusals():
            return Found(papers=rag.search(query, settings, top_k=top_k, dates=dates))

    @server.tool(annotations=READ_ONLY)
    def paper(id_or_arxiv_id: PaperReference) -> rag.Paper:
        """One indexed paper's record: title, authors, listing and publication dates, its abstract verbatim, and links."""
        with _refusals():
            return _lookup(id_or_arxiv_id, settings)

    @server.tool(annotations=READ_ONLY)
    def new_papers(since: Since = None) -> NewPapers:
        """The papers that syncs with Hugging Face Daily Papers added to the library since a date (by default the
        latest sync's), with their abstracts verbatim and arXiv links: what is new to read."""
        with _refusals():
            status = rag.sync_status(settings)
            return NewPapers(last_sync=status.last_sync, batches=rag.added_since(since, settings))

    @server.resource("paper://{paper_id}", name="paper", title="Paper", mime_type="application/json")
    def paper_resource(paper_id: str) -> str:
        """An indexed paper as JSON: title, authors, dates, the abstract verbatim, links (by paper_id or arXiv id)."""
        try:
            return _lookup(paper_id, settings).model_dump_json(indent=1)
        except ToolError as err:
            raise ResourceNotFoundError(str(err)) from None

    return server


def run(
    settings: rag.Settings | None = None,
    *,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 7862,
    api: ApiSettings | None = None,
) -> None:
    """Serve until interrupted: over stdin/stdout, or streamable HTTP at http://host:port/mcp (behind the API key)."""
    server = build_server(settings)
    if http:
        serve(server.streamable_http_app(host=host), host, port, api or ApiSettings())
    else:
        server.run()


def _lookup(reference: str, settings: rag.Settings) -> rag.Paper:
    """The stored paper `reference` names; a ToolError naming it when there is none."""
    found = rag.paper(reference, settings)
    if found is None:
        raise ToolError(f"no indexed paper has the id or arXiv id {reference!r}; `search` finds papers by topic")
    return found


@contextmanager
def _refusals() -> Iterator[None]:
    """Papertrail's one-line refusals (a bad argument, an empty store) as tool errors the agent reads and can act on."""
    try:
        yield
    except rag.PapertrailError as err:
        raise ToolError(" ".join(str(err).splitlines())) from None
