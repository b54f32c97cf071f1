"""Errors raised by evaluation: bad dataset paths and formats."""


class DatasetError(Exception):
    """A dataset cannot be read: unknown format, missing file or field, malformed record."""
