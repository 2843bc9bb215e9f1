"""Bounds on a whole HTTP request of an httpx (or httpx2) client: a wall-clock deadline and a cap on the bytes read.

Own code, as neither library has one: their timeouts bound each socket read, so a server sending one byte a second
keeps a request alive for ever, and a response is read whole into memory however large it is. `BoundedRequests`,
mixed in before the client class, puts every request the client sends (through any of its transports, the
proxies of the environment included) under a budget: each socket operation waits at most until the request's
deadline, and reading stops once more than `max_bytes` arrived. The budget of the request in flight is a context
variable, so threads sharing one client each keep their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")


class LimitExceeded(Exception):
    """A request went beyond its bounds; the message says which."""


class TooSlow(LimitExceeded):
    """The whole request (connect, send, headers, body) was not done within its deadline, though the server was
    sending: a timeout of each read would never have fired."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the answer was not complete after {seconds:g} s")
        self.seconds = seconds


class TooLarge(LimitExceeded):
    """The response is larger than the cap (said by its Content-Length, or counted while reading it)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the answer is larger than {max_bytes / 1_000_000:g} MB")
        self.max_bytes = max_bytes


class _Budget:
    """What one request may still spend: time until its deadline, bytes until its cap."""

    def __init__(self, seconds: float, max_bytes: int | None) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + seconds
        self.received = 0

    def wait(self, timeout: float | None) -> float:
        """The longest one socket operation may wait: its own timeout, cut to what is left before the deadline."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TooSlow(self.seconds)
        return left if timeout is None else min(timeout, left)

    def failed(self, err: Exception) -> Exception:
        """What a failed socket operation becomes: `TooSlow` when the deadline cut short a server that was sending."""
        return TooSlow(self.seconds) if self.received and time.monotonic() >= self.deadline else err

    def count(self, size: int) -> None:
        self.received += size
        if self.max_bytes is not None and self.received > self.max_bytes:
            raise TooLarge(self.max_bytes)


_BUDGET: ContextVar[_Budget | None] = ContextVar("papertrail_http_budget", default=None)


@contextmanager
def _spending(budget: _Budget) -> Iterator[None]:
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)


class _Stream:
    """A connection's network stream (httpcore's interface) whose reads and writes keep to the budget in flight."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _BUDGET.get()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        try:
            data = self._inner.read(max_bytes, budget.wait(timeout))
        except LimitExceeded:
            raise
        except Exception as err:
            raise budget.failed(err) from None
        budget.count(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _BUDGET.get()
        if budget is None:
            return self._inner.write(buffer, timeout)
        try:
            return self._inner.write(buffer, budget.wait(timeout))
        except LimitExceeded:
            raise
        except Exception as err:
            raise budget.failed(err) from None

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        budget = _BUDGET.get()
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, budget.wait(timeout) if budget else timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """httpcore's network backend, opening `_Stream`s: a connection made for a request is bounded by its budget."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **options: Any) -> _Stream:
        budget = _BUDGET.get()
        return _Stream(self._inner.connect_tcp(host, port, budget.wait(timeout) if budget else timeout, **options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, **options: Any) -> _Stream:
        budget = _BUDGET.get()
        return _Stream(self._inner.connect_unix_socket(path, budget.wait(timeout) if budget else timeout, **options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _with_deadlines(transport: Any) -> Any:
    """`transport` (an httpx HTTPTransport) with its connections opened through `_Backend`: httpx takes no network
    backend, so its connection pool gets ours."""
    pool = getattr(transport, "_pool", None)
    if pool is not None and not isinstance(pool._network_backend, _Backend):
        pool._network_backend = _Backend(pool._network_backend)
    return transport


class BoundedRequests:
    """Mix in before `httpx.Client` (or `httpx2.Client`): each request `send` makes (redirects included, the body
    read too unless streamed) takes at most `deadline` seconds as a whole (`TooSlow`) and reads at most `max_bytes`
    (`TooLarge`, before reading a body whose Content-Length says it is larger; the answer is asked for without
    compression, so the bytes counted are the body's). The client's per-read `timeout` still applies within."""

    def __init__(self, *args: Any, deadline: float, max_bytes: int | None = None, **kwargs: Any) -> None:
        self._bounds = (deadline, max_bytes)
        hooks = dict(kwargs.pop("event_hooks", None) or {})
        hooks["response"] = [*hooks.get("response", []), self._check_size]
        super().__init__(*args, event_hooks=hooks, **kwargs)

    def send(self, request: Any, **kwargs: Any) -> Any:
        deadline, max_bytes = self._bounds
        if max_bytes is not None:
            request.headers["Accept-Encoding"] = "identity"
        with _spending(_Budget(deadline, max_bytes)):
            return super().send(request, **kwargs)  # type: ignore[misc]

    def _check_size(self, response: Any) -> None:
        """Response hook (called before the body is read): refuse a body declared larger than the cap."""
        max_bytes = self._bounds[1]
        declared = response.headers.get("Content-Length", "")
        if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
            response.close()
            raise TooLarge(max_bytes)

    def _init_transport(self, *args: Any, **kwargs: Any) -> Any:
        return _with_deadlines(super()._init_transport(*args, **kwargs))  # type: ignore[misc]

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> Any:
        return _with_deadlines(super()._init_proxy_transport(*args, **kwargs))  # type: ignore[misc]


def within(seconds: float, work: Callable[[], T]) -> T:
    """`work()`, given up with `TooSlow` after `seconds`: for a library call whose HTTP client cannot be bounded
    (it makes its requests before handing the client over). The call left behind runs on in a daemon thread,
    which the process's exit does not wait for."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as err:  # handed to the caller below
            failed.append(err)

    worker = threading.Thread(target=run, name="papertrail-bounded-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TooSlow(seconds)
    if failed:
        raise failed[0]
    return done[0]
