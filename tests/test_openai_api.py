"""`papertrail api` started as a subprocess and driven by the real `openai` client (and raw HTTP where the wire format
itself is the point): answers with [n] markers and a Sources block, the `reference` extra, streaming, auth, load."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest
from conftest import free_port, serving

import rag
from rag.text import split_sentences

pytestmark = pytest.mark.slow

KEY = "test-api-key"
QUESTION = "How many tokens was CT-LLM trained on?"
CT_LLM = "Chinese Tiny LLM: Pretraining a Chinese-Centric Large Language Model"
INVENTED = "What MMLU score does ZQXW-9B reach?"


@pytest.fixture(scope="module")
def base_url(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`papertrail api` on a free port over a copy of the seeded store, with an API key; yields its /v1 URL."""
    home = tmp_path_factory.mktemp("api") / "home"
    shutil.copytree(seeded_home, home)
    port = free_port()
    env = {**os.environ, "PAPERTRAIL_HOME": str(home), "PAPERTRAIL_LLM": "extractive", "PAPERTRAIL_API_KEY": KEY}
    command = [str(Path(sys.executable).with_name("papertrail")), "api", "--port", str(port)]
    with serving(command, env, home.parent / "api.log", f"http://127.0.0.1:{port}/v1/models") as url:
        yield url.removesuffix("/models")


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=120)


def raw(method: str, url: str, body: dict | None = None, key: str | None = KEY) -> tuple[int | None, str]:
    """Status and body of one plain HTTP request (None while nothing listens)."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return None, ""


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def streamed(client: openai.OpenAI, messages: list[dict[str, str]]) -> tuple[str, list, dict]:
    """The content, the chunks and the final chunk's reference of one streamed completion."""
    chunks = list(client.chat.completions.create(model="papertrail", messages=messages, stream=True))
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    return content, chunks, chunks[-1].choices[0].delta.model_extra["reference"]


def test_one_model_is_listed(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["papertrail"]


def test_an_answer_keeps_its_markers_sources_and_reference(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="papertrail", messages=ask(QUESTION))
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    content = reply.choices[0].message.content
    answer, sources = content.split("**Sources**")
    assert "1,200 billion tokens" in answer and "[1]" in answer
    assert f"[1] {CT_LLM}" in sources
    reference = reply.choices[0].message.model_extra["reference"]
    assert not reference["abstained"] and reference["citations"]
    abstracts = {source["n"]: source["abstract"] for source in reference["sources"]}
    for citation in reference["citations"]:
        assert citation["quote"] in [s.strip() for s in split_sentences(abstracts[citation["n"]])]
        assert f'> "{citation["quote"]}"' in sources


def test_streaming_sends_chunks_a_stop_and_the_same_answer(client: openai.OpenAI, base_url: str) -> None:
    content, chunks, reference = streamed(client, ask(QUESTION))
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert [chunk.choices[0].finish_reason for chunk in chunks].count("stop") == 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    whole = client.chat.completions.create(model="papertrail", messages=ask(QUESTION))
    assert content == whole.choices[0].message.content
    assert reference == whole.choices[0].message.model_extra["reference"]
    status, body = raw("POST", f"{base_url}/chat/completions", {"model": "papertrail", "messages": ask(QUESTION), "stream": True})
    events = [line for line in body.splitlines() if line]
    assert status == 200 and all(line.startswith("data: ") for line in events) and events[-1] == "data: [DONE]"


def test_an_invented_name_declines_with_its_reason(client: openai.OpenAI) -> None:
    content, _, reference = streamed(client, ask(INVENTED))
    assert content.startswith(rag.ABSTAIN)
    assert reference["abstained"] and not reference["citations"] and "ZQXW-9B" in reference["reason"]
    assert reference["reason"] in content and "**Sources**" in content


def test_earlier_turns_are_the_history(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="papertrail", messages=ask(QUESTION)).choices[0].message.content
    follow_up = [*ask(QUESTION), {"role": "assistant", "content": first}, {"role": "user", "content": "How many of them were code tokens?"}]
    reply = client.chat.completions.create(model="papertrail", messages=follow_up)
    reference = reply.choices[0].message.model_extra["reference"]
    assert not reference["abstained"] and reference["citations"][0]["title"] == CT_LLM
    assert "100 billion code tokens" in reply.choices[0].message.content


def test_a_wrong_or_missing_key_gets_401(base_url: str) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).chat.completions.create(
            model="papertrail", messages=ask(QUESTION)
        )
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    status, body = raw("GET", f"{base_url}/models", key=None)
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"


def test_bad_requests_get_one_line_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="top_k must be a whole number from 1 to 50, got 0"):
        client.chat.completions.create(model="papertrail", messages=ask(QUESTION), extra_body={"top_k": 0})
    with pytest.raises(openai.BadRequestError, match="the last message must be the user's question"):
        client.chat.completions.create(model="papertrail", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="the question is empty"):
        client.chat.completions.create(model="papertrail", messages=ask("  "), stream=True)
    with pytest.raises(openai.NotFoundError, match="the model 'gpt-4o' does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=ask(QUESTION))


def test_twenty_concurrent_streams_all_complete(client: openai.OpenAI) -> None:
    questions = [QUESTION, INVENTED, "Which papers study continual pre-training?", "What is GEB-1.3B?"] * 5

    def one(question: str) -> tuple[str, dict] | Exception:
        try:
            content, _, reference = streamed(client, ask(question))
        except Exception as err:  # counted below
            return err
        return content, reference

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, questions))
    errors = [result for result in results if isinstance(result, Exception) or "**Sources**" not in result[0]]
    assert errors == [], f"{len(errors)} of 20 streams failed: {errors[:3]}"
    assert all(result[1]["abstained"] == (question == INVENTED) for question, result in zip(questions, results))
