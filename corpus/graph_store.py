"""The knowledge-graph tables (entities, mentions, relations): all of their SQL.

Written inside the document store's transaction (a document's graph rows commit with its chunks);
read whole by the in-memory graph (tools/kg/graph.py) and per query by graph retrieval. Mentions and
relations carry their document's access groups, so a reader's graph is built from readable evidence.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quarry.corpus.db import Database, RowConnection
from quarry.corpus.entities import Extraction

TABLES = ("entities", "mentions", "relations")


@dataclass(frozen=True)
class StoredEntity:
    id: int
    key: str
    name: str
    kind: str
    access: frozenset[frozenset[str]]
    """The access groups of each document that mentions it."""


@dataclass(frozen=True)
class StoredRelation:
    source_id: int
    target_id: int
    label: str
    """Reads from its subject, the source."""
    access: frozenset[str]


class GraphStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, *, max_relations_per_document: int) -> tuple[list[StoredEntity], list[StoredRelation]]:
        """Every mentioned entity and each document's first `max_relations_per_document` relations (in chunk
        order, then by the entities' keys: never by ids, whose order other documents' ingests change),
        read in one transaction."""
        with self.db.transaction() as conn:
            entities = [
                StoredEntity(row["id"], row["key"], row["name"], row["kind"], frozenset(map(frozenset, row["access"])))
                for row in conn.execute(
                    "SELECT e.id, e.key, e.name, e.kind, jsonb_agg(DISTINCT to_jsonb(m.access)) AS access"
                    " FROM entities e JOIN mentions m ON m.entity_id = e.id GROUP BY e.id"
                )
            ]
            relations = [
                StoredRelation(row["source_id"], row["target_id"], row["label"], frozenset(row["access"]))
                for row in conn.execute(
                    "SELECT source_id, target_id, label, access FROM ("
                    " SELECT r.source_id, r.target_id, r.label, r.access, row_number() OVER ("
                    "  PARTITION BY r.document_id ORDER BY r.chunk_id, s.key, t.key, r.label) AS nth"
                    " FROM relations r JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id"
                    ") ranked WHERE nth <= %(cap)s",
                    {"cap": max_relations_per_document},
                )
            ]
        return entities, relations

    def mentions(
        self, entity_ids: Sequence[int], *, within: tuple[str, dict[str, Any]], groups: Sequence[str]
    ) -> list[tuple[int, int]]:
        """(chunk id, entity id) for each chunk that mentions one of `entity_ids` and is among the chunk ids
        `within` selects (a subquery from the document store: the reader's access and filters)."""
        chunks, params = within
        with self.db.reading(groups) as conn:
            rows = conn.execute(
                "SELECT DISTINCT chunk_id, entity_id FROM mentions"
                f" WHERE entity_id = ANY(%(entity_ids)s) AND chunk_id IN ({chunks}) ORDER BY chunk_id, entity_id",
                {**params, "entity_ids": list(entity_ids)},
            ).fetchall()
        return [(row["chunk_id"], row["entity_id"]) for row in rows]


def write_graph(
    conn: RowConnection, document_id: str, access: Sequence[str], extraction: Extraction, chunk_ids: Mapping[int, int]
) -> None:
    """Entities are shared across documents (upserted by key); mentions and relations hang off this
    document's chunks (`chunk_ids`: ordinal → id), so replacing or deleting it removes them by cascade.
    Runs on the caller's connection: inside the document's write transaction."""
    keys = sorted(extraction.names)  # sorted: concurrent writers upsert shared keys in one order, no deadlock
    rows = conn.execute(
        "INSERT INTO entities (key, name, kind)"
        " SELECT * FROM unnest(%(keys)s::text[], %(names)s::text[], %(kinds)s::text[])"
        " ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING id, key",
        {
            "keys": keys,
            "names": [extraction.names[k][0] for k in keys],
            "kinds": [extraction.names[k][1] for k in keys],
        },
    ).fetchall()
    entity_ids = {row["key"]: row["id"] for row in rows}
    access = list(access)
    mentions = {(entity_ids[m.key], chunk_ids[m.chunk_ordinal], m.start_char): m for m in extraction.mentions}
    conn.execute(
        "INSERT INTO mentions (entity_id, chunk_id, document_id, start_char, end_char, access)"
        " SELECT e, c, %(doc)s, s, x, %(access)s FROM unnest(%(e)s::bigint[], %(c)s::bigint[], %(s)s::int[], %(x)s::int[])"
        " AS t(e, c, s, x)",
        {
            "doc": document_id,
            "access": access,
            "e": [k[0] for k in mentions],
            "c": [k[1] for k in mentions],
            "s": [k[2] for k in mentions],
            "x": [m.end_char for m in mentions.values()],
        },
    )
    relations = [r for r in extraction.relations if r.source_key != r.target_key]
    if relations:
        conn.execute(
            "INSERT INTO relations (source_id, target_id, label, chunk_id, document_id, access)"
            " SELECT a, b, l, c, %(doc)s, %(access)s"
            " FROM unnest(%(a)s::bigint[], %(b)s::bigint[], %(l)s::text[], %(c)s::bigint[]) AS t(a, b, l, c)",
            {
                "doc": document_id,
                "access": access,
                "a": [entity_ids[r.source_key] for r in relations],
                "b": [entity_ids[r.target_key] for r in relations],
                "l": [r.label for r in relations],
                "c": [chunk_ids[r.chunk_ordinal] for r in relations],
            },
        )
