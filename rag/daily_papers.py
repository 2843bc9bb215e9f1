"""Hugging Face Daily Papers listing days and arXiv ids into the store, through huggingface_hub's HTTP session.

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
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx2
from huggingface_hub import set_client_factory
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.hf_api import PaperInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from . import dates, sync_state
from .clean import strip_controls, text_problem
from .errors import BadInputError, SyncError
from .http_limits import BoundedRequests, TooLarge, TooSlow
from .parse import combine, merge, new_paper
from .settings import Settings, SyncSettings
from .store import Store
from .types import IngestReport, Paper, SyncReport

Progress = Callable[[int, int], None]
"""Called with (listing days or ids done, to do)."""
T = TypeVar("T")

SETTLE_DAYS = 2
"""A listing day is recorded as stored once it is this old; younger days may still grow and are fetched again."""
MAX_PAGES = 40
"""Most listing pages read for one day (a guard against a server that ignores the page number)."""
PAPER_PAGE = "https://huggingface.co/papers/{}"
_ARXIV_ID = re.compile(r"([0-9]{4}\.[0-9]{4,5})(?:v[0-9]+)?")
"""An arXiv id in ASCII digits only (a fullwidth "２４０３.０４７０６" is not one)."""
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
        if progress and todo:
            progress(0, len(todo))
        try:
            for index, listed in enumerate(todo, start=1):
                try:
                    records = client.day(listed)
                except SyncError as err:
                    raise SyncError(str(err), report) from None
                papers, skipped = to_papers(records, listed.isoformat(), f"Daily Papers {listed}")
                part, kept = store(papers, settings) if papers else (None, [])
                report = _plus(report, part, skipped, files=1, kept=kept)
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
        if progress:
            progress(0, len(wanted))
        for index, wanted_id in enumerate(wanted, start=1):
            try:
                info = client.paper(wanted_id)
            except SyncError as err:
                failure = err
                break
            if info is None:
                skipped.append(f"{wanted_id}: no such paper on {client.host} (HTTP 404)")
            else:
                found, unusable = to_papers([info], None, f"arXiv {wanted_id}")
                papers += found
                skipped += unusable
            if progress:
                progress(index, len(wanted))
        part, kept = store(papers, settings) if papers else (None, [])
        report = _plus(_empty(), part, skipped, files=len(wanted), kept=kept)
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
    patterns = {"week": r"([0-9]{4})-W([0-9]{2})", "month": r"([0-9]{4})-([0-9]{2})"}
    pattern = patterns.get(name, r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
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


def to_papers(records: list[Any], listed: str | None, source: str) -> tuple[list[Paper], list[str]]:
    """The usable records (as the service sent them, JSON) as papers listed on `listed` (None: the day each record
    says it was listed), and a line naming each record skipped and why: one malformed record never stops the others."""
    papers: list[Paper] = []
    skipped: list[str] = []
    for record in records:
        try:
            papers.append(to_paper(record, listed, source))
        except Unusable as err:
            skipped.append(str(err))
    return papers, skipped


def to_paper(record: Any, listed: str | None, source: str) -> Paper:
    """One record as a paper with its arXiv id, authors and publication date; `Unusable`, naming the record, when it
    lacks what a paper needs or a field is not what the service documents (an author named 5, a broken date)."""
    name = _record_name(record)
    if problem := _shape_problem(record):
        raise Unusable(f"{name}: {problem}")
    try:
        info = PaperInfo(**record)
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        raise Unusable(f"{name}: malformed record ({type(err).__name__}: {err})") from None
    if not isinstance(info.id, str) or not _ARXIV_ID.fullmatch(info.id):
        raise Unusable(f"{name}: no arXiv id")
    for field, value in (("title", info.title), ("summary", info.summary)):
        if not isinstance(value, str) or not value.strip():
            raise Unusable(f"{name}: no {field}")
    names = [author.name for author in info.authors or [] if author.name is not None]
    for field, value in [("title", info.title), ("summary", info.summary), *(("author name", n) for n in names)]:
        if problem := text_problem(value):
            raise Unusable(f"{name}: {field} {problem}")
    if listed is None and info.submitted_at:
        listed = info.submitted_at.astimezone(timezone.utc).date().isoformat()
    try:
        paper = new_paper(info.title, info.summary, listed, source, PAPER_PAGE.format(info.id))
    except BadInputError as err:
        raise Unusable(f"{name}: {err}") from None
    authors = [clean for author in names if (clean := " ".join(strip_controls(author).split()))]
    published = info.published_at.astimezone(timezone.utc).date().isoformat() if info.published_at else None
    return paper.model_copy(update={"arxiv_id": info.id, "authors": authors, "published": published})


def _shape_problem(record: Any) -> str | None:
    """What in a record's structure `PaperInfo` cannot read (None when nothing): not an object, or an object
    field, or the author list, of another kind."""
    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    paper = record.get("paper", {})
    if not isinstance(paper, dict):
        return f"'paper' is not a JSON object but {type(paper).__name__}"
    authors = paper.get("authors") or record.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(author, dict) for author in authors):
        return "'authors' is not a list of JSON objects"
    return None


def _record_id(record: Any) -> str | None:
    """The id a record gives, whatever its shape (None when it gives none)."""
    if not isinstance(record, dict):
        return None
    paper = record.get("paper") if isinstance(record.get("paper"), dict) else {}
    found = paper.get("id") or record.get("id")
    return found if isinstance(found, str) and found.strip() else None


def _record_name(record: Any) -> str:
    """How a skipped record is named: its id, else its title, else what it is (text that is not valid Unicode as
    Python escapes it: a lone surrogate cannot be printed)."""
    if found := _record_id(record):
        return repr(found)[1:-1][:40] if text_problem(found) else " ".join(strip_controls(found).split())[:40]
    if not isinstance(record, dict):
        return "a record"
    title = record.get("title")
    return f"a record titled {title[:80]!r}" if isinstance(title, str) else "a record without an id or title"


def store(papers: list[Paper], settings: Settings) -> tuple[IngestReport, list[str]]:
    """Hand the papers, each reconciled with what the store holds of it (`reconcile`), to the engine's ingest (its
    lock, its merge of dates); the new ones are noted first, so a sync killed mid-way still reports them in the
    next batch. Also the lines saying where a stored title or abstract was kept."""
    from .engine import get_engine

    engine = get_engine(settings)
    papers, kept = reconcile(merge(papers), stored_versions(engine.store, papers))
    known = engine.store.stored_papers([paper.paper_id for paper in papers])
    sync_state.begin(settings.store.home, [paper.paper_id for paper in papers if paper.paper_id not in known])
    return engine.add(papers, 1), kept


def stored_versions(store: Store, papers: list[Paper]) -> list[Paper]:
    """The stored papers that `papers` name, by paper id (title) or arXiv id: one whole version of each, as the
    catalog reads them."""
    from .papers import whole_papers

    ids = sorted({paper.paper_id for paper in papers})
    arxiv_ids = sorted({paper.arxiv_id for paper in papers if paper.arxiv_id})
    where: dict[str, Any] = {"paper_id": {"$in": ids}}
    if arxiv_ids:
        where = {"$or": [where, {"arxiv_id": {"$in": arxiv_ids}}]}
    return [paper for paper, _ in whole_papers(store.rows(where))]


def reconcile(papers: list[Paper], stored: list[Paper]) -> tuple[list[Paper], list[str]]:
    """The records as they should be stored, and a line for each where the store's version was kept.

    One arXiv id is one paper: a record whose arXiv id is stored (or came earlier in this batch) under another
    title joins that paper and keeps its title. A shorter summary does not replace a longer stored abstract unless
    the record is newer: listed on a later day than every dated listing of the stored version."""
    by_arxiv = {paper.arxiv_id: paper for paper in stored if paper.arxiv_id}
    by_id = {paper.paper_id: paper for paper in stored}
    out: dict[str, Paper] = {}
    kept: list[str] = []
    for paper in papers:
        known = by_arxiv.get(paper.arxiv_id) or by_id.get(paper.paper_id)
        if known and known.paper_id != paper.paper_id:
            kept.append(
                f"{paper.arxiv_id}: the title {known.title[:80]!r}, not {paper.title[:80]!r} as listed (one paper per "
                "arXiv id)"
            )
            paper = paper.model_copy(update={"paper_id": known.paper_id, "title": known.title})
        if known and len(paper.abstract) < len(known.abstract) and not _newer(paper.dates, known.dates):
            kept.append(
                f"{paper.arxiv_id}: the stored abstract ({len(known.abstract):,} characters), not the listing's shorter "
                f"one ({len(paper.abstract):,}), as the listing is no newer"
            )
            paper = paper.model_copy(update={"abstract": known.abstract})
        earlier = out.get(paper.paper_id)
        out[paper.paper_id] = combine(earlier, paper) if earlier else paper
        by_arxiv.setdefault(paper.arxiv_id, out[paper.paper_id])
    return list(out.values()), kept


def _newer(listed: list[str], stored: list[str]) -> bool:
    """True when a record listed on `listed` is newer than a version listed on `stored`: it is dated, and later than
    every dated day of `stored`, of which there is one at least (a yearless seed date is of unknown age)."""
    new = [day for day in map(dates.read, listed) if day and day[0]]
    old = [day for day in map(dates.read, stored) if day and day[0]]
    return bool(new and old) and min(new) > max(old)


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


def _plus(report: SyncReport, part: IngestReport | None, skipped: list[str], files: int, kept: list[str]) -> SyncReport:
    counts = {
        name: getattr(report, name) + (getattr(part, name) if part else 0)
        for name, field in IngestReport.model_fields.items()
        if field.annotation is int
    }
    counts["files"] = report.files + files
    return report.model_copy(update={**counts, "skipped": report.skipped + skipped, "kept": report.kept + kept})


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class DailyPapers:
    """The service at one endpoint: listing days page by page, papers by id, bounded retries, one-line failures."""

    def __init__(self, config: SyncSettings) -> None:
        self.config = config
        self.endpoint = config.endpoint.rstrip("/")
        self.host = urlparse(self.endpoint).netloc or self.endpoint
        self.token = config.token.get_secret_value() if config.token else False  # never a token saved on this machine
        _use_guarded_client(config)

    def day(self, listed: date) -> list[Any]:
        """Every record listed on `listed` (JSON, as sent), page after page, until a short or repeated page."""
        records: list[Any] = []
        seen: set[str] = set()
        what = f"the listing of {listed}"
        for page in range(MAX_PAGES):
            params = {"p": page, "limit": self.config.page_size, "date": listed.isoformat()}
            try:
                batch = self._call(what, lambda: self._json("/api/daily_papers", params, listing=True))
            except _NotFound:
                raise SyncError(
                    f"{what}: {self.host} has no Daily Papers listing (HTTP 404 not found): "
                    f"check that HF_ENDPOINT ({self.endpoint}) is a Hugging Face Hub or a mirror of it"
                ) from None
            if not isinstance(batch, list):
                raise SyncError(f"the listing of {listed}: {self.host} sent a response that cannot be read (not a list)")
            fresh = [record for record in batch if (key := _record_id(record)) is None or key not in seen]
            records += fresh
            seen.update(key for record in fresh if (key := _record_id(record)))
            if len(batch) < self.config.page_size or not fresh:
                break
        return records

    def paper(self, wanted: str) -> Any | None:
        """The record of the paper with arXiv id `wanted` (JSON, as sent); None when the service does not know it
        (HTTP 404)."""
        try:
            return self._call(f"paper {wanted}", lambda: self._json(f"/api/papers/{wanted}", None, listing=False))
        except _NotFound:
            return None

    def _json(self, path: str, params: dict[str, Any] | None, listing: bool) -> Any:
        """The JSON the service answers at `path`, through huggingface_hub's own session and error check. Own code
        rather than `HfApi.list_daily_papers`/`paper_info`: those build every record as they read it, so one
        malformed record ends the whole page; here `to_paper` builds each record on its own."""
        headers = build_hf_headers(token=self.token, library_name="papertrail") if listing else None
        response = get_session().get(f"{self.endpoint}{path}", params=params, headers=headers)
        hf_raise_for_status(response)
        return response.json()

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
