-- Messages published by EVENT tasks to the `conductor` sink, written in the transition that
-- completes the task (an outbox); event handlers consume them.
CREATE TABLE event_message (
    id           bigserial PRIMARY KEY,
    queue        text   NOT NULL,
    message_id   text   NOT NULL,
    payload      jsonb  NOT NULL,
    created_time bigint NOT NULL
);
CREATE INDEX event_message_queue_idx ON event_message (queue, id);
