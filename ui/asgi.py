"""Serving the HTTP front ends for programs (the OpenAI-compatible endpoint, MCP over HTTP) under one access rule:
every request carries PAPERTRAIL_API_KEY as a bearer token, or, without a key, they listen on 127.0.0.1 only.

The only uvicorn importer; the key check is a plain ASGI wrapper, so it guards any app the same way."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import rag

from .settings import ApiSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
LOOPBACK = ("127.0.0.1", "localhost", "::1")
UNAUTHORIZED = {
    "error": {
        "message": "Incorrect API key: send the server's PAPERTRAIL_API_KEY as a bearer token (Authorization: Bearer <key>).",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
"""The 401 body, in the OpenAI error shape that OpenAI clients read."""


def check_host(host: str, api: ApiSettings) -> None:
    """Refuse to listen beyond this machine without a key: anyone who can reach the port could ask otherwise."""
    if api.key is None and host not in LOOPBACK:
        raise rag.BadInputError(
            f"refusing to listen on {host} without a key: set PAPERTRAIL_API_KEY (clients then send it as a bearer "
            "token), or listen on 127.0.0.1 only"
        )


def guarded(app: App, api: ApiSettings) -> App:
    """`app` answering only HTTP requests that carry the key (401 in the OpenAI error shape otherwise); `app` itself
    when no key is set."""
    if api.key is None:
        return app
    expected = f"Bearer {api.key.get_secret_value()}".encode()
    refusal = json.dumps(UNAUTHORIZED).encode()

    async def guard(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        if scope["type"] == "lifespan" or hmac.compare_digest(given, expected):
            await app(scope, receive, send)
            return
        log.info("refused a request to %s: missing or wrong API key", scope.get("path"))
        if scope["type"] != "http":
            return  # a websocket left unaccepted is refused by the server (403)
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": refusal})

    return guard


def serve(app: App, host: str, port: int, api: ApiSettings) -> None:
    """Serve `app` on host:port until interrupted, behind the key when one is set."""
    import uvicorn

    check_host(host, api)
    uvicorn.run(guarded(app, api), host=host, port=port, log_level="info")
