-- Search (/api/workflow/search): the common filters, each in the default newest-first order.
-- None of these columns changes during a run except status (once, when the run ends), so
-- transitions stay HOT updates; update_time is deliberately not indexed for that reason.
CREATE INDEX workflow_create_time_idx ON workflow (create_time);
CREATE INDEX workflow_status_time_idx ON workflow (status, create_time);
CREATE INDEX workflow_name_time_idx ON workflow (name, create_time);
CREATE INDEX workflow_correlation_only_idx ON workflow (correlation_id);
