"""A read-only PAPERTRAIL_HOME (a read-only mount, a folder the user may not write): readers work, writers refuse.

Chroma writes to an embedded store as it opens it, even to only read it, so a reader opens a private copy of the
store instead (made once per process in a temporary folder, removed when the process exits); a search index that
must be rebuilt (missing, damaged, or of an older format) is rebuilt in such a private folder too. Every writer
(ingest, `ingest --check`, uploads, sync, add, a rating) stops first with one line saying the home is read-only.
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import StoreError

log = logging.getLogger(__name__)

_COPIES: dict[Path, Path] = {}
_COPIES_LOCK = threading.Lock()


def writable(path: Path) -> bool:
    """True when this process may write `path` (a folder, or the file in it), or create it when it is missing."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK)


def read_only_error(home: Path, doing: str) -> StoreError:
    """The one line for a writer on a read-only home."""
    return StoreError(
        f"PAPERTRAIL_HOME ({home}) is read-only, and {doing} writes there: make it writable, or set PAPERTRAIL_HOME "
        "to a writable folder (reading works as it is)"
    )


def refuse_writing(home: Path, doing: str) -> None:
    """Stop a writer before it starts when it could not write to `home`."""
    if not writable(home):
        raise read_only_error(home, doing)


def is_read_only_error(err: BaseException) -> bool:
    """True for the OSError of a write to a read-only file system or a file the process may not write."""
    return isinstance(err, OSError) and err.errno in (errno.EROFS, errno.EACCES, errno.EPERM)


def store_folder(folder: Path) -> Path:
    """Where to open the embedded Chroma store kept in `folder`: the folder itself, or, when this process may not
    write it, a private copy of it."""
    database = folder / "chroma.sqlite3"
    if not folder.is_dir() or (writable(folder) and writable(database)):
        return folder
    return _private(folder, lambda copy: shutil.copytree(folder, copy))


def index_folder(folder: Path) -> Path:
    """Where to build the search index kept in `folder` when it must be rebuilt: the folder itself, or, when this
    process may not write it, a private folder in its place."""
    return folder if writable(folder) else _private(folder, lambda copy: copy.mkdir())


def _private(folder: Path, fill: Callable[[Path], None]) -> Path:
    """This process's private stand-in for `folder` (made by `fill` once, in a temporary folder removed at exit)."""
    with _COPIES_LOCK:
        if folder not in _COPIES:
            scratch = Path(tempfile.mkdtemp(prefix="papertrail-read-only-"))
            atexit.register(shutil.rmtree, scratch, True)
            copy = scratch / folder.name
            fill(copy)
            log.info("%s is read-only: using a private copy at %s", folder, copy)
            _COPIES[folder] = copy
        return _COPIES[folder]
