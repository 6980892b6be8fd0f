-- Where each audited action came from ('ui': the web UI; 'api': any other client), and the
-- workflows it touched, so an execution can list what was done to it.
ALTER TABLE audit_log ADD COLUMN via text NOT NULL DEFAULT 'api';

CREATE TABLE audit_subject (
    audit_id    bigint NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
    workflow_id text   NOT NULL,
    PRIMARY KEY (audit_id, workflow_id)
);
-- An execution's entries, newest first; no foreign key to workflow: the trail outlives a run.
CREATE INDEX audit_subject_workflow_idx ON audit_subject (workflow_id, audit_id DESC);
