"""database.row_security: PostgreSQL itself refuses rows the reader's groups may not read, even to
a statement without Quarry's access predicate, and retrieval returns exactly what it returns
without it. Also shows why the predicate stays in the SQL: HNSW with only RLS behind it post-
filters the index's candidates and silently returns too few rows."""

import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.tools.config import DenseConfig
from quarry.tools.dense import DenseSearch
from tests.support.helpers import chunks_of, isolated_settings, make_document, unit_vectors

pytestmark = pytest.mark.integration

FINANCE = Principal(id="fin", groups=("finance",))
PUBLIC = Principal(id="pub", groups=("public",))
DOCS = 600
RESTRICTED_EVERY = 50  # 12 of 600 chunks: 2%


@pytest.fixture(scope="module")
def secured(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Database, np.ndarray]]:
    """The same schema opened twice: with row security (reads as the reader role) and without."""
    schema, data_dir = f"rls_{uuid.uuid4().hex[:10]}", tmp_path_factory.mktemp("rls")

    def open_db(row_security: bool) -> Database:
        settings = isolated_settings(pg_url, data_dir, schema=schema, overrides={"database.row_security": row_security})
        return Database.open(settings.database, settings.embedding, settings.data_dir)

    plain, rls = open_db(False), open_db(True)
    vectors = unit_vectors(DOCS, seed=7)
    store = DocumentStore(plain)
    for n in range(DOCS):
        access = ["finance"] if n % RESTRICTED_EVERY == 0 else ["public"]
        document = make_document(f"d{n}", f"Passage number {n} of the ledger.", access=access)
        store.write(document, chunks_of(document), vectors[n][None, :])
    store.analyze()
    yield plain, rls, vectors
    rls.close()
    plain.drop_schema()


def _count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()["n"]


def test_the_database_refuses_rows_outside_the_readers_groups(secured):
    plain, rls, _ = secured
    everything = "SELECT count(*) AS n FROM chunks"  # no access predicate at all
    with plain.transaction() as conn:
        assert _count(conn, everything) == DOCS, "the owner (ingest) is not bound by the policies"
    with rls.reading(FINANCE.groups) as conn:
        assert _count(conn, everything) == DOCS // RESTRICTED_EVERY
        assert _count(conn, "SELECT count(*) AS n FROM documents WHERE 'public' = ANY(access)") == 0
    with rls.reading(PUBLIC.groups) as conn:
        assert _count(conn, "SELECT count(*) AS n FROM chunks WHERE 'finance' = ANY(access)") == 0
    with rls.reading(()) as conn:
        assert _count(conn, everything) == 0
    with rls.reading(('public", "finance',)) as conn:  # a group name trying to smuggle in a second group
        assert _count(conn, "SELECT count(*) AS n FROM chunks WHERE 'finance' = ANY(access)") == 0


def test_retrieval_under_row_security_returns_what_it_returns_without(secured):
    plain, rls, vectors = secured
    for principal in (FINANCE, PUBLIC):
        for query in vectors[:40:7]:
            for strategy in ("exact", "hnsw", None):
                with_rls = DenseSearch(rls, DenseConfig()).search(query, k=10, principal=principal, strategy=strategy)
                without = DenseSearch(plain, DenseConfig()).search(query, k=10, principal=principal, strategy=strategy)
                assert [h.chunk_id for h in with_rls.hits] == [h.chunk_id for h in without.hits]
                assert len(with_rls.hits) == 10


def test_hnsw_behind_only_row_security_silently_drops_rows(secured):
    """The reason the access predicate stays in every statement: when the planner takes the HNSW index
    (forced here; on a large table it does so by itself at moderate selectivity, see bench/bench_rls.py),
    the index hands over its ef_search nearest chunks and the policy then discards the unreadable ones."""
    _, rls, vectors = secured
    short = 0
    for query in vectors[1:200:10]:
        with rls.reading(FINANCE.groups) as conn:
            conn.execute("SET LOCAL enable_seqscan = off")
            conn.execute("SET LOCAL enable_bitmapscan = off")  # else the access GIN index serves this tiny table
            conn.execute("SET LOCAL hnsw.ef_search = 40")
            rows = conn.execute(  # unprepared: a plan psycopg cached after 5 runs would ignore the settings above
                "SELECT id FROM chunks ORDER BY embedding <=> %s LIMIT 10",
                (np.asarray(query, dtype=np.float32),),
                prepare=False,
            ).fetchall()
        short += len(rows) < 10
        assert len(DenseSearch(rls, DenseConfig()).search(query, k=10, principal=FINANCE).hits) == 10
    assert short > 0, "some index scans came back short"
