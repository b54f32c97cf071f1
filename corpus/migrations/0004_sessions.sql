-- Chat sessions: who is talking, the conversation's own budget, and its turns in order. A turn
-- points at the research run that answered it (the ledger's row), so a session's spend is the sum
-- of its runs' and survives a restart; `assistant.chat(session_id=...)` resumes from these rows.
CREATE TABLE sessions (
    id               uuid PRIMARY KEY,
    principal_id     text NOT NULL,
    principal_groups text[] NOT NULL,
    budget           jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE session_turns (
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    turn        integer NOT NULL CHECK (turn >= 1),
    asked       text NOT NULL,
    question    text NOT NULL,
    run_id      uuid REFERENCES runs (id) ON DELETE SET NULL,
    answer      jsonb NOT NULL,
    usd         double precision NOT NULL DEFAULT 0,
    tokens      integer NOT NULL DEFAULT 0,
    hops        integer NOT NULL DEFAULT 0,
    elapsed_ms  double precision NOT NULL DEFAULT 0,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, turn)
);
