-- Retention: finished workflows found oldest first by end time (set once, when a run ends), and
-- an archive that keeps a removed run's rows as one document when archiving is on.
CREATE INDEX workflow_ended_idx ON workflow (end_time) WHERE end_time > 0;

CREATE TABLE workflow_archive (
    workflow_id text PRIMARY KEY,
    name        text   NOT NULL,
    status      text   NOT NULL,
    end_time    bigint NOT NULL,
    archived_at bigint NOT NULL,
    document    jsonb  NOT NULL
);
CREATE INDEX workflow_archive_name_idx ON workflow_archive (name, end_time);
