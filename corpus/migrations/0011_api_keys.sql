-- API keys of the HTTP service (quarry serve). Only a SHA-256 of each key is stored: keys are 256
-- random bits, so a fast hash is as strong as a slow one and lookups stay one index probe. A key is
-- bound to one principal, the access groups it reads with, and optionally a budget account; over
-- HTTP these come only from the key, never from a request. `prefix` (the key's first characters)
-- names it in `quarry keys list` and `quarry keys revoke` without disclosing it.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    prefix        text NOT NULL UNIQUE,
    key_sha256    text NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
    principal_id  text NOT NULL CHECK (length(principal_id) BETWEEN 1 AND 200),
    groups        text[] NOT NULL CHECK (cardinality(groups) >= 1),
    account       text,
    note          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_principal ON api_keys (principal_id);

-- A run whose client went away (an HTTP stream closed mid-run) is cancelled, and recorded so.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'complete', 'partial', 'failed', 'abandoned', 'cancelled'));
