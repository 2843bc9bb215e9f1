"""Errors a user can act on: the CLI and the front ends print their message as one line."""


class PapertrailError(Exception):
    """Base of every error whose message is meant for the user."""


class BadInputError(PapertrailError):
    """An input file or question that Papertrail refuses; nothing from it reaches the store."""


class ModelError(PapertrailError):
    """The embedding model is missing or its weights fail their checksum."""


class StoreError(PapertrailError):
    """The vector store cannot be opened or reached."""
