-- Starting exactly once: one row per (workflow name, idempotencyKey), claimed in the starting
-- transaction. A unique key, not a read-then-write, so parallel starts cannot both win.
CREATE TABLE workflow_idempotency (
    name            text NOT NULL,
    idempotency_key text NOT NULL,
    workflow_id     text NOT NULL REFERENCES workflow ON DELETE CASCADE,
    PRIMARY KEY (name, idempotency_key)
);
CREATE INDEX workflow_idempotency_workflow_idx ON workflow_idempotency (workflow_id);
