-- API keys (key id + secret, exchanged for short-lived tokens at POST /api/token).
-- Only a hash of each secret is kept; `generation` grows on rotation so tokens issued for an
-- older secret stop working.
CREATE TABLE api_key (
    key_id       text PRIMARY KEY,
    name         text        NOT NULL DEFAULT '',
    role         text        NOT NULL,
    secret_hash  text        NOT NULL,
    generation   int         NOT NULL DEFAULT 1,
    task_types   text[],
    domains      text[],
    created_ms   bigint      NOT NULL,
    last_used_ms bigint,
    revoked_ms   bigint
);

-- The key every server signs tokens with: one row, made by the first server that needs it.
CREATE TABLE token_signing_key (
    id     int   PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL
);

-- Who changed what: operator and admin actions, with the key that made them.
CREATE TABLE audit_log (
    id        bigserial   PRIMARY KEY,
    at_ms     bigint      NOT NULL,
    principal text        NOT NULL,
    role      text        NOT NULL,
    action    text        NOT NULL,
    target    text        NOT NULL,
    status    int         NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at_ms DESC);
