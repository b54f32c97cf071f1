"""PostgreSQL access: the embedded pgserver cluster or an external server, a pool, and migrations.

This is the only module that imports psycopg; the rest of Quarry talks to `Database`.
"""

import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from quarry.corpus import access
from quarry.corpus.config import DatabaseConfig, EmbeddingConfig
from quarry.corpus.dsn import redact_dsn
from quarry.errors import ConfigError, DatabaseUnavailable, EmbeddingMismatch, ReadOnlyDatabase, StorageError

Connection = psycopg.Connection
RowConnection = psycopg.Connection[dict[str, Any]]
"""What `transaction()` and `reading()` yield: a pooled connection whose rows are dicts by column."""
Row = TypeVar("Row")
_MIGRATION_LOCK = 0x51A77_0001  # advisory lock key: one migrator at a time
READER_ROLE = "quarry_reader"


@dataclass(frozen=True)
class ServerInfo:
    where: str
    """Embedded data directory or the external URL with its password masked."""
    postgres_version: str
    pgvector_version: str


class Database:
    """A pool of connections whose search_path is Quarry's schema, with migrations applied."""

    def __init__(self, conninfo: str, config: DatabaseConfig, *, where: str) -> None:
        self.config = config
        self.schema = config.schema_name
        self.where = where
        self._conninfo = conninfo
        self.read_only = False
        """The server takes no writes (a replica, or default_transaction_read_only on): found at open."""
        self._pool: ConnectionPool | None = None
        self._log_filter = _Redacting(conninfo)

    @classmethod
    def open(cls, config: DatabaseConfig, embedding: EmbeddingConfig, data_dir: Path) -> "Database":
        """Connect (starting the embedded cluster if no URL is configured), migrate, and pool."""
        if config.url:
            db = cls(config.url, config, where=redact_dsn(config.url, dsn=config.url))
        else:
            db = cls(start_embedded(data_dir / "pg"), config, where=str(data_dir / "pg"))
        db.migrate(embedding)
        db.check_embedding_space(embedding)
        if config.row_security and not db.read_only:
            db._grant_reader_role()
        db._open_pool()
        return db

    def _connect_args(self) -> dict[str, Any]:
        return {
            "options": f"-c search_path={self.schema},public",
            "connect_timeout": max(1, int(self.config.connect_timeout_s)),
        }

    def _direct(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self._conninfo, autocommit=True, **self._connect_args())
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.where}: {self._said(exc)} "
                "(check database.url / QUARRY_DATABASE_URL, or unset it to use the embedded server)"
            ) from None
        except psycopg.ProgrammingError:
            # libpq quotes the piece it could not parse, which may be part of the password: say nothing of it.
            raise ConfigError(
                "database.url is not a valid PostgreSQL connection string: write it as "
                "postgresql://user:password@host:port/dbname (percent-encode '@', ':', '/' in the password) "
                "or as key=value pairs, quoting values with spaces (password='…')"
            ) from None

    def _said(self, exc: BaseException) -> str:
        """The driver's first line about `exc`, with any part of the connection string's password masked."""
        return redact_dsn(_first_line(exc), dsn=self._conninfo)

    def _open_pool(self) -> None:
        logging.getLogger("psycopg.pool").addFilter(self._log_filter)
        pool = ConnectionPool(
            self._conninfo,
            kwargs=self._connect_args(),
            min_size=self.config.pool_min,
            max_size=self.config.pool_max,
            configure=register_vector,
            check=ConnectionPool.check_connection,
            timeout=self.config.connect_timeout_s,
            open=False,
            name="quarry",
        )
        try:
            pool.open(wait=self.config.pool_min > 0, timeout=self.config.connect_timeout_s)
        except PoolTimeout:
            pool.close()
            raise DatabaseUnavailable(f"PostgreSQL at {self.where} did not accept connections in time") from None
        self._pool = pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
            logging.getLogger("psycopg.pool").removeFilter(self._log_filter)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[RowConnection]:
        """One transaction on a pooled connection: committed on success, rolled back on any error."""
        if self._pool is None:
            raise DatabaseUnavailable("the database is closed")
        try:
            with self._pool.connection() as pooled:
                conn = cast(RowConnection, pooled)
                conn.row_factory = dict_row
                with conn.transaction():
                    yield conn
        except PoolTimeout:
            raise DatabaseUnavailable(f"no connection to PostgreSQL at {self.where} became free in time") from None
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"lost the connection to PostgreSQL at {self.where}: {self._said(exc)}") from None
        except psycopg.errors.ReadOnlySqlTransaction:
            raise ReadOnlyDatabase(self.read_only_refusal("this command")) from None
        except psycopg.Error as exc:
            raise StorageError(f"database error: {self._said(exc)}") from exc

    @contextmanager
    def reading(self, groups: Sequence[str]) -> Iterator[RowConnection]:
        """A transaction for a reader with `groups` to search in. With database.row_security on, it is
        read-only and runs as the reader role, so PostgreSQL's row-level security admits only rows
        the groups may read, whatever the statement says; otherwise it is `transaction()` (the SQL
        predicate every retriever carries still applies)."""
        with self.transaction() as conn:
            if self.config.row_security:
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
                conn.execute("SELECT set_config(%s, %s, true)", (access.READER_SETTING, access.reader_setting(groups)))
            yield conn

    def _grant_reader_role(self) -> None:
        """Create the reader role if missing, let it read this schema, and let the pool's user become it."""
        schema = psycopg.sql.Identifier(self.schema)
        try:
            with self._direct() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone():
                    conn.execute(f"CREATE ROLE {READER_ROLE} NOLOGIN")
                conn.execute(psycopg.sql.SQL("GRANT USAGE ON SCHEMA {} TO " + READER_ROLE).format(schema))
                conn.execute(
                    psycopg.sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO " + READER_ROLE).format(schema)
                )
                conn.execute(f"GRANT {READER_ROLE} TO CURRENT_USER")
        except psycopg.Error as exc:
            raise StorageError(
                f"database.row_security: cannot set up the role {READER_ROLE} at {self.where}: {self._said(exc)} "
                "(connect as a user with CREATEROLE once, or turn database.row_security off)"
            ) from None

    def read_only_refusal(self, what: str) -> str:
        """Why `what` cannot run here, and what can."""
        return (
            f"the database at {self.where} is read-only (a replica, or default_transaction_read_only is on), "
            f"and {what} needs to write: point database.url / QUARRY_DATABASE_URL at a writable server (the "
            "primary); on this one, search, runs, spend and doctor work"
        )

    def migrate(self, embedding: EmbeddingConfig) -> list[str]:
        """Apply pending migrations once each, in order, recording them; returns the names applied.
        On a read-only server nothing is written: the schema must already be complete."""
        applied: list[str] = []
        with self._direct() as conn:
            if _takes_no_writes(conn):
                self.read_only = True
                self._check_complete(conn)
                return applied
            _ensure_extension(conn)
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
                if _pgvector_parallel_build_unsafe(_pgvector_version(conn)):
                    # CVE-2026-3172: parallel HNSW builds in pgvector 0.6.0-0.8.1 are memory-unsafe.
                    conn.execute("SET LOCAL max_parallel_maintenance_workers = 0")
                for version, name, template in _migrations():
                    if version in done:
                        continue
                    conn.execute(_render(template, embedding))
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
                    applied.append(name)
        return applied

    def _check_complete(self, conn: psycopg.Connection) -> None:
        """A read-only server cannot be migrated: it must already hold pgvector and every migration."""
        if _pgvector_version(conn) == "missing":
            raise DatabaseUnavailable(
                f"the pgvector extension is not installed in the read-only database at {self.where} "
                "(create it on the primary: CREATE EXTENSION vector)"
            )
        if conn.execute("SELECT to_regclass('schema_migrations')").fetchone() in (None, (None,)):
            raise ReadOnlyDatabase(
                f"the read-only database at {self.where} has no Quarry schema '{self.schema}' (it is not set up): "
                "run `quarry ingest` against the primary first, then let the replica catch up"
            )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        missing = [name for version, name, _ in _migrations() if version not in done]
        if missing:
            raise ReadOnlyDatabase(
                f"the read-only database at {self.where} lacks {len(missing)} migration(s) of schema "
                f"'{self.schema}' ({', '.join(missing)}): run any quarry command against the primary to apply "
                "them, then let the replica catch up"
            )

    def check_embedding_space(self, embedding: EmbeddingConfig) -> None:
        from quarry.corpus.store import embedding_space  # the documents store owns corpus_state; it imports this module

        with self._direct() as conn:
            model, dim = embedding_space(conn)
        if (model, dim) != (embedding.model, embedding.dimension):
            raise EmbeddingMismatch(
                f"the corpus at {self.where} (schema '{self.schema}') was built with embedding model "
                f"'{model}' ({dim} dims), but the configured model is '{embedding.model}' "
                f"({embedding.dimension} dims); vectors from different models cannot be compared "
                f"(set embedding.model back to '{model}', or use another QUARRY_DATA_DIR or database.schema_name)"
            )

    def server_info(self) -> ServerInfo:
        with self._direct() as conn:
            pg = one_row(conn.execute("SHOW server_version"))[0]
            return ServerInfo(self.where, pg, _pgvector_version(conn))

    def drop_schema(self) -> None:
        """Remove every Quarry table in this schema (tests and `quarry reset`)."""
        self.close()
        with self._direct() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) the pgserver cluster in `pgdata` and return its socket connection URI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        # pgserver/__init__.py star-imports a module's `__all__`, which hides its other names from
        # type checkers; import get_server from where it is defined.
        from pgserver.postgres_server import get_server
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode="stop")
        return server.get_uri()
    except Exception as exc:  # pgserver raises CalledProcessError, TimeoutExpired, AssertionError...
        log = pgdata / "log"
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {pgdata}: {exc} "
            f"(see its log at {log}; set QUARRY_DATA_DIR to another folder or QUARRY_DATABASE_URL to a server)"
        ) from None


def one_row(cursor: psycopg.Cursor[Row]) -> Row:
    """The row of a statement that always returns exactly one (an aggregate, INSERT … RETURNING)."""
    row = cursor.fetchone()
    if row is None:
        raise StorageError("database error: a statement that returns one row returned none")
    return row


def _ensure_extension(conn: psycopg.Connection) -> None:
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        raise DatabaseUnavailable(
            f"the pgvector extension is not available: {redact_dsn(_first_line(exc))} "
            "(install pgvector on the server or have a superuser run CREATE EXTENSION vector)"
        ) from None


def _takes_no_writes(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


def _pgvector_version(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    return row[0] if row else "missing"


def _pgvector_parallel_build_unsafe(version: str) -> bool:
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    return (0, 6, 0) <= parts <= (0, 8, 1)


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("quarry.corpus.migrations").iterdir():
        match = re.match(r"^(\d{4})_(\w+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found)


def _render(template: str, embedding: EmbeddingConfig) -> bytes:
    literal = psycopg.sql.Literal(embedding.model).as_string()
    return template.format(embedding_model=literal, embedding_dim=int(embedding.dimension)).encode()


class _Redacting(logging.Filter):
    """Masks the connection string's password in what the pool logs (failed reconnects quote libpq)."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_dsn(record.getMessage(), dsn=self._dsn), None
        return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
