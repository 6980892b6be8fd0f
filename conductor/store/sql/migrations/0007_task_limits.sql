-- Task limits, enforced at claim time across server processes (claims of a limited task
-- definition take an advisory lock on its name). Rows exist only for limited definitions.
-- One row per claimed task of a definition with concurrentExecLimit; the next limited claim drops
-- the rows of tasks that have left IN_PROGRESS, and deleting a task drops its row.
CREATE TABLE task_slot (
    task_id  text PRIMARY KEY REFERENCES task ON DELETE CASCADE,
    task_def text   NOT NULL,
    taken_at bigint NOT NULL
);
CREATE INDEX task_slot_def_idx ON task_slot (task_def);

-- One row per task start of a definition with rateLimitPerFrequency (a sliding window).
CREATE TABLE task_rate_start (
    task_def   text   NOT NULL,
    started_at bigint NOT NULL
);
CREATE INDEX task_rate_start_idx ON task_rate_start (task_def, started_at);
