"""Errors a user can act on: the CLI and the front ends print their message as one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import SyncReport


class PapertrailError(Exception):
    """Base of every error whose message is meant for the user."""


class BadInputError(PapertrailError):
    """An input file or question that Papertrail refuses; nothing from it reaches the store."""


class SettingsError(PapertrailError):
    """A setting (an environment variable, or a field given in code) whose value Papertrail refuses."""


class ModelError(PapertrailError):
    """The embedding model is missing or its weights fail their checksum."""


class StoreError(PapertrailError):
    """The vector store cannot be opened or reached."""


class SyncError(PapertrailError):
    """A sync or add that could not finish (network, rate limit, server error); `report` counts what it stored first."""

    def __init__(self, message: str, report: SyncReport | None = None) -> None:
        super().__init__(message)
        self.report = report
