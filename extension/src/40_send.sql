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

COMMENT ON FUNCTION pgjobq.send(text, jsonb, jsonb, interval, timestamptz, integer, boolean) IS 'Send one job; returns its id';
COMMENT ON FUNCTION pgjobq.send_batch(text, jsonb[], jsonb[], interval, timestamptz, integer, boolean) IS 'Send many jobs in one statement; returns their ids in order';
