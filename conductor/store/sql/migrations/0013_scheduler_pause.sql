-- The whole scheduler's pause switch (GET /api/scheduler/admin/pause and /resume). One row, so
-- every server on this database reads the same answer and it survives restarts. Each round of a
-- schedule service holds a share lock on it while it fires, so a pause waits for rounds already
-- firing and no round starts after it.
CREATE TABLE scheduler_state (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    paused      boolean NOT NULL DEFAULT false,
    update_time bigint  NOT NULL DEFAULT 0
);
INSERT INTO scheduler_state DEFAULT VALUES;
