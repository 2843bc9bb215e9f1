"""What the syncs have done, in PAPERTRAIL_HOME/sync.json: listing days stored, the last sync, the papers each
sync added and which Slack channels were told about them.

Every change is a read-modify-write under an exclusive file lock, written beside the file and renamed over it,
so a killed process leaves the old state or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from .errors import PapertrailError, SyncError
from .read_only import refuse_writing

STATE_FILE = "sync.json"
LOCK_FILE = "sync.lock"
RUNNING_FILE = "sync.running"
KEPT_BATCHES = 30


class Batch(BaseModel):
    """The papers (by id) one sync added."""

    number: int
    finished: datetime
    paper_ids: list[str]


class State(BaseModel):
    """The contents of sync.json."""

    days: list[str] = Field(default_factory=list, description="Listing days (ISO) whose papers are all stored.")
    last_sync: datetime | None = None
    pending: list[str] = Field(
        default_factory=list, description="Papers a sync began adding; they join the batch of the next sync that finishes."
    )
    batches: list[Batch] = Field(default_factory=list, description="The latest batches of added papers, oldest first.")
    announced: dict[str, int] = Field(default_factory=dict, description="Slack channel: number of the last batch posted.")


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(timezone.utc)


def read(home: Path) -> State:
    """The state (empty before the first sync); an unreadable file is an error naming it."""
    path = home / STATE_FILE
    try:
        return State.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return State()
    except (OSError, ValidationError) as err:
        reason = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
        raise PapertrailError(
            f"{path}: unreadable sync state ({reason}); remove it to start over (listing days are then fetched again)"
        ) from None


@contextmanager
def editing(home: Path) -> Iterator[State]:
    """The state, locked against other processes while the block changes it, then saved atomically."""
    refuse_writing(home, "saving the sync state")
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = read(home)
        yield state
        staging = home / f".{STATE_FILE}.{os.getpid()}"
        with staging.open("w", encoding="utf-8") as handle:
            handle.write(state.model_dump_json(indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        staging.replace(home / STATE_FILE)


@contextmanager
def running(home: Path) -> Iterator[None]:
    """Held for a whole sync or add: a second one on the same store is refused rather than interleaved."""
    refuse_writing(home, "a sync or add")
    home.mkdir(parents=True, exist_ok=True)
    with (home / RUNNING_FILE).open("a") as flag:
        try:
            fcntl.flock(flag, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError(f"another sync or add is running on {home}; wait for it to finish") from None
        yield


def begin(home: Path, paper_ids: list[str]) -> None:
    """Note papers about to be added, so a sync killed mid-way still counts them in the next batch."""
    if paper_ids:
        with editing(home) as state:
            state.pending += [paper_id for paper_id in paper_ids if paper_id not in state.pending]


def forget_days(home: Path) -> list[str]:
    """Forget every stored listing day (a rebuilt store lacks their papers), so a sync fetches them again; returns them."""
    if not read(home).days:
        return []
    with editing(home) as state:
        forgotten, state.days = state.days, []
    return forgotten


def record_days(home: Path, days: list[str]) -> None:
    """Note listing days whose papers are all stored: later syncs skip them."""
    if days:
        with editing(home) as state:
            state.days = sorted(set(state.days) | set(days))


def finish(home: Path, stored: set[str], listing: bool) -> Batch | None:
    """Close a sync (or an add): the pending papers now `stored` become a new batch; a listing sync sets `last_sync`."""
    with editing(home) as state:
        added = [paper_id for paper_id in state.pending if paper_id in stored]
        state.pending = []
        if listing:
            state.last_sync = now()
        if not added:
            return None
        number = state.batches[-1].number + 1 if state.batches else 1
        state.batches = [*state.batches, Batch(number=number, finished=now(), paper_ids=added)][-KEPT_BATCHES:]
        return state.batches[-1]


def unannounced(home: Path, channel: str) -> list[Batch]:
    """Batches not yet posted to `channel`; for a channel never posted to, only the latest."""
    state = read(home)
    if channel not in state.announced:
        return state.batches[-1:]
    return [batch for batch in state.batches if batch.number > state.announced[channel]]


def mark_announced(home: Path, channel: str, number: int) -> None:
    """Note that batch `number` (and every earlier one) was posted to `channel`."""
    with editing(home) as state:
        state.announced[channel] = max(number, state.announced.get(channel, 0))
