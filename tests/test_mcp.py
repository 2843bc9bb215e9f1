"""`papertrail mcp` started as a subprocess and driven by the MCP SDK's own client, over stdio and over streamable
HTTP: the tools an agent lists and calls, their structured answers, and refusals that come back as tool errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from conftest import ROOT, free_port, http_status, serving
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

import rag
from rag.text import split_sentences
from test_docs_examples import blocks

pytestmark = pytest.mark.slow

PAPERTRAIL = str(Path(sys.executable).with_name("papertrail"))
KEY = "test-mcp-key"
INVENTED = "What MMLU score does ZQXW-9B reach?"


@pytest.fixture(scope="module")
def home(synced_copy: Path) -> Path:
    """The seeded store with the recorded Daily Papers week synced (papers with arXiv links, a sync batch)."""
    return synced_copy


@pytest.fixture(scope="module")
def synced_paper(home: Path) -> rag.Paper:
    """A paper the recorded sync added, with its arXiv id."""
    return rag.added_since(None, rag.Settings(store={"home": home}))[0].papers[0]


@pytest.fixture(scope="module")
def http_url(home: Path) -> Iterator[str]:
    """`papertrail mcp --http` on a free port, with an API key, waited for until it answers; yields its /mcp URL."""
    port = free_port()
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", "PAPERTRAIL_API_KEY": KEY}
    command = [PAPERTRAIL, "mcp", "--http", "--port", str(port)]
    with serving(command, env, home.parent / "mcp.log", f"http://127.0.0.1:{port}/mcp") as url:
        yield url


def desktop_config(home: Path) -> dict:
    """The Claude Desktop / Cursor entry that docs/integrations.md's command prints for this install and `home`."""
    command = next(b.code for b in blocks(ROOT / "docs" / "integrations.md") if b.language == "sh" and "mcpServers" in b.code)
    env = {**os.environ, "PATH": f"{Path(PAPERTRAIL).parent}{os.pathsep}{os.environ['PATH']}", "PAPERTRAIL_HOME": str(home)}
    printed = subprocess.run(["bash", "-e", "-c", command], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(printed)["mcpServers"]["papertrail"]


@asynccontextmanager
async def stdio_client(home: Path) -> AsyncIterator[Client]:
    """A client of `papertrail mcp` started over stdio from the documented desktop entry, as Claude Desktop does."""
    config = desktop_config(home)
    assert config == {"command": PAPERTRAIL, "args": ["mcp"], "env": {"PAPERTRAIL_HOME": str(home)}}
    async with Client(StdioServerParameters(**config)) as client:
        yield client


@asynccontextmanager
async def http_client(url: str) -> AsyncIterator[Client]:
    """A client of the streamable HTTP server, sending the API key."""
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"}) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


def verbatim_sentence(quote: str, abstract: str) -> bool:
    return quote.strip() in [sentence.strip() for sentence in split_sentences(abstract)]


async def agent_session(client: Client, paper: rag.Paper) -> None:
    """What an agent does: list the tools, call each, read a paper resource, and get refusals it can act on."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "search", "paper", "new_papers"}
    for tool in tools.values():
        assert "verbatim" in tool.description, f"{tool.name}'s description does not say quotes are verbatim"
        assert tool.output_schema, f"{tool.name} has no structured output"

    answered = await client.call_tool("ask", {"question": f"What does “{paper.title}” propose?"})
    assert not answered.is_error, answered.content
    answer = answered.structured_content
    assert not answer["abstained"] and answer["reason"] is None and "[1]" in answer["text"]
    sources = {source["n"]: source for source in answer["sources"]}
    assert answer["citations"]
    for citation in answer["citations"]:
        assert verbatim_sentence(citation["quote"], sources[citation["n"]]["abstract"]), citation
    first = answer["citations"][0]
    assert first["paper_id"] == paper.paper_id and first["link"] == f"https://arxiv.org/abs/{paper.arxiv_id}"

    declined = (await client.call_tool("ask", {"question": INVENTED})).structured_content
    assert declined["abstained"] and declined["text"] == rag.ABSTAIN and not declined["citations"]
    assert "ZQXW-9B" in declined["reason"]

    found = (await client.call_tool("search", {"query": paper.title, "top_k": 3})).structured_content["papers"]
    assert [p["n"] for p in found] == [1, 2, 3] and found[0]["paper_id"] == paper.paper_id
    assert "text" not in found[0] and found[0]["abstract"] == paper.abstract

    for reference in (paper.paper_id, paper.arxiv_id, f"https://arxiv.org/abs/{paper.arxiv_id}"):
        record = (await client.call_tool("paper", {"id_or_arxiv_id": reference})).structured_content
        assert (record["title"], record["arxiv_url"]) == (paper.title, f"https://arxiv.org/abs/{paper.arxiv_id}")

    new = (await client.call_tool("new_papers", {"since": "2000-01-01"})).structured_content
    assert new["last_sync"] and paper.paper_id in [p["paper_id"] for batch in new["batches"] for p in batch["papers"]]

    resource = json.loads((await client.read_resource(f"paper://{paper.paper_id}")).contents[0].text)
    assert (resource["title"], resource["abstract"], resource["authors"]) == (paper.title, paper.abstract, paper.authors)


async def refusals(client: Client) -> None:
    """Bad arguments, of the wrong value or the wrong type, are tool errors with the CLI's one-line messages, and the
    server keeps answering."""
    for tool, arguments, message in [
        ("ask", {"question": "What is BM25?", "top_k": 0}, "top_k must be a whole number from 1 to 50, got 0"),
        ("ask", {"question": "What is BM25?", "top_k": "five"}, "top_k must be a whole number from 1 to 50, got 'five'"),
        ("ask", {"question": 42}, "the question must be text, got 42"),
        ("ask", {"question": "   "}, "the question is empty"),
        ("ask", {"question": "x" * 2001}, "the question is 2,001 characters long; the limit is 2,000"),
        ("search", {"query": "BM25", "dates": "Mar 11"}, 'dates must be a list of listing dates such as ["Mar 11"]'),
        ("paper", {"id_or_arxiv_id": "2401.99999"}, "no indexed paper has the id or arXiv id '2401.99999'"),
        ("new_papers", {"since": "yesterday"}, "since must be a date such as 2026-03-11"),
    ]:
        result = await client.call_tool(tool, arguments)
        assert result.is_error, f"{tool}{arguments} was not refused"
        text = result.content[0].text
        assert message in text and "\n" not in text and "Traceback" not in text, text
    with pytest.raises(MCPError, match="no indexed paper has the id or arXiv id 'nope'"):
        await client.read_resource("paper://nope")
    assert not (await client.call_tool("search", {"query": "BM25"})).is_error


@pytest.mark.parametrize("transport", ["stdio", "streamable-http"])
def test_an_agent_uses_every_tool(transport: str, home: Path, synced_paper: rag.Paper, request: pytest.FixtureRequest) -> None:
    async def session() -> None:
        connect = stdio_client(home) if transport == "stdio" else http_client(request.getfixturevalue("http_url"))
        async with connect as client:
            await agent_session(client, synced_paper)
            await refusals(client)

    anyio.run(session)


def test_http_without_the_key_gets_401(http_url: str) -> None:
    assert http_status(http_url, b"{}") == 401
    assert http_status(http_url, b"{}", {"Authorization": "Bearer wrong"}) == 401


@pytest.mark.parametrize("command", [["mcp", "--http"], ["api"]], ids=["mcp", "api"])
def test_without_a_key_only_loopback_is_served(command: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PAPERTRAIL_API_KEY"} | {"PAPERTRAIL_HOME": str(tmp_path / "home")}
    done = subprocess.run([PAPERTRAIL, *command, "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "papertrail: error: refusing to listen on 0.0.0.0 without a key: set PAPERTRAIL_API_KEY (clients then send it "
        "as a bearer token), or listen on 127.0.0.1 only"
    ]
    assert not (tmp_path / "home").exists(), "it started seeding a store before refusing"


def test_seeding_an_empty_store_leaves_stdout_to_the_protocol(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(rag.Settings().store.seeds_dir / "003_f27ba73f9d03f97c.txt", seeds)
    env = {**os.environ, "PAPERTRAIL_HOME": str(tmp_path / "home"), "PAPERTRAIL_SEEDS_DIR": str(seeds)}
    done = subprocess.run([PAPERTRAIL, "mcp"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "store is empty: ingesting" in done.stderr and "papers:" in done.stderr
    assert done.stdout == "", "anything but JSON-RPC on stdout breaks the client's connection"
