-- A chat session's turns in flight: before a turn researches, it holds the limits it may use on
-- its session, under the session row's lock, and the hold is replaced by the turn's usage when the
-- turn is recorded. What a session has left is its budget less its turns and its open holds, so two
-- processes resuming one session cannot both spend the same hops. A hold left by a process that
-- died stays counted (safe rather than generous), as account holds are.
CREATE TABLE session_holds (
    id          bigserial PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seconds     double precision NOT NULL CHECK (seconds >= 0),
    hops        integer NOT NULL CHECK (hops >= 0),
    tokens      bigint NOT NULL CHECK (tokens >= 0),
    usd         double precision NOT NULL CHECK (usd >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_holds_session ON session_holds (session_id);
