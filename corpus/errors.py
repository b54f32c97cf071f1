"""Errors raised by the corpus layer; each message names the thing at fault and the fix."""

from typing import NamedTuple


class CorpusError(Exception):
    """Base class for every error the corpus layer raises on purpose."""


class FieldProblem(NamedTuple):
    field: str
    problem: str
    fix: str


class MetadataError(CorpusError):
    """A document's metadata breaks the contract; names the document and every field at fault."""

    def __init__(self, document: str, problems: list[FieldProblem]) -> None:
        self.document = document
        self.problems = problems
        self.field = problems[0].field
        detail = "; ".join(f"{p.problem} ({p.fix})" for p in problems)
        super().__init__(f"document '{document}': {detail}")


class DocumentParseError(CorpusError):
    """A file could not be read as a document at all (bad encoding, broken front matter, bad JSON)."""

    def __init__(self, document: str, problem: str) -> None:
        self.document = document
        super().__init__(f"document '{document}': {problem}")


class DatabaseUnavailable(CorpusError):
    """The configured PostgreSQL server cannot be reached or started."""


class EmbeddingMismatch(CorpusError):
    """The configured embedder does not match the one the corpus was built with."""


class EmbeddingModelError(CorpusError):
    """The embedding model could not be loaded."""
