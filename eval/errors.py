"""Errors raised by evaluation: bad dataset paths and formats, a resume that does not fit."""


class DatasetError(Exception):
    """A dataset cannot be read: unknown format, missing file or field, malformed record."""


class RunMismatch(Exception):
    """`--resume` into an output folder that was run with another dataset, corpus or limits."""
