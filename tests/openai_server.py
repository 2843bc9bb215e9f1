"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests: real wire format, SSE streaming included.

Each POST to /v1/chat/completions plays the next `Step` of the script (the last one repeats), so a test
can say "429, then an answer" or "500 every time"; every request body is recorded for assertions.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer

MODEL = "scripted-model"
API_KEY = "sk-test"
Reply = str | Callable[[dict], str]


@dataclass
class Step:
    """One scripted response: an answer (text, or a function of the request body), or an HTTP error."""

    reply: Reply = ""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def sources_of(body: dict) -> dict[int, str]:
    """The numbered abstracts of the request's user message, as the model sees them."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    blocks = re.findall(r"^\[(\d+)\] .*?\nListed: .*?\nAbstract: (.*?)(?=\n\n\[\d+\] |\n</sources>)", user, re.M | re.S)
    return {int(n): abstract for n, abstract in blocks}


def first_sentence(abstract: str) -> str:
    return re.split(r"(?<=[.!?])\s+", abstract.strip())[0]


class ScriptedOpenAI(LocalServer):
    """The server; use as a context manager, then read `.url` (for OPENAI_BASE_URL) and `.requests`."""

    def __init__(self, steps: list[Step], port: int) -> None:
        self.steps = steps
        self.requests: list[dict] = []
        super().__init__(_handler(self), port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def next_step(self, body: dict) -> Step:
        self.requests.append(body)
        return self.steps[min(len(self.requests), len(self.steps)) - 1]


def _handler(server: ScriptedOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                return self._error(404, "not found", "not_found")
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "test"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._error(404, "not found", "not_found")
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self._error(401, "Incorrect API key provided.", "invalid_api_key")
            if body.get("model") != MODEL:
                return self._error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
            step = server.next_step(body)
            if server.stopping.wait(step.delay):
                return
            if step.status != 200:
                return self._error(step.status, f"scripted HTTP {step.status}", "scripted", step.headers)
            text = step.reply(body) if callable(step.reply) else step.reply
            usage = {"prompt_tokens": 321, "completion_tokens": len(text.split()), "total_tokens": 321 + len(text.split())}
            if body.get("stream"):
                return self._sse(text, usage if (body.get("stream_options") or {}).get("include_usage") else None)
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._json(200, {**_base("chat.completion"), "choices": [choice], "usage": usage})

        def _sse(self, text: str, usage: dict | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = re.findall(r"\S+\s*|\s+", text)
            chunks = [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
            chunks += [{"index": 0, "delta": {"content": piece}, "finish_reason": None} for piece in pieces]
            chunks.append({"index": 0, "delta": {}, "finish_reason": "stop"})
            events = [{**_base("chat.completion.chunk"), "choices": [choice]} for choice in chunks]
            if usage:
                events.append({**_base("chat.completion.chunk"), "choices": [], "usage": usage})
            for event in events:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.close_connection = True

        def _error(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
            self._json(status, {"error": error}, headers)

        def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _base(kind: str) -> dict:
    return {"id": "chatcmpl-scripted", "object": kind, "created": int(time.time()), "model": MODEL}
