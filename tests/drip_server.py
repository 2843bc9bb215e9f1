"""Hostile HTTP servers on 127.0.0.1 for tests: one that answers a byte a second for ever (no single read ever
waits long enough to time out), one that sends a huge body, one that redirects to itself, and a proxy in front
of a real server that does one of these only to the requests a test picks."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from local_server import LocalServer

DRIP_HEADERS = "drip-headers"
"""The status line, then a header whose value grows by a byte a second, for ever."""
DRIP_BODY = "drip-body"
"""Headers at once (200, JSON, a Content-Length of a megabyte), then the body a byte a second."""
HUGE = "huge"
"""200 with a JSON list of `huge_bytes` bytes, sent as fast as the client reads it (`chunked`: no Content-Length)."""
PASS = "pass"
"""Forward the request to the upstream server and its answer back, at once."""
LOOP = "loop"
"""302 to the very URL asked for: a redirect loop."""


class HostileServer(LocalServer):
    """Answers each request as `behaviour(path)` says (one of the modes above); `served` counts the requests."""

    def __init__(
        self,
        behaviour: Callable[[str], str],
        *,
        upstream: str | None = None,
        interval: float = 1.0,
        huge_bytes: int = 150_000_000,
        chunked: bool = False,
    ) -> None:
        self.behaviour = behaviour
        self.upstream = urlsplit(upstream) if upstream else None
        self.interval = interval
        self.huge_bytes = huge_bytes
        self.chunked = chunked
        self.served: list[tuple[str, str]] = []
        super().__init__(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                """Quiet."""

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = server.behaviour(self.path)
                server.served.append((self.path, mode))
                try:
                    if mode == PASS:
                        self._forward(body)
                    elif mode == LOOP:
                        self.send_response(302)
                        self.send_header("Location", self.path)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif mode == HUGE:
                        self._huge()
                    else:
                        self._drip(mode)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def _forward(self, body: bytes) -> None:
                assert server.upstream is not None
                connection = http.client.HTTPConnection(server.upstream.hostname, server.upstream.port, timeout=60)
                headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            def _drip(self, mode: str) -> None:
                self.close_connection = True
                if mode == DRIP_HEADERS:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: ")
                else:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[")
                self.wfile.flush()
                while not server.stopping.wait(server.interval):
                    self.wfile.write(b"a" if mode == DRIP_HEADERS else b" ")
                    self.wfile.flush()

            def _huge(self) -> None:
                self.close_connection = True
                piece = b'{"paper": {"id": "2603.00001", "title": "' + b"x" * 65_000 + b'"}},'
                count = server.huge_bytes // len(piece)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if server.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(count * len(piece) + 1))
                self.end_headers()
                parts = [b"["] + [piece] * (count - 1) + [piece[:-1] + b"]"]
                for part in parts:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if server.chunked else part)
                if server.chunked:
                    self.wfile.write(b"0\r\n\r\n")

        return Handler
