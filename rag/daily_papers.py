"""Hugging Face Daily Papers listing days and arXiv ids into the store, through huggingface_hub's `HfApi`.

The only module that imports huggingface_hub (named for what it fetches: a `rag/sync.py` would shadow the public
`rag.sync` function with the module once imported). Papertrail keeps the hub offline for the whole process
(rag/settings.py sets HF_HUB_OFFLINE before anything loads), and that flag is never turned off: instead
huggingface_hub's shared HTTP client gets a request hook that lets a request out only while a sync or add of
this thread holds the switch (a context variable), and only to the configured endpoint. So the network is
reached only when a user runs sync/add, and never by anything else meanwhile (the embedding model included).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlparse

import httpx2
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.hf_api import PaperInfo

from . import sync_state
from .clean import strip_controls
from .errors import BadInputError, SyncError
from .http_limits import BoundedRequests, TooLarge, TooSlow
from .parse import merge, new_paper
from .settings import Settings, SyncSettings
from .types import IngestReport, Paper, SyncReport

Progress = Callable[[int, int], None]
"""Called with (listing days or ids done, to do)."""
T = TypeVar("T")

SETTLE_DAYS = 2
"""A listing day is recorded as stored once it is this old; younger days may still grow and are fetched again."""
MAX_PAGES = 40
"""Most listing pages read for one day (a guard against a server that ignores the page number)."""
PAPER_PAGE = "https://huggingface.co/papers/{}"
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_ONLINE: ContextVar[str | None] = ContextVar("papertrail_sync_endpoint", default=None)
_client_bounds: tuple[float, int] | None = None


class Unusable(ValueError):
    """A listed record that cannot become a paper; the message names its arXiv id and why."""


def sync(
    settings: Settings,
    *,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    since: str | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Store the papers of the listing days asked for (default: today and the days since the last sync) that
    earlier syncs have not stored in full, one day at a time; a failure keeps every day stored before it."""
    home = settings.store.home
    today = sync_state.now().date()
    with sync_state.running(home):
        state = sync_state.read(home)
        days = listing_days(today, state.last_sync, day=day, week=week, month=month, since=since)
        stored = set(state.days)
        todo = [d for d in days if d.isoformat() not in stored]
        report = _empty(synced_before=len(days) - len(todo))
        client = DailyPapers(settings.sync)
        settled: list[str] = []
        try:
            for index, listed in enumerate(todo, start=1):
                try:
                    records = client.day(listed)
                except SyncError as err:
                    raise SyncError(str(err), report) from None
                papers, skipped = to_papers(records, listed.isoformat(), f"Daily Papers {listed}")
                part = store(papers, settings) if papers else None
                report = _plus(report, part, skipped, files=1)
                if listed <= today - timedelta(days=SETTLE_DAYS):
                    settled.append(listed.isoformat())
                if papers:
                    sync_state.record_days(home, settled)
                    settled = []
                if progress:
                    progress(index, len(todo))
        finally:
            sync_state.record_days(home, settled)
        _finish(settings, listing=True)
    return report


def add(ids: Sequence[str], settings: Settings, progress: Progress | None = None) -> SyncReport:
    """Store papers by arXiv id (or arxiv.org / huggingface.co/papers link); ids that cannot be used are skipped by name."""
    wanted = list(dict.fromkeys(arxiv_id(text) for text in ids))
    if not wanted:
        raise BadInputError("name at least one arXiv id, e.g. `papertrail add 2403.04706`")
    with sync_state.running(settings.store.home):
        client = DailyPapers(settings.sync)
        papers: list[Paper] = []
        skipped: list[str] = []
        failure: SyncError | None = None
        for index, wanted_id in enumerate(wanted, start=1):
            try:
                info = client.paper(wanted_id)
            except SyncError as err:
                failure = err
                break
            if info is None:
                skipped.append(f"{wanted_id}: no such paper on {client.host} (HTTP 404)")
            else:
                listed = info.submitted_at.astimezone(timezone.utc).date().isoformat() if info.submitted_at else None
                found, unusable = to_papers([info], listed, f"arXiv {wanted_id}")
                papers += found
                skipped += unusable
            if progress:
                progress(index, len(wanted))
        report = _plus(_empty(), store(papers, settings) if papers else None, skipped, files=len(wanted))
        _finish(settings, listing=False)
    if failure:
        raise SyncError(str(failure), report)
    if not papers:
        raise SyncError(f"none of the {len(wanted)} papers could be added: {'; '.join(skipped)}", report)
    return report


def listing_days(
    today: date,
    last_sync: datetime | None,
    *,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    since: str | None = None,
) -> list[date]:
    """The listing days asked for, up to today; with nothing asked, today and the days since the last sync."""
    asked = [(name, value) for name, value in (("date", day), ("week", week), ("month", month), ("since", since)) if value]
    if len(asked) > 1:
        raise BadInputError("give one of --date, --week, --month or --since")
    if not asked:
        first = last_sync.astimezone(timezone.utc).date() - timedelta(days=SETTLE_DAYS) if last_sync else today
        return _span(first, today)
    name, value = asked[0]
    first = _first_day(name, value)
    if name == "week":
        last = first + timedelta(days=6)
    elif name == "month":
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    else:
        last = first if name == "date" else today
    if first > today:
        raise BadInputError(f"--{name} {value} is in the future (today is {today} UTC)")
    return _span(first, min(last, today))


def _first_day(name: str, value: str) -> date:
    """The first day of the --date/--since day, --week (2024-W11) or --month (2024-03) given; BadInputError if malformed."""
    pattern = {"week": r"(\d{4})-W(\d{2})", "month": r"(\d{4})-(\d{2})"}.get(name, r"(\d{4})-(\d{2})-(\d{2})")
    match = re.fullmatch(pattern, value.strip())
    try:
        if match and name == "week":
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        if match:
            return date(*(int(part) for part in match.groups()), *([1] if name == "month" else []))
    except ValueError:
        pass
    example = {"week": "2024-W11", "month": "2024-03"}.get(name, "2024-03-11")
    raise BadInputError(f"--{name} {value!r} is not a {'day' if name in ('date', 'since') else name} like {example}")


def arxiv_id(text: str) -> str:
    """The arXiv id in an id ("2403.04706", "arXiv:2403.04706v2") or an arxiv.org or huggingface.co/papers link."""
    candidate = text.strip()
    if "/" in candidate:
        link = urlparse(candidate if "://" in candidate else f"https://{candidate}")
        host, path = (link.hostname or "").removeprefix("www."), link.path.rstrip("/")
        if host in ("arxiv.org", "export.arxiv.org") and re.match(r"/(abs|pdf)/", path):
            candidate = path.split("/", 2)[2]
        elif host == "huggingface.co" and path.startswith("/papers/"):
            candidate = path.removeprefix("/papers/")
    candidate = re.sub(r"^arxiv:", "", candidate, flags=re.I).removesuffix(".pdf")
    match = _ARXIV_ID.fullmatch(candidate)
    if not match:
        raise BadInputError(f"{text!r} is not an arXiv id (like 2403.04706) nor an arxiv.org or huggingface.co/papers link")
    return match.group(1)


def to_papers(records: list[PaperInfo], listed: str | None, source: str) -> tuple[list[Paper], list[str]]:
    """The usable records as papers listed on `listed`, and a line naming each record skipped and why."""
    papers: list[Paper] = []
    skipped: list[str] = []
    for info in records:
        try:
            papers.append(to_paper(info, listed, source))
        except Unusable as err:
            skipped.append(str(err))
    return papers, skipped


def to_paper(info: PaperInfo, listed: str | None, source: str) -> Paper:
    """One record as a paper with its arXiv id, authors and publication date; `Unusable` when it lacks what a paper needs."""
    name = info.id or f"a record titled {info.title!r}"
    if not isinstance(info.id, str) or not _ARXIV_ID.fullmatch(info.id):
        raise Unusable(f"{name}: no arXiv id")
    for field, value in (("title", info.title), ("summary", info.summary)):
        if not isinstance(value, str) or not value.strip():
            raise Unusable(f"{name}: no {field}")
    try:
        paper = new_paper(info.title, info.summary, listed, source, PAPER_PAGE.format(info.id))
    except BadInputError as err:
        raise Unusable(f"{name}: {err}") from None
    authors = [name for author in info.authors or [] if (name := " ".join(strip_controls(author.name or "").split()))]
    published = info.published_at.astimezone(timezone.utc).date().isoformat() if info.published_at else None
    return paper.model_copy(update={"arxiv_id": info.id, "authors": authors, "published": published})


def store(papers: list[Paper], settings: Settings) -> IngestReport:
    """Hand the papers to the engine's ingest (its lock, its merge of dates); the new ones are noted first, so a
    sync killed mid-way still reports them in the next batch."""
    from .engine import get_engine

    papers = merge(papers)
    engine = get_engine(settings)
    known = engine.store.stored_papers([paper.paper_id for paper in papers])
    sync_state.begin(settings.store.home, [paper.paper_id for paper in papers if paper.paper_id not in known])
    return engine.add(papers, 1)


def _finish(settings: Settings, listing: bool) -> None:
    """Close the run: the papers it (or a killed run before it) began adding and that are stored form a batch."""
    home = settings.store.home
    pending = sync_state.read(home).pending
    stored: set[str] = set()
    if pending:
        from .engine import get_engine

        stored = set(get_engine(settings).store.stored_papers(pending))
    sync_state.finish(home, stored, listing)


def _empty(synced_before: int = 0) -> SyncReport:
    return SyncReport(files=0, papers=0, added=0, relabelled=0, unchanged=0, chunks_added=0, synced_before=synced_before)


def _plus(report: SyncReport, part: IngestReport | None, skipped: list[str], files: int) -> SyncReport:
    counts = {
        name: getattr(report, name) + (getattr(part, name) if part else 0)
        for name, field in IngestReport.model_fields.items()
        if field.annotation is int
    }
    counts["files"] = report.files + files
    return report.model_copy(update={**counts, "skipped": report.skipped + skipped})


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class DailyPapers:
    """`HfApi` for one endpoint: listing days page by page, papers by id, with bounded retries and one-line failures."""

    def __init__(self, config: SyncSettings) -> None:
        self.config = config
        self.endpoint = config.endpoint.rstrip("/")
        self.host = urlparse(self.endpoint).netloc or self.endpoint
        token = config.token.get_secret_value() if config.token else False  # never a token saved on this machine
        self.api = HfApi(endpoint=self.endpoint, token=token, library_name="papertrail")
        _use_guarded_client(config)

    def day(self, listed: date) -> list[PaperInfo]:
        """Every record listed on `listed`, page after page, until a short or repeated page."""
        records: list[PaperInfo] = []
        seen: set[str] = set()
        what = f"the listing of {listed}"
        for page in range(MAX_PAGES):
            try:
                batch = self._call(
                    what,
                    lambda: list(self.api.list_daily_papers(date=listed.isoformat(), p=page, limit=self.config.page_size)),
                )
            except _NotFound:
                raise SyncError(
                    f"{what}: {self.host} has no Daily Papers listing (HTTP 404 not found): "
                    f"check that HF_ENDPOINT ({self.endpoint}) is a Hugging Face Hub or a mirror of it"
                ) from None
            fresh = [info for info in batch if info.id not in seen or not info.id]
            records += fresh
            seen.update(info.id for info in fresh if info.id)
            if len(batch) < self.config.page_size or not fresh:
                break
        return records

    def paper(self, wanted: str) -> PaperInfo | None:
        """The paper with arXiv id `wanted`; None when the service does not know it (HTTP 404)."""
        try:
            return self._call(f"paper {wanted}", lambda: self.api.paper_info(wanted))
        except _NotFound:
            return None

    def _call(self, what: str, fetch: Callable[[], T]) -> T:
        """`fetch()` with the network switched on; 429 (after its Retry-After), 5xx and timeouts are retried."""
        attempts = self.config.retries + 1
        for attempt in range(1, attempts + 1):
            backoff = self.config.backoff * 2 ** (attempt - 1)
            try:
                with online(self.endpoint):
                    return fetch()
            except HfHubHTTPError as err:
                status = err.response.status_code
                if status == 404:
                    raise _NotFound(what) from None
                if status == 429:
                    wait = _retry_after(err.response.headers.get("Retry-After")) or backoff
                    if wait > self.config.max_wait:
                        raise SyncError(
                            f"{what}: {self.host} is rate-limiting requests (HTTP 429) and asks to wait {wait:.0f} s; "
                            "run sync again later"
                        ) from None
                    failure = f"{what}: {self.host} is still rate-limiting requests (HTTP 429) after {attempts} attempts"
                elif status >= 500:
                    wait, failure = backoff, f"{what}: {self.host} answered HTTP {status} {attempts} times in a row"
                else:
                    hint = "; check HF_TOKEN" if status in (401, 403) else ""
                    raise SyncError(f"{what}: {self.host} refused the request (HTTP {status}){hint}") from None
            except httpx2.TimeoutException:
                wait = backoff
                failure = f"{what}: {self.host} did not answer within {self.config.timeout:g} s, {attempts} times"
            except TooSlow:
                raise SyncError(
                    f"{what}: {self.host} sends its answer too slowly (not complete after {self.config.timeout:g} s, "
                    "PAPERTRAIL_SYNC_TIMEOUT); run sync again later (stored days are kept)"
                ) from None
            except TooLarge:
                raise SyncError(
                    f"{what}: {self.host} sent an answer larger than {self.config.max_response_mb:g} MB "
                    "(PAPERTRAIL_SYNC_MAX_RESPONSE_MB), far more than a listing page: check HF_ENDPOINT"
                ) from None
            except OfflineModeIsEnabled as err:
                raise SyncError(f"{what}: refused to leave {self.endpoint} ({err})") from None
            except httpx2.TooManyRedirects:
                raise SyncError(f"{what}: {self.host} redirects in a loop: check HF_ENDPOINT ({self.endpoint})") from None
            except httpx2.TransportError as err:
                raise SyncError(_unreachable(self.endpoint, self.host, err)) from None
            except httpx2.RequestError as err:
                raise SyncError(f"{what}: {self.host} sent a response that cannot be read ({type(err).__name__}: {err})") from None
            except (ValueError, TypeError, KeyError, AttributeError) as err:
                raise SyncError(
                    f"{what}: {self.host} sent a response that cannot be read ({type(err).__name__}: {err})"
                ) from None
            if attempt == attempts:
                raise SyncError(f"{failure}; run sync again later (stored days are kept)")
            time.sleep(wait)
        raise AssertionError("unreachable")


class _NotFound(Exception):
    """HTTP 404 from the service."""


@contextmanager
def online(endpoint: str) -> Iterator[None]:
    """Let this thread's huggingface_hub requests to `endpoint` out for the duration of the block."""
    token = _ONLINE.set(endpoint)
    try:
        yield
    finally:
        _ONLINE.reset(token)


def _guard(request: httpx2.Request) -> None:
    """Request hook of huggingface_hub's shared client: only a sync, to its own endpoint, goes out."""
    endpoint = _ONLINE.get()
    url = str(request.url)
    if endpoint is None or not (url == endpoint or url.startswith(endpoint + "/")):
        raise OfflineModeIsEnabled(f"Cannot reach {url}: Papertrail keeps the Hugging Face Hub offline outside a sync")


class _HubClient(BoundedRequests, httpx2.Client):
    """httpx2's client with every request bounded as a whole, in time and size (rag/http_limits.py)."""


def _use_guarded_client(config: SyncSettings) -> None:
    """Make huggingface_hub's shared client one whose only request hook is `_guard`, each request bounded in time as
    a whole (the library's default client waits forever on a silent server, and a per-read timeout never fires on
    one that sends a byte a second) and in size (it reads any answer whole into memory)."""
    global _client_bounds
    bounds = (config.timeout, int(config.max_response_mb * 1_000_000))
    if _client_bounds != bounds:
        set_client_factory(
            lambda: _HubClient(
                deadline=bounds[0],
                max_bytes=bounds[1],
                event_hooks={"request": [_guard]},
                follow_redirects=True,
                timeout=bounds[0],
            )
        )
        _client_bounds = bounds


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _unreachable(endpoint: str, host: str, err: Exception) -> str:
    """One line for a request that never got an answer: DNS failure, refused connection, broken network."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"cannot look up {urlparse(endpoint).hostname} (DNS failure): no network, or HF_ENDPOINT is wrong"
        cause = cause.__cause__ or cause.__context__
    reason = str(err) or type(err).__name__
    return f"cannot reach {endpoint} ({reason}): no network? Run sync again when it is back"
