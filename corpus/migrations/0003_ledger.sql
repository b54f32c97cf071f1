-- The ledger: one row per research run and one per model or embedding call it made, so every
-- token and cent is attributed to a run, a node and a model. Spend rows cascade with their run.
CREATE TABLE runs (
    id               uuid PRIMARY KEY,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    question         text NOT NULL,
    principal_id     text NOT NULL,
    principal_groups text[] NOT NULL,
    filters          jsonb NOT NULL,
    limits           jsonb NOT NULL,
    corpus_version   bigint NOT NULL,
    status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', 'partial', 'failed')),
    stopped_by       text,
    hops             integer,
    answer           text,
    result           jsonb,
    usd              double precision,
    input_tokens     integer,
    output_tokens    integer,
    elapsed_ms       double precision,
    trace            jsonb
);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE spend (
    id                 bigserial PRIMARY KEY,
    run_id             uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at                 timestamptz NOT NULL DEFAULT now(),
    node               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('llm', 'embedding')),
    model              text NOT NULL,
    input_tokens       integer NOT NULL DEFAULT 0,
    output_tokens      integer NOT NULL DEFAULT 0,
    cache_write_tokens integer NOT NULL DEFAULT 0,
    cache_read_tokens  integer NOT NULL DEFAULT 0,
    usd                double precision NOT NULL DEFAULT 0,
    estimated          boolean NOT NULL DEFAULT false,
    ms                 double precision NOT NULL,
    attempts           integer NOT NULL DEFAULT 1,
    outcome            text NOT NULL
);
CREATE INDEX spend_run ON spend (run_id);
CREATE INDEX spend_at ON spend (at);
