-- The semantic cache: complete answers keyed by the embedding of the question alone, within a
-- scope (the reader's access groups and the filters, hashed) and a corpus version. Hits are
-- recorded on the run that was served, with the dollars the original run cost.
CREATE TABLE cache_entries (
    id             bigserial PRIMARY KEY,
    question       text NOT NULL,
    embedding      vector({embedding_dim}) NOT NULL,
    scope          text NOT NULL,
    access_groups  text[] NOT NULL,
    filters        jsonb NOT NULL,
    corpus_version bigint NOT NULL,
    answer         jsonb NOT NULL,
    run_id         uuid,
    cost_usd       double precision NOT NULL,
    tokens         integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    hits           integer NOT NULL DEFAULT 0
);
CREATE INDEX cache_entries_scope ON cache_entries (scope, corpus_version);
CREATE INDEX cache_entries_used ON cache_entries (last_used_at);

ALTER TABLE runs
    ADD COLUMN cache_hit   boolean NOT NULL DEFAULT false,
    ADD COLUMN saved_usd   double precision NOT NULL DEFAULT 0;
