-- The catalogue of every runtime SQL statement. Each entry: a `-- name:` line, a description line,
-- then the statement. Code refers to statements by name (conductor/store/queries.py).

-- name: task_def_upsert
-- Register or replace a task definition (POST /metadata/taskdefs is an upsert).
INSERT INTO task_def (name, body, create_time, update_time)
VALUES ($1, $2, $3, $3)
ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, update_time = EXCLUDED.update_time;

-- name: task_def_update
-- Replace an existing task definition; returns nothing when it does not exist.
UPDATE task_def SET body = $2, update_time = $3 WHERE name = $1 RETURNING name;

-- name: task_def_get
-- One task definition by name.
SELECT body, create_time, update_time FROM task_def WHERE name = $1;

-- name: task_def_get_many
-- Task definitions for a set of names (filling definitions at workflow start).
SELECT name, body, create_time, update_time FROM task_def WHERE name = ANY($1::text[]);

-- name: task_def_list
-- Every task definition.
SELECT body, create_time, update_time FROM task_def ORDER BY name;

-- name: task_def_delete
-- Remove a task definition.
DELETE FROM task_def WHERE name = $1 RETURNING name;

-- name: workflow_def_insert
-- Register a new workflow definition version; returns nothing when it exists already.
INSERT INTO workflow_def (name, version, body, create_time, update_time)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (name, version) DO NOTHING
RETURNING name;

-- name: workflow_def_upsert
-- Register or overwrite a workflow definition version, keeping its first create time.
INSERT INTO workflow_def (name, version, body, create_time, update_time)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (name, version) DO UPDATE SET body = EXCLUDED.body, update_time = EXCLUDED.update_time;

-- name: workflow_def_get
-- One workflow definition version.
SELECT body, create_time, update_time FROM workflow_def WHERE name = $1 AND version = $2;

-- name: workflow_def_get_latest
-- The highest version of a workflow definition.
SELECT body, create_time, update_time FROM workflow_def WHERE name = $1
ORDER BY version DESC LIMIT 1;

-- name: workflow_def_list
-- Every version of every workflow definition.
SELECT body, create_time, update_time FROM workflow_def ORDER BY name, version;

-- name: workflow_def_latest_versions
-- The latest version of each workflow definition.
SELECT DISTINCT ON (name) body, create_time, update_time FROM workflow_def
ORDER BY name, version DESC;

-- name: workflow_def_delete
-- Remove one workflow definition version.
DELETE FROM workflow_def WHERE name = $1 AND version = $2 RETURNING name;

-- name: execution_definition_insert
-- Store the definition a run executes (once per distinct content).
INSERT INTO execution_definition (definition_id, body) VALUES ($1, $2)
ON CONFLICT (definition_id) DO NOTHING;

-- name: execution_definition_get
-- The definition a run executes, by id.
SELECT body FROM execution_definition WHERE definition_id = $1;

-- name: workflow_insert
-- Create a workflow execution row.
INSERT INTO workflow (workflow_id, name, version, status, correlation_id, priority,
                      parent_workflow_id, create_time, update_time, end_time, definition_id, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12);

-- name: workflow_lock
-- Load a workflow for a transition, holding its row lock until commit. Its tasks are read by a
-- separate statement on purpose: after waiting for the lock, only the locked row is re-read, so a
-- subquery here would return tasks as they were before the previous holder committed.
SELECT * FROM workflow WHERE workflow_id = $1 FOR UPDATE;

-- name: workflow_lock_many
-- Lock several workflows for one batched transition (timers), skipping any another transaction
-- holds, in id order so two batches never wait on each other in a cycle.
SELECT * FROM workflow WHERE workflow_id = ANY($1::text[]) ORDER BY workflow_id
FOR UPDATE SKIP LOCKED;

-- name: idempotency_claim
-- Claim (name, idempotencyKey) for a new workflow; no row back: another workflow holds it (a
-- concurrent claimer's insert is waited for, so exactly one of them gets the row).
INSERT INTO workflow_idempotency (name, idempotency_key, workflow_id) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
RETURNING workflow_id;

-- name: idempotency_holder
-- The workflow holding (name, idempotencyKey), locked so a FAIL_ON_RUNNING hand-over is serial.
SELECT i.workflow_id, w.status FROM workflow_idempotency i JOIN workflow w USING (workflow_id)
WHERE i.name = $1 AND i.idempotency_key = $2
FOR UPDATE OF i;

-- name: idempotency_hand_over
-- Give the key to a new workflow (FAIL_ON_RUNNING, the holder has finished).
UPDATE workflow_idempotency SET workflow_id = $3 WHERE name = $1 AND idempotency_key = $2;

-- name: workflow_get
-- Load a workflow without locking it (reads).
SELECT * FROM workflow WHERE workflow_id = $1;

-- name: workflow_update
-- Write a workflow's state after a transition.
UPDATE workflow SET status = $2, update_time = $3, end_time = $4, body = $5, revision = revision + 1
WHERE workflow_id = $1;

-- name: workflow_reopen
-- Columns that change only when an operator restarts, retries or reruns a workflow ($2: a new
-- definition id, or null to keep it).
UPDATE workflow SET definition_id = coalesce($2, definition_id), version = $3, create_time = $4,
                    correlation_id = $5
WHERE workflow_id = $1;

-- name: workflow_update_many
-- `workflow_update` for many workflows at once (bulk timer firing). $1 is a JSON array of rows:
-- one parameter is far cheaper to encode than one array per column. The planner guesses 100
-- rows for any JSON array and, with stale statistics, joins them to a sequential scan of the
-- whole table; the id list (`= ANY`) makes it reach each row through the primary key instead.
WITH u AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS u(workflow_id text, status text, update_time bigint, end_time bigint, body jsonb)
)
UPDATE workflow w SET status = u.status, update_time = u.update_time, end_time = u.end_time,
                      body = u.body, revision = w.revision + 1
FROM u
WHERE w.workflow_id = ANY(ARRAY(SELECT workflow_id FROM u)) AND w.workflow_id = u.workflow_id;

-- name: workflow_delete
-- Remove a workflow with its tasks (and their queue rows), timers and logs. $2 lists the timer
-- kinds a task can own; timers are found by key.
WITH gone AS (DELETE FROM workflow WHERE workflow_id = $1 RETURNING workflow_id),
     timers AS (
        DELETE FROM timer WHERE timer_key = ANY(ARRAY(
            SELECT 'WORKFLOW_TIMEOUT:' || $1
            UNION ALL
            SELECT kind || ':' || t.task_id
            FROM task t, unnest($2::text[]) AS kind WHERE t.workflow_id = $1))
     ),
     logs AS (
        DELETE FROM task_log
        WHERE task_id = ANY(ARRAY(SELECT task_id FROM task WHERE workflow_id = $1))
     )
SELECT workflow_id FROM gone;

-- name: transaction_async_commit
-- This transaction's commit does not wait for its WAL to reach disk (for redoable background
-- work, so its flushes do not queue up with those of the hot path's commits).
SET LOCAL synchronous_commit = off;

-- name: retention_purge
-- Remove up to $2 workflows that ended before $1, oldest first, with their tasks (queue rows and
-- idempotency keys go by cascade), task logs and any leftover timers ($3: the timer kinds a task
-- can own). With $4 each is first copied into workflow_archive as one document of its rows.
-- SKIP LOCKED: a workflow some transition holds is left for the next round. Also returns how
-- many rows the database has inserted and updated so far (all clients, as the statistics system
-- last saw them), by which retention tells a busy database from an idle one: idle pollers and
-- other reads write nothing, and purging itself only deletes (and archives).
WITH doomed AS (
    SELECT workflow_id FROM workflow
    WHERE end_time > 0 AND end_time < $1
      AND status IN ('COMPLETED', 'FAILED', 'TIMED_OUT', 'TERMINATED')
    ORDER BY end_time
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), doomed_tasks AS (
    SELECT t.task_id FROM task t JOIN doomed d USING (workflow_id)
), archived AS (
    INSERT INTO workflow_archive (workflow_id, name, status, end_time, archived_at, document)
    SELECT w.workflow_id, w.name, w.status, w.end_time, $5,
           jsonb_build_object(
               'workflow', to_jsonb(w),
               'tasks', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.seq), '[]'::jsonb)
                         FROM task t WHERE t.workflow_id = w.workflow_id))
    FROM workflow w JOIN doomed d USING (workflow_id)
    WHERE $4
    ON CONFLICT (workflow_id) DO NOTHING
), timers AS (
    -- = ANY(ARRAY(...)): probes the primary key; IN (subquery) here plans as a scan of timer.
    DELETE FROM timer
    WHERE timer_key = ANY(ARRAY(
        SELECT kind || ':' || task_id FROM doomed_tasks, unnest($3::text[]) AS kind
        UNION ALL
        SELECT 'WORKFLOW_TIMEOUT:' || workflow_id FROM doomed))
), logs AS (
    DELETE FROM task_log WHERE task_id = ANY(ARRAY(SELECT task_id FROM doomed_tasks))
), gone AS (
    DELETE FROM workflow w USING doomed d WHERE w.workflow_id = d.workflow_id
    RETURNING w.workflow_id
)
SELECT (SELECT count(*) FROM gone) AS removed,
       (SELECT tup_inserted + tup_updated FROM pg_stat_database
        WHERE datname = current_database()) AS writes;

-- name: workflow_by_correlation
-- Workflows of one definition name with a correlation id, newest first.
SELECT * FROM workflow
WHERE name = $1 AND correlation_id = $2 AND ($3 OR status IN ('RUNNING', 'PAUSED'))
ORDER BY create_time DESC;

-- name: workflow_ids_running
-- The ids of one definition version's runs not yet ended (RUNNING or PAUSED), oldest first.
SELECT workflow_id FROM workflow
WHERE name = $1 AND version = $2 AND status IN ('RUNNING', 'PAUSED')
ORDER BY create_time, workflow_id;

-- name: workflow_ids_started_between
-- The ids of one definition version's runs started in a time window, in any status.
SELECT workflow_id FROM workflow
WHERE name = $1 AND version = $2 AND create_time BETWEEN $3 AND $4
ORDER BY create_time, workflow_id;

-- name: task_list_for_workflow
-- Every task attempt of a workflow in schedule order.
SELECT * FROM task WHERE workflow_id = $1 ORDER BY seq;

-- name: task_list_for_workflows
-- Task attempts of several workflows in schedule order.
SELECT * FROM task WHERE workflow_id = ANY($1::text[]) ORDER BY workflow_id, seq;

-- name: task_schedule
-- Create a task attempt and, for a worker task ($18 not null), its queue row in one round trip.
WITH inserted AS (
    INSERT INTO task (task_id, workflow_id, ref_name, retry_count, seq, task_type, status,
                      poll_count, scheduled_time, start_time, end_time, update_time, worker_id,
                      callback_after_seconds, response_timeout_seconds, timeout_seconds, body)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    RETURNING task_id
)
INSERT INTO task_queue (task_id, queue_name, priority, visible_at)
SELECT task_id, $18, $19, $20 FROM inserted WHERE $18::text IS NOT NULL;

-- name: task_save
-- Write a task attempt only if nobody changed it since it was loaded (compare-and-set), and in
-- the same round trip drop its queue row ($11) and the timers keyed $12. No row: a conflict.
WITH saved AS (
    UPDATE task SET status = $3, poll_count = $4, start_time = $5, end_time = $6,
                    update_time = $7, worker_id = $8, callback_after_seconds = $9, body = $10,
                    revision = revision + 1
    WHERE task_id = $1 AND revision = $2
    RETURNING task_id
), unqueued AS (
    DELETE FROM task_queue WHERE $11::bool AND task_id IN (SELECT task_id FROM saved)
), untimed AS (
    DELETE FROM timer WHERE timer_key = ANY($12::text[]) AND EXISTS (SELECT 1 FROM saved)
)
SELECT task_id FROM saved;

-- name: task_save_many
-- `task_save` for many tasks in one statement, several times cheaper per row than one execution
-- each; $1 is a JSON array of rows. Returns how many rows passed compare-and-set: fewer than
-- given means a conflict and the caller rolls back, so the queue and timer deletes need no
-- per-row condition here. Rows are reached through their primary keys (`= ANY`), as in
-- `workflow_update_many`: joined to the JSON rows alone, the planner scanned whole tables.
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS u(task_id text, revision bigint, status text, poll_count int, start_time bigint,
             end_time bigint, update_time bigint, worker_id text,
             callback_after_seconds bigint, body jsonb, dequeue bool, timer_keys text[])
), saved AS (
    UPDATE task t SET status = u.status, poll_count = u.poll_count, start_time = u.start_time,
                      end_time = u.end_time, update_time = u.update_time,
                      worker_id = u.worker_id, callback_after_seconds = u.callback_after_seconds,
                      body = u.body, revision = t.revision + 1
    FROM input u
    WHERE t.task_id = ANY(ARRAY(SELECT task_id FROM input))
      AND t.task_id = u.task_id AND t.revision = u.revision
    RETURNING t.task_id
), unqueued AS (
    DELETE FROM task_queue WHERE task_id = ANY(ARRAY(SELECT task_id FROM input WHERE dequeue))
), untimed AS (
    DELETE FROM timer WHERE timer_key = ANY(ARRAY(SELECT unnest(timer_keys) FROM input))
)
SELECT count(*) FROM saved;

-- name: task_delete_many
-- Remove task attempts (old DO_WHILE iterations) with their logs; queue rows go by cascade.
WITH logs AS (DELETE FROM task_log WHERE task_id = ANY($1::text[]))
DELETE FROM task WHERE task_id = ANY($1::text[]);

-- name: event_message_insert
-- Publish a message to a `conductor` event queue (in the publishing task's transition).
INSERT INTO event_message (queue, message_id, payload, created_time) VALUES ($1, $2, $3, $4);

-- name: event_handler_insert
-- Register an event handler; no row back: the name is taken.
INSERT INTO event_handler (name, event, active, body) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: event_handler_update
-- Replace an event handler; no row back: there is none by that name.
UPDATE event_handler SET event = $2, active = $3, body = $4 WHERE name = $1 RETURNING name;

-- name: event_handler_delete
-- Remove an event handler; no row back: there is none by that name.
DELETE FROM event_handler WHERE name = $1 RETURNING name;

-- name: event_handler_get
-- One event handler by name.
SELECT body FROM event_handler WHERE name = $1;

-- name: event_handler_list
-- Every event handler, by name.
SELECT body FROM event_handler ORDER BY name;

-- name: event_handler_for_event
-- Handlers of one event (queue), only the active ones when $2.
SELECT body FROM event_handler WHERE event = $1 AND (active OR NOT $2) ORDER BY name;

-- name: event_handler_count_not_consumed
-- Active handlers whose event is not `type:queue` with a type in $1 (no consumer on this server).
SELECT count(*) FROM event_handler
WHERE active AND NOT (position(':' IN event) > 0 AND split_part(event, ':', 1) = ANY($1::text[]));

-- name: event_message_claim
-- Take the oldest messages for handling; SKIP LOCKED lets several servers share them. Runs in
-- the handling transaction's stead: a message is deleted once its actions ran (they are
-- idempotent, so a crash in between only repeats them).
SELECT id, queue, message_id, payload, created_time FROM event_message
ORDER BY id LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: event_message_delete
-- Drop handled messages.
DELETE FROM event_message WHERE id = ANY($1::bigint[]);

-- name: event_message_counts
-- Messages waiting on each of the given queues (queues with none are left out).
SELECT queue, count(*) AS n FROM event_message WHERE queue = ANY($1::text[]) GROUP BY queue;

-- name: event_message_list
-- Messages of one queue, oldest first.
SELECT id, queue, message_id, payload, created_time FROM event_message
WHERE queue = $1 ORDER BY id LIMIT $2;

-- name: task_get
-- One task attempt by id.
SELECT * FROM task WHERE task_id = $1;

-- name: task_claim
-- Claim up to $3 visible tasks of queue $1 for worker $4 in one statement: pick with SKIP LOCKED,
-- leave the queue, mark IN_PROGRESS, and arm the response (lease) and task timeouts. Queue row and
-- task row are locked together and skipped if either is busy: a transition locks the task first
-- and the queue row second, so waiting for the task here could deadlock with it.
WITH picked AS (
    SELECT q.task_id FROM task_queue q JOIN task t ON t.task_id = q.task_id
    WHERE q.queue_name = $1 AND q.visible_at <= $2
    ORDER BY q.priority DESC, q.visible_at, q.enqueued
    LIMIT $3
    FOR UPDATE OF q, t SKIP LOCKED
), dequeued AS (
    DELETE FROM task_queue q USING picked p WHERE q.task_id = p.task_id
    RETURNING q.task_id, q.visible_at
), claimed AS (
    UPDATE task t
    SET status = 'IN_PROGRESS', poll_count = t.poll_count + 1,
        start_time = CASE WHEN t.start_time > 0 THEN t.start_time ELSE $2 END,
        update_time = $2, worker_id = $4, callback_after_seconds = 0, revision = t.revision + 1
    FROM dequeued d
    WHERE t.task_id = d.task_id AND t.status = 'SCHEDULED'
    RETURNING t.*, d.visible_at AS ready_at
), lease_timers AS (
    INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at)
    SELECT 'RESPONSE_TIMEOUT:' || task_id, workflow_id, task_id, 'RESPONSE_TIMEOUT',
           $2 + response_timeout_seconds * 1000
    FROM claimed WHERE response_timeout_seconds > 0
    ON CONFLICT (timer_key) DO UPDATE SET fire_at = EXCLUDED.fire_at
), task_timers AS (
    INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at)
    SELECT 'TASK_TIMEOUT:' || task_id, workflow_id, task_id, 'TASK_TIMEOUT',
           start_time + (COALESCE((body->>'startDelayInSeconds')::bigint, 0) + timeout_seconds) * 1000
    FROM claimed WHERE timeout_seconds > 0
    ON CONFLICT (timer_key) DO NOTHING
)
SELECT * FROM claimed ORDER BY seq;

-- name: task_limit_lock
-- Serialise claims of one limited task definition across all servers until commit.
SELECT pg_advisory_xact_lock(hashtextextended('task-limit:' || $1, 0));

-- name: task_slot_count
-- IN_PROGRESS tasks of a definition with concurrentExecLimit. Slots of tasks that have left
-- IN_PROGRESS are dropped here, on the limited claim path, rather than by every task write.
WITH stale AS (
    DELETE FROM task_slot s USING task t
    WHERE s.task_def = $1 AND t.task_id = s.task_id AND t.status <> 'IN_PROGRESS'
    RETURNING s.task_id
)
SELECT (SELECT count(*) FROM task_slot WHERE task_def = $1) - (SELECT count(*) FROM stale);

-- name: task_slot_take
-- Count claimed tasks of a limited definition as running.
INSERT INTO task_slot (task_id, task_def, taken_at)
SELECT unnest($1::text[]), $2, $3
ON CONFLICT (task_id) DO NOTHING;

-- name: task_rate_count
-- Task starts of a definition since $2 (its rate-limit window); older rows are dropped first.
WITH expired AS (
    DELETE FROM task_rate_start WHERE task_def = $1 AND started_at <= $2
)
SELECT count(*) FROM task_rate_start WHERE task_def = $1 AND started_at > $2;

-- name: task_rate_record
-- Record $3 task starts of a definition at $2.
INSERT INTO task_rate_start (task_def, started_at)
SELECT $1, $2 FROM generate_series(1, $3);

-- name: poll_data_recent
-- Queues polled after $1 (live workers, for choosing a task's domain).
SELECT DISTINCT queue_name FROM poll_data WHERE last_poll_time > $1;

-- name: task_queue_push
-- Make a task pollable at visible_at (re-pushing moves it).
INSERT INTO task_queue (task_id, queue_name, priority, visible_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (task_id) DO UPDATE SET queue_name = EXCLUDED.queue_name,
    priority = EXCLUDED.priority, visible_at = EXCLUDED.visible_at;

-- name: task_queue_sizes
-- Pollable-or-delayed row counts per queue name.
SELECT queue_name, count(*)::int AS size FROM task_queue
WHERE queue_name = ANY($1::text[]) GROUP BY queue_name;

-- name: task_queue_all_sizes
-- Row counts of every queue.
SELECT queue_name, count(*)::int AS size FROM task_queue GROUP BY queue_name ORDER BY queue_name;

-- name: task_queue_overview
-- Per queue: rows, the rows pollable at $1, and the oldest pollable row's visible time (the queue
-- monitor). One pass over task_queue, as the plain sizes take.
SELECT queue_name, count(*)::int AS size,
       count(*) FILTER (WHERE visible_at <= $1)::int AS ready,
       min(visible_at) FILTER (WHERE visible_at <= $1) AS oldest_ready
FROM task_queue GROUP BY queue_name ORDER BY queue_name;

-- name: task_queue_in_progress_counts
-- Claimed (IN_PROGRESS) worker tasks per queue: Conductor's "unacked" count.
SELECT body->>'queueName' AS queue_name, count(*)::int AS size FROM task
WHERE status = 'IN_PROGRESS' AND body->>'queueName' = ANY($1::text[])
GROUP BY 1;

-- name: task_queue_requeue
-- Make every waiting task of a queue pollable now (operators' requeue); returns the queue size.
WITH moved AS (
    UPDATE task_queue SET visible_at = $2 WHERE queue_name = $1 AND visible_at > $2
)
SELECT count(*)::int FROM task_queue WHERE queue_name = $1;

-- name: timer_upsert
-- Arm (or re-arm) the one timer of a kind for a task or workflow.
INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at, payload)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (timer_key) DO UPDATE
    SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload, failures = 0;

-- name: timer_delete_keys
-- Drop specific timers.
DELETE FROM timer WHERE timer_key = ANY($1::text[]);

-- name: timer_delete_fired
-- Drop a fired timer, unless it was re-armed after it was claimed.
DELETE FROM timer WHERE timer_key = $1 AND fire_at = $2;

-- name: timer_claim_due
-- Claim due timers oldest first; a claim pushes fire_at to $3, so a timer whose firing was lost
-- (crash) fires again then. Returns the claimed rows with their new fire_at, each with the next
-- due time after $1 (`next_due`); with nothing claimed, one row of nulls but `next_due`. One
-- round trip per claim round, where a separate min() query would double them.
WITH due AS (
    SELECT timer_key, fire_at AS due_at FROM timer WHERE fire_at <= $1
    ORDER BY fire_at LIMIT $2
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE timer t SET fire_at = $3
    FROM due WHERE t.timer_key = due.timer_key
    RETURNING t.timer_key, t.workflow_id, t.task_id, t.kind, t.fire_at, t.payload, due.due_at
)
SELECT c.*, n.next_due
FROM (SELECT min(fire_at) AS next_due FROM timer WHERE fire_at > $1) n
LEFT JOIN claimed c ON true;

-- name: timer_reschedule
-- Move a claimed timer (by its leased fire time) to a later time with a new payload (a retry).
UPDATE timer SET fire_at = $3, payload = $4 WHERE timer_key = $1 AND fire_at = $2;

-- name: timer_next_fire_at
-- The earliest pending fire time, or null.
SELECT min(fire_at) FROM timer;

-- name: timer_count
-- Pending timers, and how many of them are due at $1 (the due ones use the fire_at index).
SELECT count(*)::bigint AS pending,
       (SELECT count(*) FROM timer WHERE fire_at <= $1)::bigint AS due
FROM timer;

-- name: timer_pending_soon
-- The pending timers of any kind due by $1 (overdue included), soonest first, with the task's
-- reference and the workflow's name; walks the fire_at index for $2 rows.
SELECT t.kind, t.workflow_id, t.task_id, t.fire_at, k.ref_name, w.name AS workflow_name
FROM timer t
LEFT JOIN task k ON k.task_id = t.task_id
LEFT JOIN workflow w ON w.workflow_id = t.workflow_id
WHERE t.fire_at <= $1 ORDER BY t.fire_at LIMIT $2;

-- name: timer_wait_pending_soon
-- The same for WAIT timers only: the literal kind lets the planner use the partial WAIT index.
SELECT t.kind, t.workflow_id, t.task_id, t.fire_at, k.ref_name, w.name AS workflow_name
FROM timer t
LEFT JOIN task k ON k.task_id = t.task_id
LEFT JOIN workflow w ON w.workflow_id = t.workflow_id
WHERE t.kind = 'WAIT' AND t.fire_at <= $1 ORDER BY t.fire_at LIMIT $2;

-- name: timer_buckets
-- Pending timers of any kind due by $1 (overdue included), in ($1, $2], in ($2, $3] and after $3:
-- four range counts over the fire_at index, never a sort.
SELECT (SELECT count(*) FROM timer WHERE fire_at <= $1)::bigint AS soon,
       (SELECT count(*) FROM timer WHERE fire_at > $1 AND fire_at <= $2)::bigint AS day,
       (SELECT count(*) FROM timer WHERE fire_at > $2 AND fire_at <= $3)::bigint AS month,
       (SELECT count(*) FROM timer WHERE fire_at > $3)::bigint AS later;

-- name: timer_wait_buckets
-- The same counts for WAIT timers, over the partial WAIT index.
SELECT (SELECT count(*) FROM timer WHERE kind = 'WAIT' AND fire_at <= $1)::bigint AS soon,
       (SELECT count(*) FROM timer WHERE kind = 'WAIT' AND fire_at > $1 AND fire_at <= $2)::bigint
           AS day,
       (SELECT count(*) FROM timer WHERE kind = 'WAIT' AND fire_at > $2 AND fire_at <= $3)::bigint
           AS month,
       (SELECT count(*) FROM timer WHERE kind = 'WAIT' AND fire_at > $3)::bigint AS later;

-- name: task_log_insert
-- Append a task execution log line.
INSERT INTO task_log (task_id, log, created_time) VALUES ($1, $2, $3);

-- name: task_log_list
-- A task's execution logs, oldest first.
SELECT task_id, log, created_time FROM task_log WHERE task_id = $1 ORDER BY id;

-- name: poll_data_upsert
-- Remember the last poll of a queue (per domain).
INSERT INTO poll_data (queue_name, domain, worker_id, last_poll_time) VALUES ($1, $2, $3, $4)
ON CONFLICT (queue_name, domain) DO UPDATE
SET worker_id = EXCLUDED.worker_id, last_poll_time = EXCLUDED.last_poll_time
WHERE poll_data.last_poll_time <= EXCLUDED.last_poll_time;

-- name: poll_data_for_type
-- Poll data of one task type over all its domains.
SELECT queue_name, domain, worker_id, last_poll_time FROM poll_data
WHERE queue_name = $1 OR queue_name LIKE '%:' || $1 ORDER BY queue_name;

-- name: poll_data_all
-- Poll data of every queue.
SELECT queue_name, domain, worker_id, last_poll_time FROM poll_data ORDER BY queue_name;

-- name: poll_worker_upsert
-- Remember that a worker polled a queue (per domain) at $4.
INSERT INTO poll_worker (queue_name, domain, worker_id, last_poll_time) VALUES ($1, $2, $3, $4)
ON CONFLICT (queue_name, domain, worker_id) DO UPDATE
SET last_poll_time = greatest(poll_worker.last_poll_time, EXCLUDED.last_poll_time);

-- name: poll_worker_prune
-- Forget workers not seen since $1 (the table stays one row per live worker and queue).
DELETE FROM poll_worker WHERE last_poll_time < $1;

-- name: poll_worker_counts
-- Distinct workers per queue seen polling after $1.
SELECT queue_name, count(DISTINCT worker_id)::int AS workers FROM poll_worker
WHERE last_poll_time > $1 GROUP BY queue_name;

-- name: schedule_upsert
-- Create or replace a schedule.
INSERT INTO schedule (name, body, paused, next_run_time, create_time, update_time)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, paused = EXCLUDED.paused,
    next_run_time = EXCLUDED.next_run_time, update_time = EXCLUDED.update_time
RETURNING create_time;

-- name: schedule_get
-- One schedule.
SELECT * FROM schedule WHERE name = $1;

-- name: schedule_list
-- Schedules, of one workflow when $1 is not null.
SELECT * FROM schedule WHERE $1::text IS NULL OR body->'startWorkflowRequest'->>'name' = $1
ORDER BY name;

-- name: schedule_delete
-- Remove a schedule.
DELETE FROM schedule WHERE name = $1 RETURNING name;

-- name: schedule_set_paused
-- Pause or resume a schedule; resuming sets the next run time anew.
UPDATE schedule SET paused = $2, body = body || $3::jsonb, next_run_time = $4, update_time = $5
WHERE name = $1 RETURNING name;

-- name: schedule_claim_due
-- Lock the schedules due at $1 (SKIP LOCKED: each is handled by one server at a time).
SELECT * FROM schedule WHERE NOT paused AND next_run_time <= $1
ORDER BY next_run_time LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: schedule_set_next_run
-- Record a schedule's next fire time (null when it has no more).
UPDATE schedule SET next_run_time = $2 WHERE name = $1;

-- name: schedule_next_run
-- The earliest next fire time of any active schedule; null if none or the scheduler is paused.
SELECT min(next_run_time) FROM schedule
WHERE NOT paused AND NOT (SELECT paused FROM scheduler_state);

-- name: schedule_search_count
-- How many schedules match a search: of workflow $1, with $2 in the name (any case), paused $3.
SELECT count(*) FROM schedule
WHERE ($1::text IS NULL OR body->'startWorkflowRequest'->>'name' = $1)
  AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
  AND ($3::boolean IS NULL OR paused = $3);

-- name: schedule_search
-- One page of the schedules matching a search (as schedule_search_count), by name.
SELECT * FROM schedule
WHERE ($1::text IS NULL OR body->'startWorkflowRequest'->>'name' = $1)
  AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
  AND ($3::boolean IS NULL OR paused = $3)
ORDER BY name OFFSET $4 LIMIT $5;

-- name: schedule_lock_active
-- Lock every unpaused schedule, waiting for a round that is firing one (to re-derive next runs).
SELECT name, body, next_run_time FROM schedule WHERE NOT paused ORDER BY name FOR UPDATE;

-- name: schedule_set_next_runs
-- Set the next fire time of several schedules: names $1, times $2 (null: no more runs).
UPDATE schedule SET next_run_time = v.next_run_time
FROM unnest($1::text[], $2::bigint[]) AS v (name, next_run_time)
WHERE schedule.name = v.name;

-- name: scheduler_paused_for_round
-- Whether the whole scheduler is paused, share-locking the switch for the round's transaction.
SELECT paused FROM scheduler_state FOR SHARE;

-- name: scheduler_paused
-- Whether the whole scheduler is paused (a plain read, for pages).
SELECT paused FROM scheduler_state;

-- name: scheduler_set_paused
-- Pause or resume the whole scheduler (waits for rounds that are firing).
UPDATE scheduler_state SET paused = $1, update_time = $2;

-- name: schedule_execution_insert
-- Record one run of a schedule; a second attempt for the same fire time changes nothing.
INSERT INTO schedule_execution (schedule_name, scheduled_time, execution_time, workflow_name,
                                workflow_id, state, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (schedule_name, scheduled_time) DO NOTHING;

-- name: schedule_execution_list
-- Runs of a schedule (or of all when $1 is null), newest first.
SELECT * FROM schedule_execution WHERE $1::text IS NULL OR schedule_name = $1
ORDER BY scheduled_time DESC OFFSET $2 LIMIT $3;

-- name: virtual_time_busy
-- Whether anything can run now without time passing: a pollable task or a task with a worker.
SELECT EXISTS (SELECT 1 FROM task_queue WHERE visible_at <= $1)
    OR EXISTS (SELECT 1 FROM task WHERE status = 'IN_PROGRESS' AND body ? 'queueName');

-- name: health_check
-- Proves the database answers and accepts writes.
SELECT version(), current_setting('transaction_read_only');

-- name: oldest_snapshot_age
-- Seconds since the oldest transaction in this database that holds a snapshot began (0 if none):
-- vacuum cannot remove rows that snapshot may still see, whichever table they are in.
SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
FROM pg_stat_activity
WHERE datname = current_database() AND backend_xmin IS NOT NULL AND pid <> pg_backend_pid();

-- name: database_time_us
-- The database's wall-clock time now (not the transaction's start), in epoch microseconds.
SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;

-- name: connection_limit
-- How many connections clients other than superusers may open.
SELECT current_setting('max_connections')::int
       - current_setting('superuser_reserved_connections')::int;

-- name: api_key_insert
-- Store a new API key (only the hash of its secret).
INSERT INTO api_key (key_id, name, role, secret_hash, generation, task_types, domains,
                     created_ms, last_used_ms, revoked_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: api_key_list
-- Every API key, oldest first (the key ring loads them all; there are few).
SELECT key_id, name, role, secret_hash, generation, task_types, domains,
       created_ms, last_used_ms, revoked_ms
FROM api_key ORDER BY created_ms, key_id;

-- name: api_key_replace_secret
-- Rotate an active key: a new secret hash and a new generation, which ends older tokens.
UPDATE api_key SET secret_hash = $2, generation = generation + 1
WHERE key_id = $1 AND revoked_ms IS NULL
RETURNING key_id, name, role, secret_hash, generation, task_types, domains,
          created_ms, last_used_ms, revoked_ms;

-- name: api_key_revoke
-- Revoke a key (keeping the first revocation time when revoked twice).
UPDATE api_key SET revoked_ms = coalesce(revoked_ms, $2) WHERE key_id = $1
RETURNING key_id, name, role, secret_hash, generation, task_types, domains,
          created_ms, last_used_ms, revoked_ms;

-- name: api_key_record_use
-- Move keys' last-used times forward, never back (several servers write them).
UPDATE api_key k SET last_used_ms = greatest(coalesce(k.last_used_ms, 0), u.at)
FROM unnest($1::text[], $2::bigint[]) AS u(key_id, at) WHERE k.key_id = u.key_id;

-- name: token_signing_key_create
-- The token signing key, made by the first server that needs it.
INSERT INTO token_signing_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING;

-- name: token_signing_key_get
-- The token signing key every server signs and checks tokens with.
SELECT secret FROM token_signing_key WHERE id = 1;

-- name: audit_insert
-- One entry of the audit trail; its id, for the workflows it touched.
INSERT INTO audit_log (at_ms, principal, role, action, target, status, via)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id;

-- name: audit_subjects_insert
-- The workflows one audited action touched.
INSERT INTO audit_subject (audit_id, workflow_id)
SELECT $1, w FROM unnest($2::text[]) AS w ON CONFLICT DO NOTHING;

-- name: audit_list
-- The audit trail, newest first, a page before an entry id (or from the newest).
SELECT a.id, a.at_ms, a.principal, a.role, a.action, a.target, a.status, a.via,
       coalesce(
           (SELECT array_agg(s.workflow_id ORDER BY s.workflow_id)
            FROM audit_subject s WHERE s.audit_id = a.id),
           '{}'
       ) AS workflow_ids
FROM audit_log a
WHERE $2::bigint IS NULL OR a.id < $2 ORDER BY a.id DESC LIMIT $1;

-- name: audit_of_workflow
-- What was done to one workflow, newest first (without the other workflows a bulk action named).
SELECT a.id, a.at_ms, a.principal, a.role, a.action, a.target, a.status, a.via,
       ARRAY[s.workflow_id] AS workflow_ids
FROM audit_subject s JOIN audit_log a ON a.id = s.audit_id
WHERE s.workflow_id = $1 ORDER BY s.audit_id DESC LIMIT $2;

-- name: workflow_change_mark
-- Something that changes whenever a run or any of its tasks does (a live page's "anything new?").
SELECT w.revision::text || '.' || coalesce(t.total, 0)::text || '.' || coalesce(t.count, 0)::text
FROM workflow w
LEFT JOIN LATERAL (
    SELECT sum(revision) AS total, count(*) AS count FROM task WHERE workflow_id = w.workflow_id
) t ON true
WHERE w.workflow_id = $1;

-- name: generated_executions_insert
-- Benchmark data: finished and running executions $1..$2 of one definition ($3, named $4 v$5) in
-- the rows workflow_insert writes, run g started $7 ms before run g-1, run 1 at $6; 90 % COMPLETED,
-- 6 % RUNNING, 2 % FAILED, 2 % TERMINATED.
INSERT INTO workflow (workflow_id, name, version, status, correlation_id, priority,
                      parent_workflow_id, create_time, update_time, end_time, definition_id, body)
SELECT gen_random_uuid()::text, $4, $5, s.status, 'order-' || g, 0, NULL,
       $6 - g * $7,
       $6 - g * $7 + CASE WHEN s.status = 'RUNNING' THEN 0 ELSE 5000 END,
       CASE WHEN s.status = 'RUNNING' THEN 0 ELSE $6 - g * $7 + 5000 END,
       $3,
       jsonb_build_object(
           'input', jsonb_build_object('customer', 'customer-' || g, 'amount', g % 997),
           'output', CASE WHEN s.status = 'COMPLETED'
                          THEN jsonb_build_object('invoice', 'inv-' || g) ELSE '{}'::jsonb END,
           'variables', '{}'::jsonb,
           'taskToDomain', '{}'::jsonb,
           'failedReferenceTaskNames', '[]'::jsonb,
           'failedTaskNames', '[]'::jsonb,
           'lastRetriedTime', 0)
       || CASE WHEN s.status IN ('FAILED', 'TERMINATED')
               THEN jsonb_build_object('reasonForIncompletion', 'generated ' || lower(s.status))
               ELSE '{}'::jsonb END
FROM generate_series($1::bigint, $2::bigint) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g % 100 < 6 THEN 'RUNNING' WHEN g % 100 < 8 THEN 'FAILED'
                WHEN g % 100 < 10 THEN 'TERMINATED' ELSE 'COMPLETED' END AS status
) s;

-- name: generated_settle
-- After generating: statistics and the visibility map as autovacuum would leave them.
VACUUM (ANALYZE) workflow;

-- name: table_statistics_stale
-- Which of the tables $1 changed by more than $2 rows plus $3 of their size since their last
-- ANALYZE (autovacuum's own rule), as the statistics system last saw it, and are left to us:
-- under $4 rows (cheap to analyze, and a few thousand rows change their plans most), or not
-- looked after by autovacuum. A table being vacuumed now is left alone.
SELECT s.relname::text AS table_name
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.relid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)
  AND s.n_mod_since_analyze > $2 + $3 * greatest(c.reltuples, 0)
  AND (greatest(c.reltuples, 0) < $4
       OR current_setting('autovacuum') = 'off'
       OR coalesce(c.reloptions, '{}') @> ARRAY['autovacuum_enabled=false'])
  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_vacuum v WHERE v.relid = s.relid)
ORDER BY s.relname;

-- name: table_statistics_lock
-- One server at a time refreshes statistics; the others skip the round (held until commit).
SELECT pg_try_advisory_xact_lock(hashtextextended('conductor:table-statistics', 0));

-- name: table_statistics_lock_timeout
-- ANALYZE waits this little for its table lock, well under deadlock_timeout (1 s): a lock
-- request that waits that long for an autovacuum makes PostgreSQL cancel the autovacuum.
SET LOCAL lock_timeout = '100ms';

-- name: timer_count_due_before
-- Timers due by $1 that will fire (kinds $3 guard deadlines and are left out), counted up to $2.
SELECT count(*) FROM (
    SELECT 1 FROM timer WHERE fire_at <= $1 AND kind <> ALL($3::text[]) LIMIT $2
) AS due;

-- name: workflow_running_counts
-- Running and paused workflows per type (the partial index workflow_active_idx holds exactly
-- them), for the /metrics gauges.
SELECT name, status, count(*)::int AS running FROM workflow
WHERE status IN ('RUNNING', 'PAUSED') GROUP BY name, status;

-- name: task_in_progress_counts_by_type
-- Tasks IN_PROGRESS per task type. Only running workflows can have one, so the scan starts from
-- workflow_active_idx and stays off the (much larger) finished history; no index on task.status,
-- which would cost every task update its HOT path.
SELECT t.task_type, count(*)::int AS in_progress
FROM workflow w JOIN task t ON t.workflow_id = w.workflow_id
WHERE w.status IN ('RUNNING', 'PAUSED') AND t.status = 'IN_PROGRESS'
GROUP BY t.task_type;

-- name: timer_record_failure
-- Count a failed firing of the timer still holding the claim $2; returns the failures so far
-- (no row: it was fired, dropped or re-armed meanwhile).
UPDATE timer SET failures = failures + 1 WHERE timer_key = $1 AND fire_at = $2
RETURNING failures;
