"""Every error Quarry raises on purpose, in one tree rooted at `QuarryError`.

Each class carries the CLI exit code (`exit_code`) and the HTTP status (`http_status`) it stands
for; the `quarry` entry point (quarry.agent.cli.main) maps an escaped error to its exit code in
one place, and an HTTP front door answers with its status. A builtin base in brackets is
part of the contract: `BudgetExceeded` is a RuntimeError so LangGraph never retries it,
`InvalidQuestion` a ValueError, `AccountNotFound` a LookupError.

                                                          exit  HTTP
    QuarryError                                              2   500
    ├── ConfigError                                          2   500
    │   └── TelemetryUnavailable (RuntimeError)              2   500
    ├── InvalidInput                                         2   422
    │   ├── UsageError                                       2   400
    │   ├── InvalidQuestion (ValueError)                     2   422
    │   ├── InvalidFilters                                   2   422
    │   ├── InvalidPrincipal                                 2   422
    │   ├── DatasetError                                     2   422
    │   └── RunMismatch                                      2   409
    ├── NotFound                                             2   404
    │   ├── AccountNotFound (LookupError)                    2   404
    │   ├── RunNotFound                                      2   404
    │   ├── SessionNotFound                                  2   404
    │   ├── PassageUnavailable                               2   404
    │   ├── ApiKeyNotFound                                   2   404
    │   └── DocumentNotFound                                 2   404
    ├── Forbidden                                            2   403
    │   ├── RunForbidden                                     2   403
    │   └── SessionForbidden                                 2   403
    ├── BudgetSpent                                          4   402
    │   ├── BudgetExceeded (RuntimeError)                    4   402
    │   └── SessionBudgetSpent                               4   402
    ├── CorpusError                                          2   422
    │   ├── MetadataError                                    2   422
    │   ├── DocumentParseError                               2   422
    │   ├── IdClaimed                                        2   409
    │   ├── StorageError                                     2   500
    │   ├── BlobError                                        2   500
    │   ├── DatabaseUnavailable                              3   503
    │   │   └── ReadOnlyDatabase                             3   503
    │   ├── EmbeddingMismatch                                3   409
    │   └── EmbeddingModelError                              3   503
    ├── LLMError                                             3   502
    │   ├── LLMUnavailable                                   3   503
    │   ├── LLMTimeout                                       3   504
    │   └── LLMAuthError                                     3   502
    └── ServiceError                                         3   502
        ├── AuthenticationFailed                             2   401
        ├── TooManyAuthFailures                              2   429
        ├── RequestTooLarge                                  2   413
        ├── RequestTimeout                                   2   408
        └── ServiceUnreachable                               3   503

Exit codes (ExitCode): 0 success; 1 some documents were refused; 2 bad arguments, input or
configuration; 3 the database, the embedding model or the LLM is unavailable; 4 a budget is spent
(a session's, an account's, or a backstop); 130 interrupted. A test keeps this drawing and the
classes in step.

Messages name the thing at fault and the fix. This module imports nothing from Quarry's layers,
so every layer (corpus up to eval) may raise and catch these.
"""

from enum import IntEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar, NamedTuple

if TYPE_CHECKING:
    from quarry.records import StopReason

__all__ = [
    "AccountNotFound",
    "ApiKeyNotFound",
    "AuthenticationFailed",
    "BlobError",
    "BudgetExceeded",
    "BudgetSpent",
    "ConfigError",
    "CorpusError",
    "DatabaseUnavailable",
    "DatasetError",
    "DocumentNotFound",
    "DocumentParseError",
    "EmbeddingMismatch",
    "EmbeddingModelError",
    "ExitCode",
    "FieldProblem",
    "Forbidden",
    "IdClaimed",
    "InvalidFilters",
    "InvalidInput",
    "InvalidPrincipal",
    "InvalidQuestion",
    "LLMAuthError",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "MetadataError",
    "NotFound",
    "PassageUnavailable",
    "QuarryError",
    "ReadOnlyDatabase",
    "RequestTimeout",
    "RequestTooLarge",
    "RunForbidden",
    "RunMismatch",
    "RunNotFound",
    "ServiceError",
    "ServiceUnreachable",
    "SessionBudgetSpent",
    "SessionForbidden",
    "SessionNotFound",
    "StorageError",
    "TelemetryUnavailable",
    "TooManyAuthFailures",
    "UsageError",
]


class ExitCode(IntEnum):
    """The `quarry` process's exit status."""

    OK = 0
    REFUSED = 1
    """Some documents were refused (ingest); the rest were written."""
    USAGE = 2
    """Bad arguments, input or configuration."""
    UNAVAILABLE = 3
    """The database, the embedding model or the LLM is unavailable."""
    BUDGET = 4
    """A budget was spent before the work could be done."""
    INTERRUPTED = 130


class QuarryError(Exception):
    """Base class of every error Quarry raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE
    http_status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR


# -- configuration -------------------------------------------------------------------------------


class ConfigError(QuarryError):
    """config.yaml or a QUARRY_* variable is missing, unreadable, misspelt or out of range."""


class TelemetryUnavailable(ConfigError, RuntimeError):
    """An endpoint is configured but the OpenTelemetry packages are not installed."""


# -- the caller's input --------------------------------------------------------------------------


class InvalidInput(QuarryError):
    """The caller's input (arguments, question, filters, dataset) cannot be used as given; `field`
    names the input at fault when one does (an HTTP error body reports it)."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, *args: object, field: str | None = None) -> None:
        self.field = field
        super().__init__(*args)


class UsageError(InvalidInput):
    """A command's arguments are inconsistent; the message names the flag."""

    http_status = HTTPStatus.BAD_REQUEST


class InvalidQuestion(InvalidInput, ValueError):
    """The question cannot be asked as given (empty, or too long); the message says which."""


class InvalidFilters(InvalidInput):
    """`filters=` names an unknown field or a value of the wrong kind."""


class InvalidPrincipal(InvalidInput):
    """`principal=` is not an id or a `Principal`, or holds text that cannot be stored (a NUL, a lone surrogate)."""


class DatasetError(InvalidInput):
    """A dataset cannot be read: unknown format, missing file or field, malformed record."""


class RunMismatch(InvalidInput):
    """`--resume` into an output folder that was run with another dataset, corpus or limits."""

    http_status = HTTPStatus.CONFLICT


# -- what the caller named does not exist, or is not theirs ----------------------------------------


class NotFound(QuarryError):
    """The thing named (account, run, session, passage) does not exist for this caller."""

    http_status = HTTPStatus.NOT_FOUND


class AccountNotFound(NotFound, LookupError):
    """The configured budget account does not exist; the message says how to create it."""


class RunNotFound(NotFound):
    """No run has the given id (or prefix)."""


class SessionNotFound(NotFound):
    """No session has the given id (or it is not a session id at all)."""


class PassageUnavailable(NotFound):
    """The cited document is gone, or the reader may not open it."""


class ApiKeyNotFound(NotFound):
    """No live API key has the given prefix (`quarry keys revoke`)."""


class DocumentNotFound(NotFound):
    """No stored document has the given id, or none matches the given source or filters."""


class Forbidden(QuarryError):
    """The thing named belongs to another principal."""

    http_status = HTTPStatus.FORBIDDEN


class RunForbidden(Forbidden):
    """The run belongs to another principal: its question and evidence are theirs."""


class SessionForbidden(Forbidden):
    """The session belongs to another principal."""


# -- budgets -------------------------------------------------------------------------------------


class BudgetSpent(QuarryError):
    """A budget has no room for the work asked. A run's own limits stop it by routing to finalize
    (a partial answer, not an error); these are raised where no answer can be given."""

    exit_code = ExitCode.BUDGET
    http_status = HTTPStatus.PAYMENT_REQUIRED


class BudgetExceeded(BudgetSpent, RuntimeError):
    """A call did not fit the budget. Subclasses RuntimeError because LangGraph retries unknown exception
    classes by default; this one must never be retried."""

    def __init__(self, reason: "StopReason", detail: str) -> None:
        self.reason: StopReason = reason
        super().__init__(f"budget exhausted ({reason}): {detail}")


class SessionBudgetSpent(BudgetSpent):
    """A chat session's budget is spent: the session runs no more turns."""

    def __init__(self, reason: "StopReason", detail: str) -> None:
        self.reason: StopReason = reason
        self.detail = detail
        super().__init__(f"the session's budget is spent ({reason}): {detail}")


# -- the corpus and its storage ------------------------------------------------------------------


class CorpusError(QuarryError):
    """Base class for every error the corpus layer raises on purpose."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


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


class IdClaimed(CorpusError):
    """A document claims an id that belongs to a document from another origin (file)."""

    http_status = HTTPStatus.CONFLICT

    def __init__(self, document: str, document_id: str, owner: str) -> None:
        self.document = document
        self.document_id = document_id
        self.owner = owner
        super().__init__(
            f"document '{document}': id '{document_id}' belongs to '{owner}', another source (give this document"
            f" its own id, remove the other with `quarry rm {document_id}`, or pass --force to take the id over)"
        )


class StorageError(CorpusError):
    """A statement failed for a reason other than the server being unreachable."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR


class BlobError(CorpusError):
    """A blob could not be written or read (disk full, permissions, a corrupt object)."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR


class DatabaseUnavailable(CorpusError):
    """The configured PostgreSQL server cannot be reached or started."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = HTTPStatus.SERVICE_UNAVAILABLE


class ReadOnlyDatabase(DatabaseUnavailable):
    """The database only serves reads (a replica, or default_transaction_read_only on) and the command
    needs to write; the message names the database and what still works on it."""


class EmbeddingMismatch(CorpusError):
    """The configured embedder does not match the one the corpus was built with."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = HTTPStatus.CONFLICT


class EmbeddingModelError(CorpusError):
    """The embedding model could not be loaded."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = HTTPStatus.SERVICE_UNAVAILABLE


# -- language models -----------------------------------------------------------------------------


class LLMError(QuarryError):
    """The model refused the request (bad request, auth, permissions); retrying will not help."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = HTTPStatus.BAD_GATEWAY


class LLMUnavailable(LLMError):
    """Transient failures (429, 529, 5xx, connection) outlasted the retries the deadline allowed."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE


class LLMTimeout(LLMError):
    """No complete reply arrived before the deadline."""

    http_status = HTTPStatus.GATEWAY_TIMEOUT


class LLMAuthError(LLMError):
    """The provider refused the API key (HTTP 401/403): the message names the key to set or unset."""


# -- the HTTP service and its clients --------------------------------------------------------------


class ServiceError(QuarryError):
    """The HTTP service refused a request, or (for the CLI as a client) answered in a way it cannot use."""

    exit_code = ExitCode.UNAVAILABLE
    http_status = HTTPStatus.BAD_GATEWAY


class AuthenticationFailed(ServiceError):
    """No API key, or not a live one: `Authorization: Bearer <key>` from `quarry keys create`."""

    exit_code = ExitCode.USAGE
    http_status = HTTPStatus.UNAUTHORIZED


class TooManyAuthFailures(ServiceError):
    """This client address failed to authenticate too often; it may try again after `retry_after` s."""

    exit_code = ExitCode.USAGE
    http_status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RequestTooLarge(ServiceError):
    """A request body (or an upload) is larger than the service accepts (service.max_*_bytes)."""

    exit_code = ExitCode.USAGE
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class RequestTimeout(ServiceError):
    """The client did not send its request body within service.body_timeout_s."""

    exit_code = ExitCode.USAGE
    http_status = HTTPStatus.REQUEST_TIMEOUT


class ServiceUnreachable(ServiceError):
    """The server at QUARRY_URL cannot be reached, or answered 503."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE
