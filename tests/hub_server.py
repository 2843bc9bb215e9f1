"""A Hugging Face Hub stand-in on 127.0.0.1 for tests: /api/daily_papers and /api/papers/{id}, in the JSON shape
the real service returns, replaying the recorded exchanges under tests/fixtures/hub/.

`daily_papers/<YYYY-MM-DD>.json` and `papers/<arxiv id>.json` each hold a list of exchanges
({"status", "headers", "body"}) played in order, the last one repeating; a day without a file is an empty
listing, a paper without one is the service's 404. A successful listing is paged by the `p` and `limit`
query parameters as the service pages it. Tests can script more exchanges, slow every answer down, and read
the requests received.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local_server import LocalServer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hub"
NOT_FOUND = {"status": 404, "headers": {}, "body": {"error": "Paper not found"}}
EMPTY_DAY = {"status": 200, "headers": {}, "body": []}


def exchanges(kind: str, name: str) -> list[dict[str, Any]]:
    """The recorded exchanges for one listing day or paper (the default when none is recorded)."""
    path = FIXTURES / kind / f"{name}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return [EMPTY_DAY if kind == "daily_papers" else NOT_FOUND]


def listing(day: str) -> list[dict[str, Any]]:
    """The records the service lists for `day` once it answers (the last recorded exchange)."""
    return exchanges("daily_papers", day)[-1]["body"]


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Names in lower case."""
    at: float
    """time.monotonic() on arrival."""


class HubStandIn(LocalServer):
    """Serves the recorded exchanges; `requests` lists what arrived, in order."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.scripted: dict[str, list[dict[str, Any]]] = {}
        self.delay = 0.0
        self._played: Counter[str] = Counter()
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def script(self, key: str, plays: list[dict[str, Any]]) -> None:
        """Answer `key` ("daily_papers/2026-03-12" or "papers/2603.01234") with these exchanges instead."""
        with self._lock:
            self.scripted[key] = plays
            self._played[key] = 0

    def days_asked(self) -> list[str]:
        """The listing days asked for, in order (one entry per request, pages included)."""
        with self._lock:
            return [r.query["date"] for r in self.requests if r.path == "/api/daily_papers" and "date" in r.query]

    def _next(self, kind: str, name: str) -> dict[str, Any]:
        key = f"{kind}/{name}"
        with self._lock:
            plays = self.scripted.get(key) or exchanges(kind, name)
            self._played[key] += 1
            return plays[min(self._played[key], len(plays)) - 1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stall between them

            def log_message(self, *args: object) -> None:
                """Quiet: tests read `requests`."""

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
                with stand_in._lock:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    stand_in.requests.append(Received(parts.path, query, headers, time.monotonic()))
                time.sleep(stand_in.delay)
                if parts.path == "/api/daily_papers" and "date" in query:
                    play = stand_in._next("daily_papers", query["date"])
                    if play["status"] == 200 and isinstance(play["body"], list):
                        limit, page = int(query.get("limit", 50)), int(query.get("p", 0))
                        play = {**play, "body": play["body"][page * limit : (page + 1) * limit]}
                elif parts.path.startswith("/api/papers/"):
                    play = stand_in._next("papers", parts.path.removeprefix("/api/papers/"))
                else:
                    play = {"status": 404, "headers": {}, "body": {"error": "Sorry, we can't find the page you are looking for."}}
                self._send(play)

            def _send(self, play: dict[str, Any]) -> None:
                data = json.dumps(play["body"]).encode()
                self.send_response(play["status"])
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in play.get("headers", {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
