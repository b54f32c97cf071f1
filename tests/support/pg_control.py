"""Fault injection on an embedded PostgreSQL cluster of one's own: restart it, stop and start it,
drop every client connection (what clients see when a server restarts or fails over), or have the
server end the connection of a chosen write mid-statement.

Used by tests/integration/test_db_faults.py and bench/bench_faults.py; never point it at a cluster
that other work depends on.
"""

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg import sql

T = TypeVar("T")


class EmbeddedCluster:
    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
            from pgserver import _commands
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self._pg_ctl = _commands.pg_ctl
        self.pgdata = pgdata
        self.url = self._server.get_uri()

    def restart(self) -> float:
        """A fast restart (open transactions are rolled back, connections dropped); returns its seconds."""
        began = time.monotonic()
        self._pg_ctl(["-w", "restart", "-m", "fast"], pgdata=self.pgdata, user=self._server.system_user)
        return time.monotonic() - began

    def stop(self) -> None:
        self._pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()

    @contextmanager
    def dropping_inserts(self, schema: str, table: str, *, times: int = 1) -> Iterator["DroppedInserts"]:
        """While inside, the next `times` INSERTs into `schema.table` each lose their connection
        mid-statement: a trigger has the server end the writing backend, which is what a client sees
        when a restart or failover hits a statement in flight ("terminating connection due to
        administrator command"), but always at this statement, however fast the run goes."""
        names = {
            "seq": sql.Identifier(schema, "quarry_fault_n"),
            "fn": sql.Identifier(schema, "quarry_fault_drop"),
            "trigger": sql.Identifier("quarry_fault"),
            "table": sql.Identifier(schema, table),
            "times": sql.Literal(times),
        }
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SEQUENCE {seq}").format(**names))
            conn.execute(
                sql.SQL(
                    "CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    " IF nextval('{seq_text}') <= {times} THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
                    " RETURN NEW; END $$"
                ).format(**names, seq_text=sql.SQL(f"{schema}.quarry_fault_n"))
            )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {fn}()"
                ).format(**names)
            )
        dropped = DroppedInserts(self.url, names["seq"], times)
        try:
            yield dropped
        finally:
            with psycopg.connect(self.url, autocommit=True) as conn:
                dropped.count = dropped.read(conn)
                conn.execute(sql.SQL("DROP TRIGGER {trigger} ON {table}").format(**names))
                conn.execute(sql.SQL("DROP FUNCTION {fn}()").format(**names))
                conn.execute(sql.SQL("DROP SEQUENCE {seq}").format(**names))

    def drop_connections(self) -> int:
        """Terminate every other client backend; returns how many."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            return len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchall()
            )


class DroppedInserts:
    """How many inserts `EmbeddedCluster.dropping_inserts` has cut off so far."""

    def __init__(self, url: str, sequence: sql.Composable, times: int) -> None:
        self._url, self._sequence, self._times = url, sequence, times
        self.count: int | None = None

    def read(self, conn: psycopg.Connection) -> int:
        called, last = conn.execute(sql.SQL("SELECT is_called, last_value FROM {}").format(self._sequence)).fetchone()
        return min(last, self._times) if called else 0

    def __int__(self) -> int:
        if self.count is not None:
            return self.count
        with psycopg.connect(self._url, autocommit=True) as conn:
            return self.read(conn)


def once_the_pool_recovers(call: Callable[[], T], *, within_s: float = 60.0) -> T:
    """`call()` once the pool has connections again. After failed connection attempts the pool retries
    with a growing backoff, so a request right after a fault may still get a clean DatabaseUnavailable."""
    from quarry.errors import DatabaseUnavailable

    give_up = time.monotonic() + within_s
    while True:
        try:
            return call()
        except DatabaseUnavailable:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.5)


class ConnectionKiller:
    """Drops every client connection every `interval_s` until stopped: a flapping network or server."""

    def __init__(self, cluster: EmbeddedCluster, interval_s: float) -> None:
        self.cluster = cluster
        self.interval_s = interval_s
        self.kills = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connection-killer", daemon=True)

    def __enter__(self) -> "ConnectionKiller":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.kills += self.cluster.drop_connections()
