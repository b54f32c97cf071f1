-- The knowledge graph: entities, where they are mentioned, and how they relate. Mentions and
-- relations belong to a chunk (cascade with it) and carry its document's access groups, so a
-- reader's view of the graph is built only from evidence they may read.
CREATE TABLE entities (
    id   bigserial PRIMARY KEY,
    key  text NOT NULL UNIQUE,
    name text NOT NULL,
    kind text NOT NULL
);

CREATE TABLE mentions (
    entity_id   bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    chunk_id    bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    start_char  integer NOT NULL,
    end_char    integer NOT NULL CHECK (end_char > start_char),
    access      text[] NOT NULL,
    PRIMARY KEY (chunk_id, entity_id, start_char)
);
CREATE INDEX mentions_entity ON mentions (entity_id);

CREATE TABLE relations (
    source_id   bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    target_id   bigint NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    label       text NOT NULL,
    chunk_id    bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    access      text[] NOT NULL,
    CHECK (source_id <> target_id)
);
CREATE INDEX relations_chunk ON relations (chunk_id);
