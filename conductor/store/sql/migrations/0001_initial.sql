-- Core schema: definitions, executions, the task queue, durable timers, logs and poll data.
-- Times are epoch milliseconds (bigint), the unit of Conductor's wire format.

CREATE TABLE task_def (
    name        text PRIMARY KEY,
    body        jsonb  NOT NULL,
    create_time bigint NOT NULL,
    update_time bigint NOT NULL
);

CREATE TABLE workflow_def (
    name        text   NOT NULL,
    version     int    NOT NULL,
    body        jsonb  NOT NULL,
    create_time bigint NOT NULL,
    update_time bigint NOT NULL,
    PRIMARY KEY (name, version)
);

-- The task-definition-filled WorkflowDef a run executes, stored once per distinct content (runs of
-- one definition share a row) and cached by id in the server, so a transition does not re-read it.
CREATE TABLE execution_definition (
    definition_id text PRIMARY KEY,
    body          jsonb NOT NULL
);

-- Row updates leave room on the page (fillfactor) so PostgreSQL can update in place (HOT).
CREATE TABLE workflow (
    workflow_id        text PRIMARY KEY,
    name               text   NOT NULL,
    version            int    NOT NULL,
    status             text   NOT NULL,
    correlation_id     text,
    priority           int    NOT NULL DEFAULT 0,
    parent_workflow_id text,
    create_time        bigint NOT NULL,
    update_time        bigint NOT NULL,
    end_time           bigint NOT NULL DEFAULT 0,
    revision           bigint NOT NULL DEFAULT 0,
    definition_id      text   NOT NULL REFERENCES execution_definition,
    body               jsonb  NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX workflow_correlation_idx ON workflow (name, correlation_id);
CREATE INDEX workflow_active_idx ON workflow (name, create_time) WHERE status IN ('RUNNING', 'PAUSED');

CREATE TABLE task (
    task_id                  text PRIMARY KEY,
    workflow_id              text   NOT NULL REFERENCES workflow ON DELETE CASCADE,
    ref_name                 text   NOT NULL,
    retry_count              int    NOT NULL,
    seq                      int    NOT NULL,
    task_type                text   NOT NULL,
    status                   text   NOT NULL,
    poll_count               int    NOT NULL DEFAULT 0,
    scheduled_time           bigint NOT NULL DEFAULT 0,
    start_time               bigint NOT NULL DEFAULT 0,
    end_time                 bigint NOT NULL DEFAULT 0,
    update_time              bigint NOT NULL DEFAULT 0,
    worker_id                text,
    callback_after_seconds   bigint NOT NULL DEFAULT 0,
    response_timeout_seconds bigint NOT NULL DEFAULT 0,
    timeout_seconds          bigint NOT NULL DEFAULT 0,
    revision                 bigint NOT NULL DEFAULT 0,
    body                     jsonb  NOT NULL,
    -- A reference is scheduled at most once per attempt, whatever races happen.
    UNIQUE (workflow_id, ref_name, retry_count)
) WITH (fillfactor = 80);

-- Pollable worker tasks. A row leaves the queue when a worker claims it; the lease is then a
-- RESPONSE_TIMEOUT timer.
CREATE TABLE task_queue (
    task_id     text PRIMARY KEY REFERENCES task ON DELETE CASCADE,
    queue_name  text   NOT NULL,
    priority    int    NOT NULL DEFAULT 0,
    visible_at  bigint NOT NULL,
    enqueued    bigserial
);
CREATE INDEX task_queue_claim_idx ON task_queue (queue_name, priority DESC, visible_at, enqueued);

-- Durable timers: one live row per (kind, owner), fired at least once; the decider re-checks state.
-- Rows are found by their key (kind:task or kind:workflow), so the only other index is fire_at.
CREATE TABLE timer (
    timer_key   text PRIMARY KEY,
    workflow_id text   NOT NULL,
    task_id     text,
    kind        text   NOT NULL,
    fire_at     bigint NOT NULL,
    payload     text
);
CREATE INDEX timer_fire_at_idx ON timer (fire_at);

CREATE TABLE task_log (
    id           bigserial PRIMARY KEY,
    task_id      text   NOT NULL,
    log          text   NOT NULL,
    created_time bigint NOT NULL
);
CREATE INDEX task_log_task_idx ON task_log (task_id);

CREATE TABLE poll_data (
    queue_name     text   NOT NULL,
    domain         text   NOT NULL DEFAULT '',
    worker_id      text,
    last_poll_time bigint NOT NULL,
    PRIMARY KEY (queue_name, domain)
);
