-- pgjobq 1.0: a durable job queue inside PostgreSQL.
--
-- This script is what CREATE EXTENSION runs and what a reviewer reads. Sections, in order:
--   types; tables and indexes; internal helpers; public API (README order); comments;
--   pg_extension_config_dump.
--
-- Conventions: every object is schema-qualified; functions are SECURITY INVOKER; time comes only
-- from pgjobq.now(); expected outcomes (a stale lease) are return values, misuse raises with an
-- SQLSTATE, a DETAIL or HINT where it helps. Our own SQLSTATEs (class PJ):
--   PJ001 queue does not exist      PJ002 queue already exists
--   PJ003 queue is full (max_size)  PJ004 job does not exist
--   PJ005 queue still has jobs (drop without force)
-- Standard ones: 22004 NULL where a value is required, 22023 invalid parameter value,
-- 54000 value or batch too large.

\echo Use "CREATE EXTENSION pgjobq" to load this file. \quit

------------------------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------------------------

-- job_state is the life of a job. Live jobs (table pgjobq.job) are scheduled, available, leased
-- or retrying; finished jobs are completed or cancelled (pgjobq.job_archive) or dead
-- (pgjobq.dead_letter).
CREATE TYPE pgjobq.job_state AS ENUM
    ('scheduled', 'available', 'leased', 'retrying', 'completed', 'dead', 'cancelled');

------------------------------------------------------------------------------------------------
-- Tables and indexes
------------------------------------------------------------------------------------------------

CREATE SEQUENCE pgjobq.queue_id_seq AS integer;

-- queue holds one row per queue with its settings. Jobs refer to it by queue_id without a
-- foreign key: a foreign key would take a KEY SHARE lock on this row for every send, and many
-- concurrent senders locking one row is slow (multixacts). The API keeps the two consistent.
CREATE TABLE pgjobq.queue (
    queue_id              integer     PRIMARY KEY DEFAULT nextval('pgjobq.queue_id_seq'),
    name                  text        NOT NULL UNIQUE,
    lease_duration        interval    NOT NULL,
    max_attempts          integer     NOT NULL,
    backoff_base          interval    NOT NULL,
    backoff_max           interval    NOT NULL,
    backoff_jitter        float8      NOT NULL,
    retention             interval    NOT NULL,
    dead_letter_retention interval,
    max_size              bigint,
    -- receivers_waiting is set by a receive that found nothing and cleared by the first send
    -- after it, which then sends the wake-up NOTIFY (see pgjobq._wake).
    receivers_waiting     boolean     NOT NULL DEFAULT false,
    -- senders_waiting is set by pgjobq.wait_for_space on a full queue and cleared by the first
    -- finish after it, which sends NOTIFY pgjobq_space (see pgjobq._freed).
    senders_waiting       boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL
) WITH (fillfactor = 50);
ALTER SEQUENCE pgjobq.queue_id_seq OWNED BY pgjobq.queue.queue_id;

CREATE SEQUENCE pgjobq.job_id_seq;

-- job holds live jobs only: scheduled, available, leased or retrying. Finished jobs leave it, so
-- its indexes stay as small as the work in flight. Every index is partial on state, so a job
-- version enters only the index of the state it is in. Payload, attributes of leased jobs and
-- the attempt history are in no index.
CREATE TABLE pgjobq.job (
    id                bigint      PRIMARY KEY DEFAULT nextval('pgjobq.job_id_seq'),
    run_at            timestamptz NOT NULL,   -- when it is (or was) due
    created_at        timestamptz NOT NULL,
    leased_at         timestamptz,
    lease_expires_at  timestamptz,
    queue_id          integer     NOT NULL,
    attempts          integer     NOT NULL DEFAULT 0,   -- deliveries so far
    priority          smallint    NOT NULL DEFAULT 0,
    notify_completion boolean     NOT NULL DEFAULT false,
    state             pgjobq.job_state NOT NULL,
    lease_token       uuid,
    payload           jsonb       NOT NULL,
    attributes        jsonb       NOT NULL DEFAULT '{}',
    errors            jsonb       NOT NULL DEFAULT '[]', -- attempt history, oldest first
    CONSTRAINT job_live_state CHECK (state IN ('scheduled', 'available', 'leased', 'retrying')),
    CONSTRAINT job_lease_consistent CHECK ((state = 'leased') = (lease_token IS NOT NULL))
) WITH (fillfactor = 80,
        autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
        autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0);
ALTER SEQUENCE pgjobq.job_id_seq OWNED BY pgjobq.job.id;

-- Receive order: priority first, then send order.
CREATE INDEX job_available_idx ON pgjobq.job (queue_id, priority DESC, id)
    WHERE state = 'available';
-- Delayed and backing-off jobs, found by due time.
CREATE INDEX job_due_idx ON pgjobq.job (queue_id, run_at)
    WHERE state IN ('scheduled', 'retrying');
-- Leased jobs by expiry, to reclaim expired leases and for next_due. A heartbeat moves the job
-- within it (not a HOT update); heartbeats come every third of a lease, receives far more often,
-- and this keeps the reclaim probe a range scan of what has expired rather than of all leases.
CREATE INDEX job_leased_idx ON pgjobq.job (queue_id, lease_expires_at)
    WHERE state = 'leased';
-- Attribute filters on receive; jobs without attributes stay out of it.
CREATE INDEX job_attributes_idx ON pgjobq.job USING gin (attributes jsonb_path_ops)
    WHERE state = 'available' AND attributes <> '{}';

-- job_archive holds completed (and, later, cancelled) jobs until their queue's retention passes
-- and pgjobq.maintain() deletes them. Insert-only apart from that delete.
CREATE TABLE pgjobq.job_archive (
    id          bigint      PRIMARY KEY,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    queue_id    integer     NOT NULL,
    attempts    integer     NOT NULL,
    priority    smallint    NOT NULL,
    state       pgjobq.job_state NOT NULL CHECK (state IN ('completed', 'cancelled')),
    payload     jsonb       NOT NULL,
    attributes  jsonb       NOT NULL,
    result      jsonb,
    errors      jsonb       NOT NULL
) WITH (autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX job_archive_finished_idx ON pgjobq.job_archive (queue_id, finished_at);

-- dead_letter holds jobs that used up their attempts, through failures or expired leases,
-- with their payload, attributes and attempt history, until redriven or purged.
CREATE TABLE pgjobq.dead_letter (
    id                bigint      PRIMARY KEY,
    created_at        timestamptz NOT NULL,
    died_at           timestamptz NOT NULL,
    queue_id          integer     NOT NULL,
    attempts          integer     NOT NULL,
    priority          smallint    NOT NULL,
    notify_completion boolean     NOT NULL,
    reason            text        NOT NULL,
    payload           jsonb       NOT NULL,
    attributes        jsonb       NOT NULL,
    errors            jsonb       NOT NULL
);
CREATE INDEX dead_letter_died_idx ON pgjobq.dead_letter (queue_id, died_at);

-- queue_size counts the live jobs of bounded queues (max_size set) without counting rows: live =
-- sent (shard 0) - sum(done) over the shards. Senders add to sent under shard 0's row lock, so
-- two senders cannot both take the last free place; finishing jobs add to the done of one of
-- shards 1-15 (by backend), so finishing does not queue behind senders. Uncommitted finishes are not
-- counted yet, so the count is never below the truth: a bound is never overshot.
CREATE TABLE pgjobq.queue_size (
    queue_id integer NOT NULL,
    shard    integer NOT NULL,
    sent     bigint  NOT NULL DEFAULT 0,
    done     bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, shard)
) WITH (fillfactor = 50);

------------------------------------------------------------------------------------------------
-- Internal helpers (names start with an underscore; not part of the API)
------------------------------------------------------------------------------------------------

-- now is the only clock of pgjobq: the transaction's start time, or the frozen time a test sets
-- with SET pgjobq.now = '...'. Every lease and schedule decision uses it.
CREATE FUNCTION pgjobq.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(nullif(current_setting('pgjobq.now', true), '')::timestamptz,
                    transaction_timestamp())
$$;

-- _queue returns the queue named queue, or raises PJ001.
CREATE FUNCTION pgjobq._queue(queue text) RETURNS pgjobq.queue
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    IF _queue.queue IS NULL THEN
        RAISE EXCEPTION 'queue must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.name = _queue.queue;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', _queue.queue
            USING ERRCODE = 'PJ001', HINT = 'Create it with pgjobq.create_queue().';
    END IF;
    RETURN q;
END
$$;

-- _lock_key is the first half of the advisory lock keys pgjobq takes (the second is a queue_id).
CREATE FUNCTION pgjobq._lock_key() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 1886020209 $$;  -- "pjbq" in ASCII

-- _check_queue validates a queue row's name and settings and raises 22023 on the first bad one.
CREATE FUNCTION pgjobq._check_queue(q pgjobq.queue) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF q.name IS NULL THEN
        RAISE EXCEPTION 'queue must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF q.name !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid queue name "%"', q.name USING ERRCODE = '22023',
            HINT = 'Use 1 to 63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit.';
    END IF;
    IF q.lease_duration IS NULL OR q.lease_duration < interval '1 second'
       OR q.lease_duration > interval '7 days' THEN
        RAISE EXCEPTION 'lease_duration must be between 1 second and 7 days, got %',
            coalesce(q.lease_duration::text, 'NULL') USING ERRCODE = '22023',
            HINT = 'For longer jobs, extend the lease while working (pgjobq.extend).';
    END IF;
    IF q.max_attempts IS NULL OR q.max_attempts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 1000, got %',
            coalesce(q.max_attempts::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.backoff_base IS NULL OR q.backoff_base < interval '0'
       OR q.backoff_max IS NULL OR q.backoff_max < q.backoff_base
       OR q.backoff_max > interval '30 days' THEN
        RAISE EXCEPTION 'backoff must satisfy 0 <= backoff_base <= backoff_max <= 30 days, got base % and max %',
            coalesce(q.backoff_base::text, 'NULL'), coalesce(q.backoff_max::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF q.backoff_jitter IS NULL OR NOT (q.backoff_jitter BETWEEN 0 AND 1) THEN
        RAISE EXCEPTION 'backoff_jitter must be between 0 and 1, got %',
            coalesce(q.backoff_jitter::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.retention IS NULL OR q.retention < interval '0' THEN
        RAISE EXCEPTION 'retention must be zero or positive, got %',
            coalesce(q.retention::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.dead_letter_retention <= interval '0' THEN
        RAISE EXCEPTION 'dead_letter_retention must be positive or NULL (keep forever), got %',
            q.dead_letter_retention USING ERRCODE = '22023';
    END IF;
    IF q.max_size < 1 THEN
        RAISE EXCEPTION 'max_size must be positive or NULL (unbounded), got %', q.max_size
            USING ERRCODE = '22023';
    END IF;
END
$$;

-- _check_lease validates a per-call lease duration (NULL means the queue's).
CREATE FUNCTION pgjobq._check_lease(lease_duration interval) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF lease_duration < interval '1 second' OR lease_duration > interval '7 days' THEN
        RAISE EXCEPTION 'lease_duration must be between 1 second and 7 days, got %', lease_duration
            USING ERRCODE = '22023';
    END IF;
END
$$;

-- _check_leases validates the parallel id and lease token arrays of the bulk functions.
CREATE FUNCTION pgjobq._check_leases(ids bigint[], lease_tokens uuid[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF ids IS NULL OR lease_tokens IS NULL THEN
        RAISE EXCEPTION 'ids and lease_tokens must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF array_position(ids, NULL) IS NOT NULL OR array_position(lease_tokens, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ids and lease_tokens must not contain NULL' USING ERRCODE = '22004';
    END IF;
    IF cardinality(ids) <> cardinality(lease_tokens) THEN
        RAISE EXCEPTION 'ids and lease_tokens must have the same length, got % and %',
            cardinality(ids), cardinality(lease_tokens) USING ERRCODE = '22023';
    END IF;
    IF cardinality(ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per call, got %', cardinality(ids)
            USING ERRCODE = '54000';
    END IF;
END
$$;

-- _attempt_entry is one entry of a job's attempt history.
CREATE FUNCTION pgjobq._attempt_entry(attempt integer, outcome text, error text, at timestamptz)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_build_object('attempt', attempt, 'outcome', outcome, 'at', at,
                              'error', left(error, 8192))
$$;

-- _backoff is the delay before retry number attempt+1: backoff_base * 2^(attempt-1), capped at
-- backoff_max, then shortened by a random fraction of up to backoff_jitter.
CREATE FUNCTION pgjobq._backoff(q pgjobq.queue, attempt integer) RETURNS interval
LANGUAGE sql VOLATILE
AS $$
    SELECT make_interval(secs =>
        least(extract(epoch FROM q.backoff_max),
              extract(epoch FROM q.backoff_base) * 2 ^ least(greatest(attempt - 1, 0), 60))
        * (1 - q.backoff_jitter * random()))
$$;

-- _wake sends the wake-up NOTIFY for queue q if some receiver found it empty since the last
-- wake-up, and clears that mark. A send pays for a NOTIFY (which takes a cluster-wide lock at
-- commit) only when a receiver is waiting; under load receivers are busy and nobody notifies.
-- SKIP LOCKED: senders never wait for each other over the mark.
CREATE FUNCTION pgjobq._wake(q pgjobq.queue) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pgjobq.queue AS w
                    WHERE w.queue_id = q.queue_id AND w.receivers_waiting) THEN
        RETURN;  -- the hot path under load: nobody waits, nothing to pay
    END IF;
    UPDATE pgjobq.queue AS qq SET receivers_waiting = false
     WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                           WHERE w.queue_id = q.queue_id AND w.receivers_waiting
                             FOR UPDATE SKIP LOCKED);
    -- Notify even when another sender holds the row to clear the mark: it may yet roll back.
    PERFORM pg_notify('pgjobq_wake', q.name);
END
$$;

-- _notify_done sends the completion NOTIFY for each finished job that asked for one.
CREATE FUNCTION pgjobq._notify_done(ids bigint[], state pgjobq.job_state) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM pg_notify('pgjobq_done', i::text || ':' || state::text) FROM unnest(ids) AS i;
END
$$;

-- _take_space counts n more live jobs of queue q, or raises PJ003 if that would exceed its
-- max_size; nothing for an unbounded queue. The row lock on shard 0 is held until commit, so
-- concurrent senders of a bounded queue take places one after another.
CREATE FUNCTION pgjobq._take_space(q pgjobq.queue, n bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    live bigint;
BEGIN
    IF q.max_size IS NULL THEN
        RETURN;
    END IF;
    UPDATE pgjobq.queue_size AS s SET sent = s.sent + n
     WHERE s.queue_id = q.queue_id AND s.shard = 0
       AND s.sent + n - (SELECT sum(d.done) FROM pgjobq.queue_size AS d
                          WHERE d.queue_id = q.queue_id) <= q.max_size;
    IF NOT FOUND THEN
        SELECT max(s.sent) - sum(s.done) INTO live FROM pgjobq.queue_size AS s
         WHERE s.queue_id = q.queue_id;
        IF live IS NULL THEN
            RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
                DETAIL = 'It was dropped while the send ran.';
        END IF;
        RAISE EXCEPTION 'queue "%" is full', q.name USING ERRCODE = 'PJ003',
            DETAIL = format('max_size is %s; it holds %s jobs and the send adds %s.', q.max_size, live, n),
            HINT = 'Retry when jobs finish: pgjobq.wait_for_space() and NOTIFY pgjobq_space tell when.';
    END IF;
END
$$;

-- _freed counts jobs that left bounded queues (one queue_ids element per job) and wakes senders
-- waiting for space in them.
CREATE FUNCTION pgjobq._freed(queue_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    name text;
BEGIN
    UPDATE pgjobq.queue_size AS s SET done = s.done + f.n
      FROM (SELECT u.queue_id, count(*) AS n
              FROM unnest(queue_ids) AS u(queue_id)
              JOIN pgjobq.queue AS q ON q.queue_id = u.queue_id AND q.max_size IS NOT NULL
             GROUP BY u.queue_id) AS f
     WHERE s.queue_id = f.queue_id AND s.shard = 1 + pg_backend_pid() % 15;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR name IN
        UPDATE pgjobq.queue AS qq SET senders_waiting = false
         WHERE qq.queue_id IN (SELECT w.queue_id FROM pgjobq.queue AS w
                                WHERE w.queue_id = ANY (queue_ids) AND w.senders_waiting
                                  FOR UPDATE SKIP LOCKED)
        RETURNING qq.name
    LOOP
        PERFORM pg_notify('pgjobq_space', name);
    END LOOP;
END
$$;

-- _recount sets the live-job count of queue queue_id from the rows: after max_size is set, and
-- from pgjobq.maintain() to undo drift (finishes not counted while the queue was unbounded).
CREATE FUNCTION pgjobq._recount(queue_id integer) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    -- Wait for senders in flight (even those that started while the queue was unbounded) and
    -- lock out new ones; the count then runs with a snapshot taken after the locks.
    PERFORM pg_advisory_xact_lock(pgjobq._lock_key(), _recount.queue_id);
    PERFORM 1 FROM pgjobq.queue_size AS s WHERE s.queue_id = _recount.queue_id AND s.shard = 0
        FOR UPDATE;
    UPDATE pgjobq.queue_size AS s
       SET sent = (SELECT count(*) FROM pgjobq.job AS j WHERE j.queue_id = _recount.queue_id)
                + (SELECT sum(d.done) FROM pgjobq.queue_size AS d WHERE d.queue_id = _recount.queue_id)
     WHERE s.queue_id = _recount.queue_id AND s.shard = 0;
END
$$;

-- _bury moves leased jobs ids to the dead letter table, recording outcome and error as their
-- last attempt (an expired lease at the time it expired). Completion waiters are notified.
CREATE FUNCTION pgjobq._bury(ids bigint[], outcome text, error text, t timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    notify    bigint[];
    queue_ids integer[];
BEGIN
    WITH gone AS (
        DELETE FROM pgjobq.job AS j WHERE j.id = ANY (ids) RETURNING j.*
    ), buried AS (
        INSERT INTO pgjobq.dead_letter (id, created_at, died_at, queue_id, attempts, priority,
                                        notify_completion, reason, payload, attributes, errors)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, g.notify_completion,
               outcome, g.payload, g.attributes,
               g.errors || pgjobq._attempt_entry(g.attempts, outcome, error,
                   CASE WHEN outcome = 'lease_expired' THEN g.lease_expires_at ELSE t END)
          FROM gone AS g
        RETURNING dead_letter.id, dead_letter.queue_id, dead_letter.notify_completion
    )
    SELECT array_agg(b.id) FILTER (WHERE b.notify_completion), array_agg(b.queue_id)
      INTO notify, queue_ids FROM buried AS b;
    PERFORM pgjobq._notify_done(notify, 'dead');
    PERFORM pgjobq._freed(queue_ids);
END
$$;

-- _promote makes due delayed or retrying jobs of queue q available and reclaims expired
-- leases: a job whose lease expired is available again, or dead if that was its last attempt.
-- Both are index range probes that find nothing when nothing is due.
CREATE FUNCTION pgjobq._promote(q pgjobq.queue, t timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    exhausted bigint[];
BEGIN
    -- = ANY (ARRAY(...)) keeps the plan on the primary key whatever the row estimate.
    UPDATE pgjobq.job AS j SET state = 'available'
     WHERE j.id = ANY (ARRAY(SELECT d.id FROM pgjobq.job AS d
                              WHERE d.queue_id = q.queue_id AND d.state IN ('scheduled', 'retrying')
                                AND d.run_at <= t
                              ORDER BY d.run_at LIMIT 1000
                                FOR UPDATE SKIP LOCKED));

    WITH expired AS (
        SELECT d.id, d.attempts FROM pgjobq.job AS d
         WHERE d.queue_id = q.queue_id AND d.state = 'leased' AND d.lease_expires_at <= t
         ORDER BY d.lease_expires_at LIMIT 1000
           FOR UPDATE SKIP LOCKED
    ), retried AS (
        UPDATE pgjobq.job AS j
           SET state = 'available', lease_token = NULL, leased_at = NULL, lease_expires_at = NULL,
               errors = j.errors || pgjobq._attempt_entry(j.attempts, 'lease_expired', NULL,
                                                          j.lease_expires_at)
          FROM expired AS e
         WHERE j.id = e.id AND e.attempts < q.max_attempts
    )
    SELECT array_agg(e.id) INTO exhausted FROM expired AS e WHERE e.attempts >= q.max_attempts;

    IF exhausted IS NOT NULL THEN
        PERFORM pgjobq._bury(exhausted, 'lease_expired', NULL, t);
    END IF;
END
$$;

-- _complete acks leased jobs: each (id, token) pair whose token is the job's current lease moves
-- the job to the archive as completed with its result. Returns the ids completed.
CREATE FUNCTION pgjobq._complete(ids bigint[], lease_tokens uuid[], results jsonb[])
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t         timestamptz := pgjobq.now();
    done      bigint[];
    notify    bigint[];
    queue_ids integer[];
BEGIN
    WITH input AS (
        SELECT u.id, u.token, u.result FROM unnest(ids, lease_tokens, results) AS u(id, token, result)
    ), gone AS (
        DELETE FROM pgjobq.job AS j USING input AS i
         WHERE j.id = i.id AND j.lease_token = i.token
        RETURNING j.*, i.result
    ), archived AS (
        INSERT INTO pgjobq.job_archive (id, created_at, finished_at, queue_id, attempts, priority,
                                        state, payload, attributes, result, errors)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, 'completed',
               g.payload, g.attributes, g.result, g.errors
          FROM gone AS g
    )
    SELECT array_agg(g.id), array_agg(g.id) FILTER (WHERE g.notify_completion), array_agg(g.queue_id)
      INTO done, notify, queue_ids FROM gone AS g;
    PERFORM pgjobq._notify_done(notify, 'completed');
    PERFORM pgjobq._freed(queue_ids);
    RETURN QUERY SELECT unnest(done);
END
$$;

------------------------------------------------------------------------------------------------
-- Public API: queues
------------------------------------------------------------------------------------------------

-- create_queue creates a queue with its settings. Raises PJ002 if it exists, 22023 on a bad name
-- or setting.
CREATE FUNCTION pgjobq.create_queue(
    queue                 text,
    lease_duration        interval DEFAULT '30 seconds',
    max_attempts          integer  DEFAULT 5,
    backoff_base          interval DEFAULT '1 second',
    backoff_max           interval DEFAULT '1 hour',
    backoff_jitter        float8   DEFAULT 0.1,
    retention             interval DEFAULT '7 days',
    dead_letter_retention interval DEFAULT NULL,
    max_size              bigint   DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    q := ROW(NULL, create_queue.queue, create_queue.lease_duration, create_queue.max_attempts,
             create_queue.backoff_base, create_queue.backoff_max, create_queue.backoff_jitter,
             create_queue.retention, create_queue.dead_letter_retention, create_queue.max_size,
             false, false, pgjobq.now());
    PERFORM pgjobq._check_queue(q);
    INSERT INTO pgjobq.queue (name, lease_duration, max_attempts, backoff_base, backoff_max,
                              backoff_jitter, retention, dead_letter_retention, max_size, created_at)
    VALUES (q.name, q.lease_duration, q.max_attempts, q.backoff_base, q.backoff_max,
            q.backoff_jitter, q.retention, q.dead_letter_retention, q.max_size, q.created_at)
    ON CONFLICT (name) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" already exists', q.name USING ERRCODE = 'PJ002',
            HINT = 'Change its settings with pgjobq.alter_queue().';
    END IF;
    INSERT INTO pgjobq.queue_size (queue_id, shard)
    SELECT qq.queue_id, g FROM pgjobq.queue AS qq, generate_series(0, 15) AS g WHERE qq.name = q.name;
END
$$;

-- alter_queue changes the settings of a queue; NULL leaves a setting unchanged. New settings
-- apply to the next decision about each job (a lease taken, a failure, a purge).
-- dead_letter_retention and max_size cannot be set back to NULL here; reset_* would be needed.
CREATE FUNCTION pgjobq.alter_queue(
    queue                 text,
    lease_duration        interval DEFAULT NULL,
    max_attempts          integer  DEFAULT NULL,
    backoff_base          interval DEFAULT NULL,
    backoff_max           interval DEFAULT NULL,
    backoff_jitter        float8   DEFAULT NULL,
    retention             interval DEFAULT NULL,
    dead_letter_retention interval DEFAULT NULL,
    max_size              bigint   DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(alter_queue.queue);
BEGIN
    q.lease_duration        := coalesce(alter_queue.lease_duration, q.lease_duration);
    q.max_attempts          := coalesce(alter_queue.max_attempts, q.max_attempts);
    q.backoff_base          := coalesce(alter_queue.backoff_base, q.backoff_base);
    q.backoff_max           := coalesce(alter_queue.backoff_max, q.backoff_max);
    q.backoff_jitter        := coalesce(alter_queue.backoff_jitter, q.backoff_jitter);
    q.retention             := coalesce(alter_queue.retention, q.retention);
    q.dead_letter_retention := coalesce(alter_queue.dead_letter_retention, q.dead_letter_retention);
    q.max_size              := coalesce(alter_queue.max_size, q.max_size);
    PERFORM pgjobq._check_queue(q);
    UPDATE pgjobq.queue AS qq
       SET lease_duration = q.lease_duration, max_attempts = q.max_attempts,
           backoff_base = q.backoff_base, backoff_max = q.backoff_max,
           backoff_jitter = q.backoff_jitter, retention = q.retention,
           dead_letter_retention = q.dead_letter_retention, max_size = q.max_size
     WHERE qq.queue_id = q.queue_id;
    IF alter_queue.max_size IS NOT NULL THEN
        PERFORM pgjobq._recount(q.queue_id);
    END IF;
END
$$;

-- drop_queue drops a queue with its finished jobs. If it still has live or dead-lettered jobs it
-- raises PJ005, unless force is true, which deletes them too.
CREATE FUNCTION pgjobq.drop_queue(queue text, force boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(drop_queue.queue);
BEGIN
    -- Wait for senders in flight; later ones find the queue gone (see send_batch).
    PERFORM pg_advisory_xact_lock(pgjobq._lock_key(), q.queue_id);
    IF NOT coalesce(drop_queue.force, false)
       AND (EXISTS (SELECT 1 FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id)
            OR EXISTS (SELECT 1 FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id)) THEN
        RAISE EXCEPTION 'queue "%" still has jobs', q.name USING ERRCODE = 'PJ005',
            DETAIL = 'Live or dead-lettered jobs would be lost.',
            HINT = 'Process or purge them first, or call pgjobq.drop_queue(queue, force => true).';
    END IF;
    DELETE FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id;
    DELETE FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id;
    DELETE FROM pgjobq.job_archive AS a WHERE a.queue_id = q.queue_id;
    DELETE FROM pgjobq.queue_size AS z WHERE z.queue_id = q.queue_id;
    DELETE FROM pgjobq.queue AS qq WHERE qq.queue_id = q.queue_id;
END
$$;

-- list_queues lists every queue with its settings and how many jobs it has in each state.
-- It counts rows, so it is for dashboards and psql, not for a hot path.
CREATE FUNCTION pgjobq.list_queues()
RETURNS TABLE (queue text, lease_duration interval, max_attempts integer,
               backoff_base interval, backoff_max interval, backoff_jitter float8,
               retention interval, dead_letter_retention interval, max_size bigint,
               scheduled bigint, available bigint, leased bigint, retrying bigint, dead bigint,
               created_at timestamptz)
LANGUAGE sql STABLE
AS $$
    SELECT q.name, q.lease_duration, q.max_attempts, q.backoff_base, q.backoff_max,
           q.backoff_jitter, q.retention, q.dead_letter_retention, q.max_size,
           coalesce(c.scheduled, 0), coalesce(c.available, 0), coalesce(c.leased, 0),
           coalesce(c.retrying, 0),
           (SELECT count(*) FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id),
           q.created_at
      FROM pgjobq.queue AS q
      LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE j.state = 'scheduled' AND j.run_at > pgjobq.now()) AS scheduled,
                 count(*) FILTER (WHERE j.state = 'available'
                                     OR (j.state IN ('scheduled', 'retrying')
                                         AND j.run_at <= pgjobq.now())) AS available,
                 count(*) FILTER (WHERE j.state = 'leased') AS leased,
                 count(*) FILTER (WHERE j.state = 'retrying' AND j.run_at > pgjobq.now()) AS retrying
            FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id
      ) AS c ON true
     ORDER BY q.name
$$;

------------------------------------------------------------------------------------------------
-- Public API: jobs
------------------------------------------------------------------------------------------------

-- send_batch sends one job per element of payloads to queue in one statement and returns their
-- ids in the same order. attributes, when given, pairs element by element with payloads. All
-- jobs share delay (or run_at), priority and notify_completion. The send joins the caller's
-- transaction: rolled back, the jobs never existed.
CREATE FUNCTION pgjobq.send_batch(
    queue             text,
    payloads          jsonb[],
    attributes        jsonb[]     DEFAULT NULL,
    delay             interval    DEFAULT NULL,
    run_at            timestamptz DEFAULT NULL,
    priority          integer     DEFAULT 0,
    notify_completion boolean     DEFAULT false
) RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q    pgjobq.queue := pgjobq._queue(send_batch.queue);
    t    timestamptz := pgjobq.now();
    due  timestamptz;
    n    integer := cardinality(send_batch.payloads);
    bad  integer;
    bad_p jsonb;
    bad_a jsonb;
BEGIN
    IF n IS NULL THEN
        RAISE EXCEPTION 'payloads must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF n = 0 THEN
        RAISE EXCEPTION 'payloads must hold at least one job' USING ERRCODE = '22023';
    END IF;
    IF n > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per send, got %', n USING ERRCODE = '54000',
            HINT = 'Split the batch.';
    END IF;
    IF send_batch.attributes IS NOT NULL AND cardinality(send_batch.attributes) <> n THEN
        RAISE EXCEPTION 'attributes must have one element per payload, got % for % payloads',
            cardinality(send_batch.attributes), n USING ERRCODE = '22023';
    END IF;
    IF send_batch.delay IS NOT NULL AND send_batch.run_at IS NOT NULL THEN
        RAISE EXCEPTION 'give delay or run_at, not both' USING ERRCODE = '22023';
    END IF;
    IF NOT isfinite(send_batch.run_at) THEN
        RAISE EXCEPTION 'run_at must be a finite time, got %', send_batch.run_at USING ERRCODE = '22023';
    END IF;
    IF send_batch.delay < interval '0' THEN
        RAISE EXCEPTION 'delay must not be negative, got %', send_batch.delay USING ERRCODE = '22023';
    END IF;
    IF send_batch.priority IS NULL OR send_batch.priority NOT BETWEEN -32768 AND 32767 THEN
        RAISE EXCEPTION 'priority must be between -32768 and 32767, got %',
            coalesce(send_batch.priority::text, 'NULL') USING ERRCODE = '22023';
    END IF;

    SELECT u.i, u.p, u.a INTO bad, bad_p, bad_a
      FROM unnest(send_batch.payloads, send_batch.attributes) WITH ORDINALITY AS u(p, a, i)
     WHERE u.p IS NULL OR u.p = 'null'::jsonb
        OR (u.a IS NOT NULL AND jsonb_typeof(u.a) <> 'object')
        OR pg_column_size(u.p) > 1048576 OR pg_column_size(u.a) > 65536
     ORDER BY u.i
     LIMIT 1;
    IF bad IS NOT NULL THEN
        IF bad_p IS NULL OR bad_p = 'null'::jsonb THEN
            RAISE EXCEPTION 'payload % must not be NULL', bad USING ERRCODE = '22004',
                HINT = 'Send {} for a job without data.';
        ELSIF jsonb_typeof(bad_a) <> 'object' THEN
            RAISE EXCEPTION 'attributes of job % must be a JSON object, got %', bad,
                jsonb_typeof(bad_a) USING ERRCODE = '22023';
        ELSIF pg_column_size(bad_p) > 1048576 THEN
            RAISE EXCEPTION 'payload % is % bytes, the limit is 1 MiB', bad,
                pg_column_size(bad_p) USING ERRCODE = '54000',
                HINT = 'Store large data elsewhere and send a reference.';
        ELSE
            RAISE EXCEPTION 'attributes of job % are % bytes, the limit is 64 KiB', bad,
                pg_column_size(bad_a) USING ERRCODE = '54000';
        END IF;
    END IF;

    due := coalesce(send_batch.run_at, t + send_batch.delay, t);
    -- Shared with other senders, exclusive with drop_queue: a job never lands in a dropped
    -- queue. The insert below runs after the lock with a new snapshot and joins the queue row,
    -- so a queue dropped meanwhile inserts nothing.
    PERFORM pg_advisory_xact_lock_shared(pgjobq._lock_key(), q.queue_id);
    PERFORM pgjobq._take_space(q, n);
    RETURN QUERY
    WITH src AS MATERIALIZED (
        SELECT nextval('pgjobq.job_id_seq') AS id, u.p, coalesce(u.a, '{}') AS a
          FROM unnest(send_batch.payloads, send_batch.attributes) WITH ORDINALITY AS u(p, a, i)
    ), ins AS (
        INSERT INTO pgjobq.job (id, run_at, created_at, queue_id, priority, notify_completion,
                                state, payload, attributes)
        SELECT s.id, due, t, qq.queue_id, send_batch.priority,
               coalesce(send_batch.notify_completion, false),
               CASE WHEN due > t THEN 'scheduled' ELSE 'available' END::pgjobq.job_state,
               s.p, s.a
          FROM src AS s JOIN pgjobq.queue AS qq ON qq.queue_id = q.queue_id
        RETURNING pgjobq.job.id
    )
    SELECT i.id FROM ins AS i ORDER BY i.id;  -- ids were drawn in payload order
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
            DETAIL = 'It was dropped while the send ran.';
    END IF;

    IF due <= t THEN
        PERFORM pgjobq._wake(q);
    END IF;
END
$$;

-- send sends one job to queue and returns its id. See send_batch for the options.
CREATE FUNCTION pgjobq.send(
    queue             text,
    payload           jsonb,
    attributes        jsonb       DEFAULT '{}',
    delay             interval    DEFAULT NULL,
    run_at            timestamptz DEFAULT NULL,
    priority          integer     DEFAULT 0,
    notify_completion boolean     DEFAULT false
) RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
    SELECT pgjobq.send_batch(queue, ARRAY[payload], ARRAY[coalesce(attributes, '{}')], delay,
                             run_at, priority, notify_completion)
$$;

-- receive leases up to max_jobs available jobs of queue, highest priority first, then oldest,
-- skipping jobs other receivers hold (FOR UPDATE SKIP LOCKED). Each delivery counts as an
-- attempt and carries a fresh lease_token that ack, nack and extend must present. A lease lasts
-- lease_duration (default: the queue's); when it expires the job is delivered again. filter, a
-- JSON object, keeps jobs whose attributes contain it. A receive that finds nothing marks the
-- queue as waited on, so the next send wakes the receivers listening on pgjobq_wake.
CREATE FUNCTION pgjobq.receive(
    queue          text,
    max_jobs       integer  DEFAULT 1,
    lease_duration interval DEFAULT NULL,
    filter         jsonb    DEFAULT NULL
) RETURNS TABLE (id bigint, lease_token uuid, payload jsonb, attributes jsonb, attempt integer,
                 priority integer, created_at timestamptz, lease_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    q       pgjobq.queue := pgjobq._queue(receive.queue);
    t       timestamptz := pgjobq.now();
    expires timestamptz;
    picked  bigint[];
    n       bigint;
BEGIN
    IF receive.max_jobs IS NULL OR receive.max_jobs < 1 THEN
        RAISE EXCEPTION 'max_jobs must be at least 1, got %', coalesce(receive.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF receive.max_jobs > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per receive, got %', receive.max_jobs
            USING ERRCODE = '54000';
    END IF;
    PERFORM pgjobq._check_lease(receive.lease_duration);
    IF jsonb_typeof(receive.filter) IS DISTINCT FROM 'object' AND receive.filter IS NOT NULL THEN
        RAISE EXCEPTION 'filter must be a JSON object, got %', jsonb_typeof(receive.filter)
            USING ERRCODE = '22023', HINT = 'Example: ''{"tenant": "acme"}''.';
    END IF;
    expires := t + coalesce(receive.lease_duration, q.lease_duration);

    PERFORM pgjobq._promote(q, t);

    -- Pick, then lease. The filtered pick is its own statement so its plan can use the GIN index.
    IF receive.filter IS NULL OR receive.filter = '{}' THEN
        picked := ARRAY(SELECT j.id FROM pgjobq.job AS j
                         WHERE j.queue_id = q.queue_id AND j.state = 'available'
                         ORDER BY j.priority DESC, j.id
                         LIMIT receive.max_jobs
                           FOR UPDATE SKIP LOCKED);
    ELSE
        picked := ARRAY(SELECT j.id FROM pgjobq.job AS j
                         WHERE j.queue_id = q.queue_id AND j.state = 'available'
                           AND j.attributes <> '{}' AND j.attributes @> receive.filter
                         ORDER BY j.priority DESC, j.id
                         LIMIT receive.max_jobs
                           FOR UPDATE SKIP LOCKED);
    END IF;

    RETURN QUERY
    WITH leased AS (
        UPDATE pgjobq.job AS j
           SET state = 'leased', lease_token = gen_random_uuid(), attempts = j.attempts + 1,
               leased_at = t, lease_expires_at = expires
         WHERE j.id = ANY (picked)
        RETURNING j.id, j.lease_token, j.payload, j.attributes, j.attempts, j.priority,
                  j.created_at, j.lease_expires_at
    )
    SELECT l.id, l.lease_token, l.payload, l.attributes, l.attempts, l.priority::integer,
           l.created_at, l.lease_expires_at
      FROM leased AS l ORDER BY l.priority DESC, l.id;

    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        UPDATE pgjobq.queue AS qq SET receivers_waiting = true
         WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                               WHERE w.queue_id = q.queue_id AND NOT w.receivers_waiting
                                 FOR UPDATE SKIP LOCKED);
    END IF;
END
$$;

-- next_due returns how long until something of queue comes due on its own: a delayed or
-- retrying job becoming available, or a lease expiring. NULL when nothing is pending. An idle
-- receiver sleeps that long at most: no notification announces those moments.
CREATE FUNCTION pgjobq.next_due(queue text) RETURNS interval
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q   pgjobq.queue := pgjobq._queue(next_due.queue);
    due timestamptz;
BEGIN
    due := least((SELECT min(j.run_at) FROM pgjobq.job AS j
                   WHERE j.queue_id = q.queue_id AND j.state IN ('scheduled', 'retrying')),
                 (SELECT min(j.lease_expires_at) FROM pgjobq.job AS j
                   WHERE j.queue_id = q.queue_id AND j.state = 'leased'));
    RETURN CASE WHEN due IS NOT NULL THEN greatest(interval '0', due - pgjobq.now()) END;
END
$$;

-- ack completes a leased job, with an optional result kept in the archive. It returns false,
-- changing nothing, if lease_token is not the job's current lease (the lease expired and the job
-- was delivered again, or the job is finished).
CREATE FUNCTION pgjobq.ack(id bigint, lease_token uuid, result jsonb DEFAULT NULL)
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$
    SELECT pgjobq._check_leases(ARRAY[id], ARRAY[lease_token]);
    SELECT EXISTS (SELECT FROM pgjobq._complete(ARRAY[id], ARRAY[lease_token], ARRAY[result]))
$$;

-- ack_many acks many leased jobs in one statement and returns the ids it completed; a job whose
-- token is stale is left out. results, when given, pairs with ids.
CREATE FUNCTION pgjobq.ack_many(ids bigint[], lease_tokens uuid[], results jsonb[] DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM pgjobq._check_leases(ids, lease_tokens);
    IF results IS NOT NULL AND cardinality(results) <> cardinality(ids) THEN
        RAISE EXCEPTION 'results must have one element per id, got % for % ids',
            cardinality(results), cardinality(ids) USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT pgjobq._complete(ids, lease_tokens, results);
END
$$;

-- nack reports that a leased job failed, keeping error in its attempt history. The job is
-- retried after retry_in, or by default after the queue's exponential backoff; if that was its
-- last attempt it goes to the dead letter table. Returns false, changing nothing, for a stale
-- lease token.
CREATE FUNCTION pgjobq.nack(id bigint, lease_token uuid, error text DEFAULT NULL,
                            retry_in interval DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t        timestamptz := pgjobq.now();
    q        pgjobq.queue;
    attempt  integer;
    qid      integer;
    due      timestamptz;
BEGIN
    PERFORM pgjobq._check_leases(ARRAY[nack.id], ARRAY[nack.lease_token]);
    IF nack.retry_in < interval '0' THEN
        RAISE EXCEPTION 'retry_in must not be negative, got %', nack.retry_in USING ERRCODE = '22023';
    END IF;
    SELECT j.attempts, j.queue_id INTO attempt, qid FROM pgjobq.job AS j
     WHERE j.id = nack.id AND j.lease_token = nack.lease_token
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.queue_id = qid;
    IF attempt >= q.max_attempts THEN
        PERFORM pgjobq._bury(ARRAY[nack.id], 'failed', nack.error, t);
    ELSE
        UPDATE pgjobq.job AS j
           SET state = 'retrying',
               run_at = t + coalesce(nack.retry_in, pgjobq._backoff(q, attempt)),
               lease_token = NULL, leased_at = NULL, lease_expires_at = NULL,
               errors = j.errors || pgjobq._attempt_entry(attempt, 'failed', nack.error, t)
         WHERE j.id = nack.id
        RETURNING j.run_at INTO due;
        IF due <= t THEN
            PERFORM pgjobq._wake(q);  -- due at once: wake a waiting receiver like a send
        END IF;
    END IF;
    RETURN true;
END
$$;

-- extend_many extends the leases of many jobs to now + lease_duration (default: each queue's)
-- and returns the jobs still held with their new expiry; stale tokens are left out.
CREATE FUNCTION pgjobq.extend_many(ids bigint[], lease_tokens uuid[],
                                   lease_duration interval DEFAULT NULL)
RETURNS TABLE (id bigint, lease_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    t timestamptz := pgjobq.now();
BEGIN
    PERFORM pgjobq._check_leases(extend_many.ids, extend_many.lease_tokens);
    PERFORM pgjobq._check_lease(extend_many.lease_duration);
    RETURN QUERY
    UPDATE pgjobq.job AS j
       SET lease_expires_at = t + coalesce(extend_many.lease_duration, q.lease_duration)
      FROM unnest(extend_many.ids, extend_many.lease_tokens) AS u(id, token), pgjobq.queue AS q
     WHERE j.id = u.id AND j.lease_token = u.token AND q.queue_id = j.queue_id
    RETURNING j.id, j.lease_expires_at;
END
$$;

-- extend extends one lease (a heartbeat) and returns the new expiry, or NULL, changing nothing,
-- if lease_token is stale.
CREATE FUNCTION pgjobq.extend(id bigint, lease_token uuid, lease_duration interval DEFAULT NULL)
RETURNS timestamptz
LANGUAGE sql VOLATILE
AS $$
    SELECT e.lease_expires_at
      FROM pgjobq.extend_many(ARRAY[id], ARRAY[lease_token], lease_duration) AS e
$$;

-- release gives a leased job back without charging the attempt: it is available again at once,
-- as if never delivered (a worker shutting down before it started the job). Returns false,
-- changing nothing, for a stale lease token.
CREATE FUNCTION pgjobq.release(id bigint, lease_token uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    PERFORM pgjobq._check_leases(ARRAY[release.id], ARRAY[release.lease_token]);
    UPDATE pgjobq.job AS j
       SET state = 'available', attempts = j.attempts - 1,
           lease_token = NULL, leased_at = NULL, lease_expires_at = NULL
     WHERE j.id = release.id AND j.lease_token = release.lease_token;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT qq.* INTO q FROM pgjobq.queue AS qq JOIN pgjobq.job AS j ON j.queue_id = qq.queue_id
     WHERE j.id = release.id;
    PERFORM pgjobq._wake(q);
    RETURN true;
END
$$;

-- get_job returns the state of a job wherever it is: live, finished or dead. A delayed or
-- retrying job whose time has come shows as available. Raises PJ004 for an unknown id (or one
-- deleted after its queue's retention).
CREATE FUNCTION pgjobq.get_job(job_id bigint)
RETURNS TABLE (id bigint, queue text, state pgjobq.job_state, priority integer, attempts integer,
               max_attempts integer, payload jsonb, attributes jsonb, result jsonb, errors jsonb,
               created_at timestamptz, run_at timestamptz, lease_expires_at timestamptz,
               finished_at timestamptz)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
    IF get_job.job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY
    SELECT j.id, q.name,
           CASE WHEN j.state IN ('scheduled', 'retrying') AND j.run_at <= pgjobq.now()
                THEN 'available'::pgjobq.job_state ELSE j.state END,
           j.priority::integer, j.attempts, q.max_attempts, j.payload, j.attributes, NULL::jsonb,
           j.errors, j.created_at, j.run_at, j.lease_expires_at, NULL::timestamptz
      FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
     WHERE j.id = get_job.job_id
    UNION ALL
    SELECT a.id, q.name, a.state, a.priority::integer, a.attempts, q.max_attempts, a.payload,
           a.attributes, a.result, a.errors, a.created_at, NULL, NULL, a.finished_at
      FROM pgjobq.job_archive AS a JOIN pgjobq.queue AS q ON q.queue_id = a.queue_id
     WHERE a.id = get_job.job_id
    UNION ALL
    SELECT d.id, q.name, 'dead', d.priority::integer, d.attempts, q.max_attempts, d.payload,
           d.attributes, NULL, d.errors, d.created_at, NULL, NULL, d.died_at
      FROM pgjobq.dead_letter AS d JOIN pgjobq.queue AS q ON q.queue_id = d.queue_id
     WHERE d.id = get_job.job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', get_job.job_id USING ERRCODE = 'PJ004',
            HINT = 'Finished jobs are kept for their queue''s retention only.';
    END IF;
END
$$;

-- wait_for_space returns how many jobs queue can take now (NULL if it is unbounded). When it is
-- full it also marks the queue as awaited, so the next job to finish there sends
-- NOTIFY pgjobq_space with the queue name: LISTEN first, call this, and wait if it says 0.
CREATE FUNCTION pgjobq.wait_for_space(queue text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q    pgjobq.queue := pgjobq._queue(wait_for_space.queue);
    free bigint;
BEGIN
    IF q.max_size IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT greatest(q.max_size - (max(s.sent) - sum(s.done)), 0) INTO free
      FROM pgjobq.queue_size AS s WHERE s.queue_id = q.queue_id;
    IF free = 0 THEN
        UPDATE pgjobq.queue AS qq SET senders_waiting = true
         WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                               WHERE w.queue_id = q.queue_id AND NOT w.senders_waiting
                                 FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN free;
END
$$;

------------------------------------------------------------------------------------------------
-- Public API: dead letters and maintenance
------------------------------------------------------------------------------------------------

-- list_dead lists up to max_jobs dead-lettered jobs of queue, oldest death first.
CREATE FUNCTION pgjobq.list_dead(queue text, max_jobs integer DEFAULT 100)
RETURNS TABLE (id bigint, reason text, attempts integer, payload jsonb, attributes jsonb,
               errors jsonb, created_at timestamptz, died_at timestamptz)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    q pgjobq.queue := pgjobq._queue(list_dead.queue);
BEGIN
    IF list_dead.max_jobs IS NULL OR list_dead.max_jobs < 1 THEN
        RAISE EXCEPTION 'max_jobs must be at least 1, got %', coalesce(list_dead.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT d.id, d.reason, d.attempts, d.payload, d.attributes, d.errors, d.created_at, d.died_at
      FROM pgjobq.dead_letter AS d
     WHERE d.queue_id = q.queue_id
     ORDER BY d.died_at, d.id
     LIMIT list_dead.max_jobs;
END
$$;

-- redrive moves dead-lettered jobs of queue (those in ids, or all when ids is NULL) back to the
-- queue as available, with a fresh set of attempts and their history kept. Returns how many
-- moved; ids that are not dead letters of queue are not moved.
CREATE FUNCTION pgjobq.redrive(queue text, ids bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(redrive.queue);
    t timestamptz := pgjobq.now();
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(pgjobq._lock_key(), q.queue_id);  -- as send_batch
    PERFORM pgjobq._take_space(q, (SELECT count(*) FROM pgjobq.dead_letter AS d
                                    WHERE d.queue_id = q.queue_id
                                      AND (redrive.ids IS NULL OR d.id = ANY (redrive.ids))));
    WITH back AS (
        DELETE FROM pgjobq.dead_letter AS d
         WHERE d.queue_id = q.queue_id AND (redrive.ids IS NULL OR d.id = ANY (redrive.ids))
        RETURNING d.*
    ), ins AS (
        INSERT INTO pgjobq.job (id, run_at, created_at, queue_id, priority, notify_completion,
                                state, payload, attributes, errors)
        SELECT b.id, t, b.created_at, b.queue_id, b.priority, b.notify_completion, 'available',
               b.payload, b.attributes, b.errors
          FROM back AS b
        RETURNING 1
    )
    SELECT count(*) INTO n FROM ins;
    IF n > 0 THEN
        PERFORM pgjobq._wake(q);
    END IF;
    RETURN n;
END
$$;

-- purge_dead deletes dead-lettered jobs of queue (those in ids, or all when ids is NULL) and
-- returns how many it deleted.
CREATE FUNCTION pgjobq.purge_dead(queue text, ids bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(purge_dead.queue);
    n bigint;
BEGIN
    DELETE FROM pgjobq.dead_letter AS d
     WHERE d.queue_id = q.queue_id AND (purge_dead.ids IS NULL OR d.id = ANY (purge_dead.ids));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- maintain deletes finished jobs older than their queue's retention and dead letters older than
-- their queue's dead_letter_retention, and returns how many rows it deleted. It also recounts the
-- live jobs of bounded queues from the rows. Run it every few
-- minutes (pg_cron, the Go worker, or any scheduler).
CREATE FUNCTION pgjobq.maintain() RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n   bigint;
    qid integer;
BEGIN
    WITH finished AS (
        DELETE FROM pgjobq.job_archive AS a USING pgjobq.queue AS q
         WHERE a.queue_id = q.queue_id AND a.finished_at < pgjobq.now() - q.retention
        RETURNING 1
    ), dead AS (
        DELETE FROM pgjobq.dead_letter AS d USING pgjobq.queue AS q
         WHERE d.queue_id = q.queue_id AND q.dead_letter_retention IS NOT NULL
           AND d.died_at < pgjobq.now() - q.dead_letter_retention
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM finished) + (SELECT count(*) FROM dead) INTO n;
    FOR qid IN SELECT q.queue_id FROM pgjobq.queue AS q WHERE q.max_size IS NOT NULL LOOP
        PERFORM pgjobq._recount(qid);
    END LOOP;
    RETURN n;
END
$$;

------------------------------------------------------------------------------------------------
-- Comments (shown by \df+ and \dt+)
------------------------------------------------------------------------------------------------

COMMENT ON FUNCTION pgjobq.now() IS 'The only clock of pgjobq: transaction time, or the value of the pgjobq.now setting';
COMMENT ON FUNCTION pgjobq.create_queue(text, interval, integer, interval, interval, float8, interval, interval, bigint) IS 'Create a queue with its settings';
COMMENT ON FUNCTION pgjobq.alter_queue(text, interval, integer, interval, interval, float8, interval, interval, bigint) IS 'Change queue settings; NULL leaves a setting unchanged';
COMMENT ON FUNCTION pgjobq.drop_queue(text, boolean) IS 'Drop a queue; refuses while it has live or dead jobs unless force';
COMMENT ON FUNCTION pgjobq.list_queues() IS 'Every queue with its settings and job counts';
COMMENT ON FUNCTION pgjobq.send(text, jsonb, jsonb, interval, timestamptz, integer, boolean) IS 'Send one job; returns its id';
COMMENT ON FUNCTION pgjobq.send_batch(text, jsonb[], jsonb[], interval, timestamptz, integer, boolean) IS 'Send many jobs in one statement; returns their ids in order';
COMMENT ON FUNCTION pgjobq.receive(text, integer, interval, jsonb) IS 'Lease up to max_jobs available jobs (priority, then age; SKIP LOCKED)';
COMMENT ON FUNCTION pgjobq.next_due(text) IS 'How long until a delayed or retrying job comes due or a lease expires; NULL if never';
COMMENT ON FUNCTION pgjobq.ack(bigint, uuid, jsonb) IS 'Complete a leased job; false if the lease token is stale';
COMMENT ON FUNCTION pgjobq.ack_many(bigint[], uuid[], jsonb[]) IS 'Complete many leased jobs; returns the ids completed';
COMMENT ON FUNCTION pgjobq.nack(bigint, uuid, text, interval) IS 'Fail a leased job: retry after backoff, or dead-letter it; false if the lease token is stale';
COMMENT ON FUNCTION pgjobq.extend(bigint, uuid, interval) IS 'Extend a lease (heartbeat); returns the new expiry, NULL if the lease token is stale';
COMMENT ON FUNCTION pgjobq.extend_many(bigint[], uuid[], interval) IS 'Extend many leases; returns the jobs still held';
COMMENT ON FUNCTION pgjobq.release(bigint, uuid) IS 'Give a leased job back without charging the attempt; false if the lease token is stale';
COMMENT ON FUNCTION pgjobq.get_job(bigint) IS 'State, attempts, errors and result of a job';
COMMENT ON FUNCTION pgjobq.wait_for_space(text) IS 'Free places of a bounded queue; when full, the next finish sends NOTIFY pgjobq_space';
COMMENT ON FUNCTION pgjobq.list_dead(text, integer) IS 'Dead-lettered jobs of a queue';
COMMENT ON FUNCTION pgjobq.redrive(text, bigint[]) IS 'Move dead-lettered jobs back to their queue';
COMMENT ON FUNCTION pgjobq.purge_dead(text, bigint[]) IS 'Delete dead-lettered jobs';
COMMENT ON FUNCTION pgjobq.maintain() IS 'Delete finished and dead jobs past their retention';
COMMENT ON TABLE pgjobq.job IS 'Live jobs: scheduled, available, leased, retrying';
COMMENT ON TABLE pgjobq.job_archive IS 'Finished jobs, kept for the queue retention';
COMMENT ON TABLE pgjobq.dead_letter IS 'Jobs that used up their attempts';

------------------------------------------------------------------------------------------------
-- search_path
------------------------------------------------------------------------------------------------

-- Every function runs with search_path = pg_catalog, pg_temp. Names of pgjobq's own objects are
-- qualified, but operators (= on job_state, @> on jsonb) are looked up through the path: without
-- this, a role that can create objects in a schema on the caller's path could slip in an operator
-- that runs with the caller's rights.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p
              WHERE p.pronamespace = 'pgjobq'::regnamespace LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$$;

------------------------------------------------------------------------------------------------
-- pg_dump keeps queues and jobs
------------------------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job_archive', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.dead_letter', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue_size', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job_id_seq', '');
