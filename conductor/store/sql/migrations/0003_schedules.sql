-- Cron schedules (Conductor's scheduler API) and one row per (schedule, fire time) executed.
CREATE TABLE schedule (
    name          text PRIMARY KEY,
    body          jsonb   NOT NULL,
    paused        boolean NOT NULL DEFAULT false,
    next_run_time bigint,
    create_time   bigint  NOT NULL,
    update_time   bigint  NOT NULL
);
CREATE INDEX schedule_due_idx ON schedule (next_run_time) WHERE NOT paused;

CREATE TABLE schedule_execution (
    schedule_name  text   NOT NULL,
    scheduled_time bigint NOT NULL,
    execution_time bigint NOT NULL,
    workflow_name  text   NOT NULL,
    workflow_id    text,
    state          text   NOT NULL,
    reason         text,
    -- Exactly one run per schedule and fire time, whatever the number of servers.
    PRIMARY KEY (schedule_name, scheduled_time)
);
