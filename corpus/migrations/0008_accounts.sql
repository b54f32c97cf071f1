-- Account-level budgets shared by every run and worker that charges the account. A call holds its
-- worst case before it is made and settles to what it used after; a hold is granted by one UPDATE
-- whose WHERE re-checks the cap under the row lock, so concurrent runs cannot jointly pass it.
CREATE TABLE accounts (
    id            text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    max_usd       double precision NOT NULL CHECK (max_usd >= 0),
    max_tokens    bigint NOT NULL CHECK (max_tokens >= 0),
    spent_usd     double precision NOT NULL DEFAULT 0,
    spent_tokens  bigint NOT NULL DEFAULT 0,
    held_usd      double precision NOT NULL DEFAULT 0 CHECK (held_usd >= -1e-9),
    held_tokens   bigint NOT NULL DEFAULT 0 CHECK (held_tokens >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_holds (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    run_id      uuid,
    node        text NOT NULL,
    usd         double precision NOT NULL CHECK (usd >= 0),
    tokens      bigint NOT NULL CHECK (tokens >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_holds_run ON account_holds (run_id);
