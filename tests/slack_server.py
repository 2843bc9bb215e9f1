"""Slack stand-ins on 127.0.0.1: the Web API (records every call, answers like Slack, keeps the messages posted)
and a Socket Mode WebSocket server that hands the bot envelopes and records its acknowledgements."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

TOKEN = "xoxb-test-0000-not-a-real-token"
APP_TOKEN = "xapp-1-test-0000-not-a-real-token"
BOT_USER = "UBOTPAPER"
BOT_ID = "BBOTPAPER"
TEAM = "T0TEST"
SECTION_LIMIT = 3000
JSON_ARGS = ("blocks", "metadata", "attachments")


def trigger_id() -> str:
    """A fresh trigger id, as Slack gives each slash command and click (the bot answers a repeated one once)."""
    return f"13345224609.738474920.{uuid.uuid4().hex[:19]}"


class SlackStandIn:
    """Serves /api/<method>; `calls` lists (method, args) in arrival order; channels keep the posted messages."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._changed = threading.Condition()
        self._clock = 1_700_000_000.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.socket = SocketModeStandIn()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    def start(self) -> SlackStandIn:
        self._thread.start()
        self.socket.start()
        return self

    def stop(self) -> None:
        self.socket.stop()
        self._server.shutdown()
        self._server.server_close()

    def next_ts(self) -> str:
        """A fresh, increasing message timestamp in Slack's "seconds.micros" form."""
        with self._changed:
            self._clock += 1
            return f"{self._clock:.6f}"

    def add_user_message(self, channel: str, text: str, user: str = "UALICE", thread_ts: str | None = None) -> dict[str, Any]:
        """A person's message as Slack stores it (the event about it is sent separately by the test)."""
        message = {"type": "message", "user": user, "text": text, "ts": self.next_ts(), "team": TEAM}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._changed:
            self.messages.setdefault(channel, []).append(message)
        return message

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._changed:
            return [args for name, args in self.calls if name == method]

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every call received), up to `timeout`; returns its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return result
                self._changed.wait(remaining)
            return result

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The messages of a thread, root first, as conversations.replies returns them."""
        with self._changed:
            found = [m for m in self.messages.get(channel, []) if thread_ts in (m["ts"], m.get("thread_ts"))]
        return sorted(found, key=lambda m: float(m["ts"]))

    def _record(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        with self._changed:
            self.calls.append((method, args))
            reply = self._answer(method, args, token)
            self._changed.notify_all()
        return reply

    def _answer(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket.url} if token == APP_TOKEN else {"ok": False, "error": "invalid_auth"}
        if token != TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        for block in args.get("blocks") or []:
            text = (block.get("text") or {}).get("text", "")
            if len(text) > SECTION_LIMIT:
                return {"ok": False, "error": "invalid_blocks", "errors": ["must be less than 3001 characters"]}
        if len(args.get("blocks") or []) > 50:
            return {"ok": False, "error": "invalid_blocks", "errors": ["no more than 50 items allowed"]}
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "papertrail",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            self._clock += 1
            message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": f"{self._clock:.6f}",
                       "text": args.get("text", ""), "blocks": args.get("blocks") or []}
            for key in ("thread_ts", "metadata"):
                if args.get(key):
                    message[key] = args[key]
            self.messages.setdefault(args["channel"], []).append(message)
            return {"ok": True, "channel": args["channel"], "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in self.messages.get(args["channel"], []):
                if message["ts"] == args["ts"]:
                    message.update({k: args[k] for k in ("text", "blocks", "metadata") if k in args})
                    return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "conversations.replies":
            found = [m for m in self.messages.get(args["channel"], []) if args["ts"] in (m["ts"], m.get("thread_ts"))]
            if not any(m["ts"] == args["ts"] for m in found):
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": sorted(found, key=lambda m: float(m["ts"])), "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{self._clock:.6f}"}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads `calls` instead."""

            def _serve(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                args: dict[str, Any] = dict(parse_qsl(parts.query))
                if "json" in (self.headers.get("Content-Type") or ""):
                    args.update(json.loads(body or b"{}"))
                else:
                    args.update(parse_qsl(body.decode("utf-8")))
                for key in JSON_ARGS:
                    if isinstance(args.get(key), str):
                        args[key] = json.loads(args[key])
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or args.get("token", "")
                reply = json.dumps(stand_in._record(parts.path.removeprefix("/api/"), args, token)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def do_GET(self) -> None:
                self._serve(b"")

        return Handler


class SocketModeStandIn:
    """The WebSocket end of Socket Mode: greets with "hello", sends queued envelopes, records the acks."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test-ticket&app_id=A0PAPER"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()

    def send_event(self, body: dict[str, Any], envelope_id: str) -> None:
        """Deliver an Events API body the way Socket Mode wraps it."""
        self.outbox.put({"envelope_id": envelope_id, "type": "events_api", "payload": body,
                         "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0PAPER"},
                                    "debug_info": {"host": "applink-test", "approximate_connection_time": 3600}}))
        threading.Thread(target=self._read_acks, args=(connection,), daemon=True).start()
        self.connected.set()
        while True:
            try:
                envelope = self.outbox.get(timeout=0.2)
            except queue.Empty:
                if connection.close_code is not None:
                    return
                continue
            connection.send(json.dumps(envelope))

    def _read_acks(self, connection: ServerConnection) -> None:
        try:
            for message in connection:
                self.acks.append(json.loads(message))
        except ConnectionClosed:
            return
