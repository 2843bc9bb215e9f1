"""An OpenAI-compatible chat endpoint (`papertrail api`) for chat front ends (Open WebUI, LibreChat, any `openai`
client): one model, `papertrail`, at GET /v1/models and POST /v1/chat/completions, streamed or not.

The last user message is the question and the earlier turns are its history. The reply's content is the answer with
its [n] markers, then a Sources block (so a front end that ignores extras still shows them); the structured citations
travel in the message's (or the last chunk's delta's) extra `reference` field. The only starlette importer."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from itertools import chain
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

import rag

from .asgi import serve
from .present import client_message
from .references import answer_part, cited_answer, markdown_tail
from .settings import ApiSettings

MODEL = "papertrail"
OPTIONS = ("top_k", "dates", "backend")
"""Papertrail's own per-question choices, accepted as extra body fields (`extra_body` in the openai client)."""


class ApiError(Exception):
    """A request refused with an HTTP status, in the OpenAI error shape."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def build_app(settings: rag.Settings | None = None) -> Starlette:
    """The endpoint over `settings`' store (default: the environment's)."""
    settings = settings or rag.Settings()

    async def completions(request: Request) -> Response:
        try:
            question, history, options, stream = read_request(await _json(request))
            pieces = rag.ask_stream(question, history, settings, **options)
            first = await run_in_threadpool(next, pieces)  # an empty store or a failed search is refused here, not mid-stream
        except Exception as err:  # the edge of the API: a one-line refusal, or a fixed apology with the error logged
            return _error(err)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if stream:
            return StreamingResponse(_events(chain([first], pieces), ident, created), media_type="text/event-stream")
        answer = await run_in_threadpool(_last, chain([first], pieces))
        return JSONResponse(completion(answer, ident, created))

    routes = [
        Route("/v1/models", lambda request: JSONResponse({"object": "list", "data": [_model()]})),
        Route("/v1/models/{model}", _model_route),
        Route("/v1/chat/completions", completions, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def run(settings: rag.Settings | None = None, host: str = "127.0.0.1", port: int = 7861, api: ApiSettings | None = None) -> None:
    """Serve the endpoint at http://host:port/v1 until interrupted, behind PAPERTRAIL_API_KEY when it is set."""
    serve(build_app(settings), host, port, api or ApiSettings())


def read_request(body: Any) -> tuple[str, list[rag.Turn], dict[str, Any], bool]:
    """The question (the last message, a user's), the earlier user/assistant turns, Papertrail's options, and whether
    to stream, from a chat completion request; a request that does not fit is an `ApiError` saying why."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    if body.get("model", MODEL) != MODEL:
        raise ApiError(404, f"the model {body.get('model')!r} does not exist; this server has one: {MODEL!r}", "model_not_found")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages must be a non-empty list of {role, content} objects")
    said = [(m.get("role"), _text(m.get("content"), number)) for number, m in enumerate(messages, start=1)]
    if said[-1][0] != "user":
        raise ApiError(400, "the last message must be the user's question")
    turns: list[rag.Turn] = []
    for role, text in said[:-1]:
        if role == "user":
            turns.append(rag.Turn(question=text))
        elif role == "assistant" and turns and not turns[-1].answer:
            turns[-1] = rag.Turn(question=turns[-1].question, answer=answer_part(text))
    options = {name: body[name] for name in OPTIONS if body.get(name) is not None}
    return said[-1][1], turns, options, body.get("stream") is True


def completion(answer: rag.Answer, ident: str, created: int) -> dict[str, Any]:
    """The `chat.completion` object for a finished answer."""
    message = {"role": "assistant", "content": answer.text + markdown_tail(answer), "reference": _reference(answer)}
    usage = {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens}
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {**usage, "total_tokens": sum(usage.values())},
    }


def _events(pieces: Iterator[str | rag.Answer], ident: str, created: int) -> Iterator[str]:
    """Server-sent `chat.completion.chunk`s: the role, the answer as it is written, the Sources block, a last chunk
    with finish_reason "stop" and the reference, then [DONE]. A failure mid-way ends the stream with an error event."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL, "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    streamed = []
    try:
        for piece in pieces:
            if isinstance(piece, str):
                streamed.append(piece)
                yield chunk({"content": piece})
                continue
            checked = "" if piece.text == "".join(streamed) else f"\n\nChecked answer: {piece.text}"
            yield chunk({"content": checked + markdown_tail(piece)})
            yield chunk({"reference": _reference(piece)}, "stop")
    except Exception as err:  # the stream has begun: the error is its last event
        yield f"data: {json.dumps(_error_body(err)[1])}\n\n"
    yield "data: [DONE]\n\n"


def _reference(answer: rag.Answer) -> dict[str, Any]:
    """The structured citations and sources, as the extra field carries them."""
    return cited_answer(answer).model_dump(mode="json", exclude={"question", "text"})


def _model() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "papertrail"}


async def _model_route(request: Request) -> Response:
    if request.path_params["model"] != MODEL:
        return _error(ApiError(404, f"the model {request.path_params['model']!r} does not exist", "model_not_found"))
    return JSONResponse(_model())


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "the request body is not JSON") from None


def _text(content: Any, number: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    raise ApiError(400, f"message {number}'s content must be text or a list of content parts")


def _last(pieces: Iterator[str | rag.Answer]) -> rag.Answer:
    """The final `Answer` of a stream."""
    *_, answer = pieces
    return answer


def _error(err: Exception) -> JSONResponse:
    status, body = _error_body(err)
    return JSONResponse(body, status_code=status)


def _error_body(err: Exception) -> tuple[int, dict[str, Any]]:
    """The HTTP status and OpenAI error object for `err`: a refusal's own message, else a fixed apology."""
    if isinstance(err, ApiError):
        status, code = err.status, err.code
    else:
        status, code = (400 if isinstance(err, rag.BadInputError) else 503 if isinstance(err, rag.PapertrailError) else 500), None
    kind = "invalid_request_error" if status < 500 else "server_error"
    message = str(err) if isinstance(err, ApiError) else client_message(err, "answering through /v1/chat/completions")
    return status, {"error": {"message": " ".join(message.splitlines()), "type": kind, "param": None, "code": code}}
