"""Fault injection on an embedded PostgreSQL cluster of one's own: restart it, stop and start it, or
drop every client connection (what clients see when a server restarts or fails over).

Used by tests/integration/test_db_faults.py and eval/bench_faults.py; never point it at a cluster
that other work depends on.
"""

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg

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

    def drop_connections(self) -> int:
        """Terminate every other client backend; returns how many."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            return len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchall()
            )


def once_the_pool_recovers(call: Callable[[], T], *, within_s: float = 60.0) -> T:
    """`call()` once the pool has connections again. After failed connection attempts the pool retries
    with a growing backoff, so a request right after a fault may still get a clean DatabaseUnavailable."""
    from quarry.corpus.errors import DatabaseUnavailable

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
