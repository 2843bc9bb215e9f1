"""Reads paper lists (Daily Papers text dumps and JSONL) into `Paper` records, refusing files that do not fit."""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import dates
from .clean import strip_controls, text_problem, url_problem
from .errors import BadInputError
from .types import Paper

HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
DATE_LINE = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(, \d{4})?"
)
MAX_TITLE_CHARS = 400
"""The longest title any source may bring (files, sync, add): longer is a pasted abstract or a broken record."""
MIN_ABSTRACT_CHARS = 40
MAX_ABSTRACT_CHARS = 20_000
"""Abstracts run to about 2,000 characters; ten times that is a pasted paper or a broken file."""
MAX_FILE_BYTES = 50_000_000


def paper_id(title: str) -> str:
    """Stable id from the normalised title, so one paper listed in several files is one record."""
    normal = " ".join(unicodedata.normalize("NFKC", title).casefold().split()).rstrip(".")
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


def read_text(path: Path) -> str:
    """The file's text; refuses by name what is not a regular file, and binary, empty, oversized, UTF-16 or
    other non-UTF-8 files."""
    raw = _read_regular_file(path)
    if len(raw) > MAX_FILE_BYTES:
        raise BadInputError(f"{path}: file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    if _is_utf16(raw):
        raise BadInputError(f"{path}: the file is UTF-16: save as UTF-8")
    if b"\x00" in raw:
        raise BadInputError(f"{path}: binary file (contains NUL bytes), expected text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadInputError(f"{path}: not UTF-8 text (bad byte at offset {err.start})") from None
    if not text.strip():
        raise BadInputError(f"{path}: file is empty")
    return text


def _read_regular_file(path: Path) -> bytes:
    """Up to MAX_FILE_BYTES + 1 bytes of `path`, refusing a FIFO, a device, a folder or a symbolic-link loop
    by what it is (opened without blocking, so a FIFO with no writer cannot hang the ingest)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except OSError as err:
        what = "a symbolic link loop" if err.errno == errno.ELOOP else err.strerror
        raise BadInputError(f"{path}: not a regular file ({what})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise BadInputError(f"{path}: not a regular file ({_kind(mode)})")
    with open(descriptor, "rb") as file:
        try:
            return file.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise BadInputError(f"{path}: cannot be read ({err.strerror})") from None


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _is_utf16(raw: bytes) -> bool:
    """UTF-16 text: a byte-order mark, or text whose every other byte is mostly NUL, as Latin text in UTF-16 is
    (random binary data is neither, so it is still called binary)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    half = len(raw) // 2
    for zeros, encoding in ((raw[1::2], "utf-16-le"), (raw[0::2], "utf-16-be")):
        if half and zeros.count(0) > half // 2:
            try:
                text = raw[: 2 * half].decode(encoding)
            except UnicodeDecodeError:
                return False
            return sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.95 * len(text)
    return False


def _lines(text: str) -> list[str]:
    """Lines split at "\n" only: `str.splitlines` would also split inside a JSON string holding U+2028 or U+0085."""
    return text.split("\n")


def _clean(text: str) -> str:
    """Text as stored: control characters (terminal escapes) removed, runs of white space made one space."""
    return " ".join(strip_controls(text).split())


def parse_daily_papers(text: str, source: str) -> list[Paper]:
    """A Daily Papers page dump: header lines, a listing-date line, then title and abstract lines in turn."""
    date: str | None = None
    pending: tuple[int, str] | None = None
    papers: list[Paper] = []
    for number, line in enumerate(_lines(text), start=1):
        line = _clean(line)
        if not line or (not papers and pending is None and line.casefold() in HEADER_LINES):
            continue
        if pending is None and DATE_LINE.fullmatch(line):
            if dates.read(line) is None:
                raise BadInputError(f"{source}:{number}: listing date {line!r} is not a calendar day")
            date = line
            continue
        if pending is None:
            if len(line) > MAX_TITLE_CHARS:
                raise BadInputError(
                    f"{source}:{number}: expected a paper title (at most {MAX_TITLE_CHARS:,} characters), "
                    f"found a line of {len(line):,} characters"
                )
            pending = (number, line)
            continue
        title = pending[1]
        if len(line) < MIN_ABSTRACT_CHARS:
            raise BadInputError(
                f"{source}:{number}: abstract of {title!r} is only {len(line)} characters; "
                "expected alternating title and abstract lines"
            )
        papers.append(_paper(title, line, date, source, None, f"{source}:{pending[0]}"))
        pending = None
    if pending is not None:
        raise BadInputError(f"{source}:{pending[0]}: title {pending[1]!r} has no abstract after it")
    if not papers:
        raise BadInputError(f"{source}: no title/abstract pairs found")
    return papers


def parse_jsonl(text: str, source: str) -> list[Paper]:
    """One JSON object a line with `title` and `abstract`, and optional `date` and `url`."""
    papers: list[Paper] = []
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise BadInputError(f"{source}:{number}: broken JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise BadInputError(f"{source}:{number}: expected a JSON object")
        for name in ("title", "abstract"):
            if not isinstance(record.get(name), str) or not _clean(record[name]):
                raise BadInputError(f"{source}:{number}: missing or empty {name!r}")
        for name in ("date", "url"):
            if record.get(name) is not None and not isinstance(record[name], str):
                raise BadInputError(f"{source}:{number}: {name!r} must be a string")
        for name in ("title", "abstract", "date", "url"):
            if record.get(name) is not None and (problem := text_problem(record[name])):
                raise BadInputError(f"{source}:{number}: {name!r} {problem}")
        url = (record.get("url") or "").strip() or None
        if url and (problem := url_problem(url)):
            raise BadInputError(f"{source}:{number}: 'url' {problem}: {url[:80]!r}")
        date = _clean(record.get("date") or "") or None
        papers.append(_paper(_clean(record["title"]), _clean(record["abstract"]), date, source, url, f"{source}:{number}"))
    if not papers:
        raise BadInputError(f"{source}: no papers found")
    return papers


def parse_file(path: Path) -> list[Paper]:
    """Parse one file by its kind: `.jsonl`/`.json`, or text whose first character is `{`, is JSONL."""
    text = read_text(path)
    if path.suffix.lower() in {".jsonl", ".json"} or text.lstrip().startswith("{"):
        return parse_jsonl(text, path.name)
    return parse_daily_papers(text, path.name)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the .txt/.jsonl files inside folders named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in {".txt", ".jsonl", ".json"})
            if not found:
                raise BadInputError(f"{path}: folder holds no .txt or .jsonl files")
            files.extend(found)
        else:
            files.append(path)
    return files


def load_papers(paths: Sequence[Path]) -> tuple[int, list[Paper]]:
    """Parse and merge every file (the number of files, the papers), refusing all of them if any one is bad."""
    files = expand_paths(paths)
    return len(files), merge(paper for path in files for paper in parse_file(path))


def merge(papers: Iterable[Paper]) -> list[Paper]:
    """One record per paper id: the first abstract seen, with every listing date and source file kept."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        known = merged.get(paper.paper_id)
        merged[paper.paper_id] = paper.model_copy(deep=True) if known is None else combine(known, paper)
    return list(merged.values())


def combine(first: Paper, second: Paper) -> Paper:
    """`first` (its title and abstract) with the listing dates and sources of `second` it lacks, and the links,
    arXiv id, authors and publication date of `second` where `first` has none."""
    return first.model_copy(
        update={
            "dates": dates.merge(first.dates, second.dates),
            "sources": first.sources + [s for s in second.sources if s not in first.sources],
            "url": first.url or second.url,
            "arxiv_id": first.arxiv_id or second.arxiv_id,
            "authors": first.authors or second.authors,
            "published": first.published or second.published,
        }
    )


def new_paper(title: str, abstract: str, date: str | None, source: str, url: str | None) -> Paper:
    """A paper read from elsewhere than a file (a sync), checked and cleaned like the papers of files."""
    if url and (problem := url_problem(url)):
        raise BadInputError(f"'url' {problem}: {url[:80]!r}")
    return _paper(_clean(title), _clean(abstract), date, source, url)


def _paper(
    title: str, abstract: str, date: str | None, source: str, url: str | None, where: str | None = None
) -> Paper:
    """A paper from cleaned fields, refusing an over-long title or abstract (naming `where`, a file and line, else
    `source`)."""
    where = where or source
    if len(title) > MAX_TITLE_CHARS:
        raise BadInputError(
            f"{where}: title {title[:80]!r}… is {len(title):,} characters; the limit is {MAX_TITLE_CHARS:,}"
        )
    if len(abstract) > MAX_ABSTRACT_CHARS:
        raise BadInputError(
            f"{where}: abstract of {title[:80]!r} is {len(abstract):,} characters; the limit is {MAX_ABSTRACT_CHARS:,}"
        )
    return Paper(
        paper_id=paper_id(title),
        title=title,
        abstract=abstract,
        dates=[date] if date else [],
        sources=[source],
        url=url,
    )
