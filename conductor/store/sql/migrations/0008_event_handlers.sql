-- Event handlers (/api/event): what to do with messages on an event queue.
CREATE TABLE event_handler (
    name   text PRIMARY KEY,
    event  text    NOT NULL,
    active boolean NOT NULL,
    body   jsonb   NOT NULL
);
CREATE INDEX event_handler_event_idx ON event_handler (event) WHERE active;
