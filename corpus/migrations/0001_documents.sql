-- Documents and their chunks. Filter columns are copied onto chunks so that metadata/access
-- predicates and the vector ordering run against one table in one statement.
CREATE TABLE corpus_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version         bigint NOT NULL DEFAULT 0,
    embedding_model text NOT NULL,
    embedding_dim   integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO corpus_state (embedding_model, embedding_dim) VALUES ({embedding_model}, {embedding_dim});

CREATE TABLE documents (
    id           text PRIMARY KEY,
    source       text NOT NULL,
    title        text NOT NULL,
    author       text NOT NULL,
    domain       text NOT NULL,
    published_at timestamptz NOT NULL,
    access       text[] NOT NULL CHECK (cardinality(access) > 0),
    tags         text[] NOT NULL DEFAULT '{{}}',
    language     text,
    body         text NOT NULL,
    content_hash text NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chunks (
    id           bigserial PRIMARY KEY,
    document_id  text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal      integer NOT NULL CHECK (ordinal >= 0),
    body         text NOT NULL,
    start_char   integer NOT NULL CHECK (start_char >= 0),
    end_char     integer NOT NULL CHECK (end_char > start_char),
    token_count  integer NOT NULL CHECK (token_count > 0),
    embedding    vector({embedding_dim}) NOT NULL,
    domain       text NOT NULL,
    author       text NOT NULL,
    published_at timestamptz NOT NULL,
    access       text[] NOT NULL,
    tags         text[] NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_access_gin ON chunks USING gin (access);
CREATE INDEX chunks_tags_gin ON chunks USING gin (tags);
CREATE INDEX chunks_domain ON chunks (domain);
CREATE INDEX chunks_author ON chunks (author);
CREATE INDEX chunks_published_at ON chunks (published_at);
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
