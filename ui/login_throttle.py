"""Slows down password guessing at the web UI's login (PAPERTRAIL_UI_AUTH), one client address at a time.

Own code: Gradio's /login checks every attempt at once, with no limit. This ASGI middleware lets a client make
FREE_FAILURES failed attempts; after that each attempt must come FIRST_WAIT_S after the one before, twice as long
with every further failure up to MAX_WAIT_S, and an attempt made sooner gets 429 without its password checked. An attempt counts as a
failure from the moment it starts (so a burst of parallel guesses gets no more tries) until it succeeds, which
forgets the client. Other addresses are never slowed.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FREE_FAILURES = 5
FIRST_WAIT_S = 2.0
MAX_WAIT_S = 300.0
FORGET_S = 15 * 60
"""A client whose last attempt is this old starts afresh."""
REMEMBERED = 10_000
"""Most client addresses tracked at once (the oldest are forgotten first)."""
LOGIN_PATH = "/login"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class _Client:
    failures: int = 0
    last: float = 0.0


class LoginThrottle:
    """ASGI middleware in front of the app's POST /login; other requests pass untouched."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(LOGIN_PATH):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown",))[0]
        wait = self.admit(address)
        if wait:
            await _too_many(send, wait)
            return
        statuses: list[int] = []

        async def observed(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await self.app(scope, receive, observed)
        if statuses == [200]:
            self.succeeded(address)

    def admit(self, address: str) -> float:
        """0 when `address` may try now (the try counts as a failure until it succeeds), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            client = self._clients.pop(address, None)
            if client is None or now - client.last > FORGET_S:
                client = _Client()
            self._clients[address] = client
            while len(self._clients) > REMEMBERED:
                self._clients.popitem(last=False)
            if client.failures >= FREE_FAILURES:
                ready = client.last + min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (client.failures - FREE_FAILURES))
                if now < ready:
                    return ready - now
                log.warning("login attempt from %s after %d failed ones", address, client.failures)
            client.failures += 1
            client.last = now
            return 0.0

    def succeeded(self, address: str) -> None:
        """A correct login: forget the address's failures."""
        with self._lock:
            self._clients.pop(address, None)


async def _too_many(send: Send, wait: float) -> None:
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"Too many failed logins from this address: try again in {seconds} s."}).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
               (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
