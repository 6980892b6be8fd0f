-- Every worker seen polling a queue (poll_data keeps only the last one): the queue monitor counts
-- the workers seen recently. Small: one row per (queue, domain, worker), stale rows pruned.
CREATE TABLE poll_worker (
    queue_name     text   NOT NULL,
    domain         text   NOT NULL DEFAULT '',
    worker_id      text   NOT NULL,
    last_poll_time bigint NOT NULL,
    PRIMARY KEY (queue_name, domain, worker_id)
);
